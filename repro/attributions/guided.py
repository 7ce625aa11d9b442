"""Guided Backpropagation with the paper's ReLU gradient override, inside a ``tf.function``, times the input.

At every ``Relu`` op of the network (stand-alone ReLU layers and ReLUs fused as ``activation="relu"`` in Conv2D /
Dense layers, which Keras emits as ``tf.nn.relu``) the backward pass is replaced by

    dR/dz = grad * (grad > 0) * (z > 0)

(``z`` the ReLU's input, ``grad`` the gradient arriving from above), the rule of the Appendix II snippet. This
gives ``G(x)``, the guided gradient of the target's pre-softmax logit with respect to the model-space input.

The map (setting ``variant``, the reading ``guided_backprop`` of :mod:`repro.readings`):

* ``"x_input"`` (default): ``GB(x) = G(x) * r``, guided gradient x input, with ``r`` the input of the setting
  ``input_reference`` (``"input"``: the model-space ``x``; ``"input_minus_baseline"``: ``x - model.baseline``;
  :func:`repro.attributions._common.input_factor`), as for Saliency and SmoothGrad.
* ``"plain"``: ``GB(x) = G(x)``, the guided gradient used as the map itself (``input_reference`` has no effect
  and is left out of :meth:`GuidedBackprop.params`).

Why ``x_input``: the Figure 2 caption says "grad x input is applied to (b), (c), (g), (h) and (i) to find
attribution scores, while (d), (e) and (f) consider their results as attribution scores already. Use heatmap for
(d) as the choice in [19]". [19] is GradCAM ("GradCAM [19] builds on the Class Activation Map", Section 2.1), so
(d) is GradCAM, the third method in Section 2.1's order of presentation (SM, GB, GradCAM, LRP, DeepLift, IG, SG).
Read in that order, (b) is SM and (c) is GB, which is multiplied by the input; (d)-(f) are GradCAM, LRP and
DeepLIFT, used as they are. Section 2.1 agrees: "We use grad x input as the attribution to be discussed in this
paper." Alternative (``"plain"``): the guided gradient alone, the map of Springenberg et al. and the only thing
the Appendix II snippet shows. The caption's panel labels are images that the text does not carry, and (b)-(i)
are eight panels for seven methods, so the order is inferred, not printed (``docs/methods.md``).

How: the override is registered under :data:`GRADIENT_NAME` (once, lazily, the first time a map is computed)
and applied with ``graph.gradient_override_map({"Relu": GRADIENT_NAME})`` while the model is traced into the
``FuncGraph`` of a ``tf.function``; the gradient is taken with ``tf.gradients``, which reads the override map
(``tf.GradientTape`` ignores it: see ``docs/methods.md``). ``appendix_code/guided_backprop.py`` runs the paper's
own snippet in a TF1 graph; the tests check both give the same guided gradients. The product with the input is
elementwise on the computed gradient: no extra pass.

Reference: Springenberg et al. 2015, "Striving for Simplicity: The All Convolutional Net"; Appendix II.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from repro.attributions._common import (INPUT_REFERENCES, BatchedMethod, cached_function, check_choice, input_factor,
                                        select_logits)
from repro.batching import batch_slices

GRADIENT_NAME = "ReproGuidedBackProp"
"""Name of the registered ReLU gradient (distinct from the appendix's "GuidedBackProp", so both can coexist)."""

VARIANTS: tuple[str, ...] = ("x_input", "plain")
"""Values of :class:`GuidedBackprop`'s ``variant``, the default first (the reading ``guided_backprop``)."""

_registered: list[bool] = []


def guided_relu_gradient(op, grad):
    """The Appendix II rule: pass ``grad`` where both ``grad > 0`` and the ReLU input ``> 0``, else 0."""
    import tensorflow as tf

    dtype = op.inputs[0].dtype
    return grad * tf.cast(grad > 0.0, dtype) * tf.cast(op.inputs[0] > 0.0, dtype)


def register_guided_relu() -> str:
    """Register :func:`guided_relu_gradient` under :data:`GRADIENT_NAME` (idempotent); return the name."""
    import tensorflow as tf

    if not _registered:
        try:
            tf.RegisterGradient(GRADIENT_NAME)(guided_relu_gradient)
        except KeyError:  # already registered in this process (e.g. the module was reloaded)
            pass
        _registered.append(True)
    return GRADIENT_NAME


def guided_gradient_function(logits_model):
    """A compiled ``(x (N,H,W,C), targets (N,) int32) -> guided gradient (N,H,W,C)`` for one Keras model."""
    import tensorflow as tf

    name = register_guided_relu()
    shape = tuple(logits_model.input_shape[1:])

    @tf.function(input_signature=[tf.TensorSpec((None, *shape), tf.float32), tf.TensorSpec((None,), tf.int32)])
    def guided(x, targets):
        graph = tf.compat.v1.get_default_graph()  # the tf.function's FuncGraph while tracing
        with graph.gradient_override_map({"Relu": name}):
            score = select_logits(logits_model(x, training=False), targets)
        return tf.gradients(score, x)[0]

    return guided


class GuidedBackprop(BatchedMethod):
    """Guided Backpropagation: the guided gradient of the target logit, times the input (default) or alone.

    Args:
        batch_size: images per backward pass.
        variant: one of :data:`VARIANTS`: ``"x_input"`` (guided gradient x input) or ``"plain"`` (the guided
            gradient as the map).
        input_reference: with ``variant="x_input"``, the input factor, one of
            :data:`~repro.attributions._common.INPUT_REFERENCES` (as for Saliency and SmoothGrad).
    Reference: Appendix II, "we modify the ReLU activation in the network to filter out the negative gradient";
        Figure 2 caption, "grad x input is applied to (b), (c), (g), (h) and (i)"; Section 2.1, "We use grad x
        input as the attribution to be discussed in this paper."
    """

    name: ClassVar[str] = "guided_backprop"

    def __init__(self, batch_size: int = 16, *, variant: str = "x_input", input_reference: str = "input"):
        self.variant = check_choice("variant", variant, VARIANTS)
        self.input_reference = check_choice("input_reference", input_reference, INPUT_REFERENCES)
        super().__init__(batch_size)

    def params(self) -> dict:
        """``variant`` and, for ``"x_input"``, ``input_reference`` (it does not change a ``"plain"`` map)."""
        out = super().params()
        if self.variant == "plain":
            del out["input_reference"]
        return out

    def attribute(self, model, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` -> ``(N, H, W, C)`` float32 guided gradients, times the input unless ``"plain"``."""
        fn = cached_function(model, "guided", lambda: guided_gradient_function(model.logits_model))
        r = input_factor(model, x, self.input_reference) if self.variant == "x_input" else None
        out = np.empty_like(x)
        for s in batch_slices(len(x), self.batch_size):
            g = fn(x[s], targets[s].astype(np.int32)).numpy()
            out[s] = g if r is None else g * r[s]
        return out
