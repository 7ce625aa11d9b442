"""Guided Backpropagation with the paper's ReLU gradient override, inside a ``tf.function``.

At every ``Relu`` op of the network (stand-alone ReLU layers and ReLUs fused as ``activation="relu"`` in Conv2D /
Dense layers, which Keras emits as ``tf.nn.relu``) the backward pass is replaced by

    dR/dz = grad * (grad > 0) * (z > 0)

(``z`` the ReLU's input, ``grad`` the gradient arriving from above), the rule of the Appendix II snippet. The map
is the guided gradient of the target's pre-softmax logit with respect to the model-space input, *not* multiplied
by the input (Figure 2 caption: "(d), (e) and (f) consider their results as attribution scores already").

How: the override is registered under :data:`GRADIENT_NAME` (once, lazily, the first time a map is computed)
and applied with ``graph.gradient_override_map({"Relu": GRADIENT_NAME})`` while the model is traced into the
``FuncGraph`` of a ``tf.function``; the gradient is taken with ``tf.gradients``, which reads the override map
(``tf.GradientTape`` ignores it: see ``docs/methods.md``). ``appendix_code/guided_backprop.py`` runs the paper's
own snippet in a TF1 graph; the tests check both give the same maps.

Reference: Springenberg et al. 2015, "Striving for Simplicity: The All Convolutional Net"; Appendix II.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from repro.attributions._common import BatchedMethod, cached_function, select_logits
from repro.batching import batch_slices

GRADIENT_NAME = "ReproGuidedBackProp"
"""Name of the registered ReLU gradient (distinct from the appendix's "GuidedBackProp", so both can coexist)."""

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
    """Guided Backpropagation: the guided gradient of the target logit, used as the map itself.

    Args:
        batch_size: images per backward pass.
    Reference: Appendix II, "we modify the ReLU activation in the network to filter out the negative gradient".
    """

    name: ClassVar[str] = "guided_backprop"

    def attribute(self, model, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` -> ``(N, H, W, C)`` float32 guided gradients."""
        fn = cached_function(model, "guided", lambda: guided_gradient_function(model.logits_model))
        out = np.empty_like(x)
        for s in batch_slices(len(x), self.batch_size):
            out[s] = fn(x[s], targets[s].astype(np.int32)).numpy()
        return out
