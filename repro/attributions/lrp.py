"""LRP-alpha2-beta1 with Montavon et al.'s tricks, through iNNvestigate 2.1.2.

:func:`lrp_scorer` needs TF1 graph mode and runs only inside the graph worker process
(:mod:`repro.attributions.graph_process`); :func:`pixel_bounds` is plain numpy, called in the eager parent.

The analyzer (see ``docs/methods.md`` for the choice and the alternatives) is iNNvestigate's
``"lrp.sequential_preset_b"`` run on ``innvestigate.model_wo_softmax(model)`` with ``neuron_selection_mode="index"``:

* Conv2D layers: alpha-beta rule with alpha = 2, beta = 1, ``R_i = sum_j (2 z_ij^+ / z_j^+  -  z_ij^- / z_j^-) R_j``
  with ``z_ij = x_i w_ij`` split by sign (iNNvestigate's ``Alpha2Beta1Rule``, which also adds the biases to the
  denominators);
* Dense layers: epsilon rule, ``R_i = sum_j x_i w_ij / (z_j + eps * sign(z_j)) R_j`` with ``z_j = sum_i x_i w_ij
  + b_j``, ``eps = 0.1`` and ``sign(0) = +1``;
* the first layer with a kernel (the "input layer": the pixels' layer): the z^B (bounded) rule of Deep Taylor
  decomposition with the model-space pixel bounds ``l <= x <= h`` (``l = preprocess(0)``, ``h = preprocess(255)``),
  ``R_i = sum_j (x_i w_ij - l_i w_ij^+ - h_i w_ij^-) / sum_i' (x_i' w_i'j - l_i' w_i'j^+ - h_i' w_i'j^-) R_j``
  (biases ignored in the denominator);
* max pooling and flatten pass relevance along the gradient; the output relevance is the target logit ``z_t``.

With ``input_bounds=None`` the first layer keeps its type's rule (alpha2-beta1 or epsilon).

The reading ``lrp_rule`` (:mod:`repro.readings`, :data:`LRP_RULES`) selects between this default (``preset_b``) and
``alpha2beta1``: iNNvestigate's ``"lrp.alpha_2_beta_1"`` on every layer with a kernel (dense and the first layer
included, no input rule), ``R_i = sum_j (2 z_ij^+ / z_j^+  -  z_ij^- / z_j^-) R_j`` with ``z_ij = x_i w_ij``,
``z_j^+ = sum_i (z_ij)^+ + b_j`` and ``z_j^- = sum_i (z_ij)^- + b_j`` (iNNvestigate 2.1.2's ``AlphaBetaRule`` gives
its positive-weight copy of the layer ``b^+`` and its negative-weight copy ``b^-``, and each denominator adds both
copies' outputs, so each holds the whole bias), and a zero denominator replaced by ``1e-7``
(``innvestigate.backend.safe_divide``).

Reference: Montavon, Samek, Mueller, "Methods for interpreting and understanding deep neural networks", Digital
Signal Processing 73 (2018); Alber et al., "iNNvestigate neural networks!", JMLR 20 (2019).
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from repro.errors import ReproError

ANALYZERS: tuple[str, ...] = ("lrp.sequential_preset_b", "lrp.alpha_2_beta_1", "lrp.sequential_preset_b_flat")
"""iNNvestigate analyzer names this module accepts; the first is the default (see ``docs/methods.md``)."""

LRP_RULES: dict[str, dict[str, str]] = {
    "preset_b": {"analyzer": "lrp.sequential_preset_b", "input_rule": "bounded"},
    "alpha2beta1": {"analyzer": "lrp.alpha_2_beta_1", "input_rule": "none"},
}
"""Value of the reading ``lrp_rule`` (``repro.readings.READINGS``, default first) -> the constructor arguments of
:class:`repro.attributions.graph_worker.LRP` that select it: ``preset_b`` is the class's default (preset B with the
z^B input rule); ``alpha2beta1`` is the rule the paper names, alone on every layer."""


def pixel_bounds(preprocess: Callable[[np.ndarray], np.ndarray], input_shape: tuple[int, int, int]
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The model-space box ``[low, high]`` of valid pixels: ``preprocess`` of raw 0 and raw 255, element-wise.

    Args:
        preprocess: raw RGB ``[0, 255]`` -> model space, applied to ``(1, H, W, C)`` arrays.
        input_shape: ``(H, W, C)``.
    Returns:
        ``(low, high)``, each ``(H, W, C)`` float32 with ``low <= high``. For VGG16 (Caffe BGR means ``m``):
        ``low = -m``, ``high = 255 - m`` in every pixel; for ``x / 255``: 0 and 1.
    """
    a = np.asarray(preprocess(np.zeros((1, *input_shape), np.float32)), np.float32)[0]
    b = np.asarray(preprocess(np.full((1, *input_shape), 255.0, np.float32)), np.float32)[0]
    return np.minimum(a, b), np.maximum(a, b)


def _first_kernel_input_shape(keras_model) -> tuple[int, ...]:
    """Input shape (without batch) of the first layer with a kernel: where iNNvestigate applies the input rule."""
    for layer in keras_model.layers:
        if getattr(layer, "kernel", None) is not None:
            return tuple(int(d) for d in layer.input_shape[1:])
    raise ReproError(f"model {keras_model.name!r} has no layer with a kernel for LRP to explain")


def _fit_bound(bound, shape: tuple[int, ...]) -> np.ndarray:
    """A pixel bound ``(H, W, C)`` laid out like the first kernel layer's input (e.g. flattened before a Dense)."""
    bound = np.asarray(bound, np.float32)
    if bound.size == 1 or bound.shape == shape:
        return bound
    if bound.size != int(np.prod(shape)):
        raise ReproError(f"LRP input bounds of shape {bound.shape} do not fit the first layer's input {shape}")
    return bound.reshape(shape)


def _as_graph_constant(bound) -> "float | tf.Tensor":  # noqa: F821
    """A bound iNNvestigate's BoundedRule can add to a symbolic tensor: a float, or a graph constant when the bound
    varies over pixels or channels (``symbolic + ndarray`` fails in graph mode)."""
    import tensorflow as tf

    bound = np.asarray(bound, np.float32)
    if bound.size == 1 or np.all(bound == bound.flat[0]):
        return float(bound.flat[0])
    return tf.constant(bound)


def lrp_scorer(keras_model, analyzer: str = "lrp.sequential_preset_b", epsilon: float = 0.1,
               input_bounds: tuple[np.ndarray, np.ndarray] | None = None
               ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Return ``score(x, targets) -> maps``: LRP relevance of the model-space input for the target logit.

    Args:
        keras_model: a ``tf.keras`` classifier ending in a softmax, built with eager execution disabled.
        analyzer: one of :data:`ANALYZERS`.
        epsilon: the epsilon of the dense layers' rule (``sequential_preset_b*`` only; iNNvestigate default 0.1).
        input_bounds: ``(low, high)`` broadcastable to ``(H, W, C)``: apply the z^B rule to the first layer with a
            kernel. ``None`` keeps the analyzer's own rule there.
    Returns:
        A function mapping ``x`` ``(N, H, W, C)`` and ``targets`` ``(N,)`` to relevance maps ``(N, H, W, C)``
        float32.
    """
    import innvestigate

    if analyzer not in ANALYZERS:
        raise ReproError(f"unknown LRP analyzer {analyzer!r}; choose from {', '.join(ANALYZERS)}")
    kwargs: dict = {"neuron_selection_mode": "index"}
    if analyzer.startswith("lrp.sequential_preset_b"):
        kwargs["epsilon"] = float(epsilon)
    if input_bounds is not None:
        if analyzer.endswith("_flat"):
            raise ReproError(f"{analyzer} fixes the flat rule on the input layer; use input_bounds=None with it")
        shape = _first_kernel_input_shape(keras_model)
        kwargs["input_layer_rule"] = tuple(_as_graph_constant(_fit_bound(b, shape)) for b in input_bounds)
    model = innvestigate.model_wo_softmax(keras_model)
    lrp = innvestigate.create_analyzer(analyzer, model, **kwargs)
    lrp.create_analyzer_model()  # build the relevance graph now, not at the first batch
    num_classes = int(keras_model.output_shape[-1])

    def score(x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        targets = np.asarray(targets, np.int64).reshape(-1)
        bad = targets[(targets < 0) | (targets >= num_classes)]
        if bad.size:
            raise ReproError(f"lrp: target class {int(bad[0])} outside [0, {num_classes})")
        return np.asarray(lrp.analyze(np.asarray(x, np.float32), neuron_selection=targets), np.float32)

    return score
