"""Grad-CAM on the last convolutional layer through tf-keras-vis 0.8.7, upsampled to the input size.

With ``A`` ``(h, w, K)`` the output of ``model.conv_layer`` (after its ReLU; ``block5_conv3`` on VGG16, 14x14x512
at 224x224) and ``f`` the target's pre-softmax logit::

    alpha_k = (1 / (h w)) sum_{i,j} df/dA[i, j, k]          (channel weights: spatial mean of the gradients)
    cam     = ReLU(sum_k alpha_k A[:, :, k])                 (h, w)
    map     = zoom(cam, (H / h, W / w), order=1)             (H, W)

``tf_keras_vis.gradcam.Gradcam`` computes exactly this on ``model.logits_model`` (the network without its softmax,
sharing the model's layers and weights, so ``f`` is the logit; no model modifier, no clone) with
``normalize_cam=False`` (its default min-max normalisation is turned off). Its upsampling is
``scipy.ndimage.zoom(cam, (1, H/h, W/w), order=1)``: linear interpolation with corners aligned (output pixel
``o`` reads input coordinate ``o (h-1)/(H-1)``), so the upsampled map is a convex combination of neighbouring
cells and stays >= 0. The map is the score itself, not multiplied by the input; it has one value per pixel,
``(N, H, W)``.

The layer (``model.conv_layer``): the paper's choice on VGG16 (``block5_conv3``) and the embedded model's
(``conv4``) are set by their loaders; any other model gets :func:`find_gradcam_layer`'s, the last layer whose
output is a 4-D feature map ``(N, h, w, K)`` before the network pools it away (global pooling or flatten), or a
layer named by the user (``--gradcam-layer``, checked by :func:`gradcam_layer_problem`). The study records it in
``config.json`` (``gradcam_layer``).

Reference: Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
Localization"; Appendix II, "We use the last convolutional layer to compute the Grad-CAM for all images".
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from repro.attributions._common import BatchedMethod, cached_function
from repro.batching import batch_slices
from repro.errors import ReproError

SPATIAL_POOLING: tuple[str, ...] = ("MaxPooling2D", "AveragePooling2D")
"""Layer classes :func:`find_gradcam_layer` steps back over: a pooling window right after the last convolution
(VGG16's ``block5_pool``) only coarsens the map, so the layer it pools is taken, as the paper does on VGG16."""


FEATURE_MAP_ENDS: tuple[str, ...] = ("GlobalAveragePooling2D", "GlobalMaxPooling2D", "Flatten")
"""Layers that turn a feature map into a vector (``keepdims=True`` global pooling included)."""


def _rank(shape) -> int:
    return len(shape) if isinstance(shape, tuple) else -1


def _inbound_layers(layer) -> list:
    """The layers whose outputs feed ``layer`` (first call of the layer)."""
    nodes = getattr(layer, "inbound_nodes", None) or []
    if not nodes:
        return []
    tensors = nodes[0].input_tensors
    tensors = tensors if isinstance(tensors, (list, tuple)) else [tensors]
    return [t._keras_history.layer for t in tensors if hasattr(t, "_keras_history")]


def _is_feature_map(layer) -> bool:
    """A 4-D output ``(N, h, w, K)`` with ``h`` or ``w`` above 1 (a squeeze-and-excite ``(N, 1, 1, K)`` is not)."""
    shape = getattr(layer, "output_shape", None)
    if _rank(shape) != 4:
        return False
    h, w = shape[1], shape[2]
    return (h is None or h > 1) or (w is None or w > 1)


def find_gradcam_layer(keras_model, strict: bool = True) -> str | None:
    """Name of Grad-CAM's layer in ``keras_model``: the last layer whose output is a 4-D feature map
    ``(N, h, w, K)`` before the network pools it into a vector (global pooling or flatten), found by walking back
    from the output layer (:func:`_find`; when several heads merge, the last feature map in the model's layer
    order); if it is a spatial pooling layer (:data:`SPATIAL_POOLING`), the layer it pools. VGG16: ``block5_conv3``
    (as the paper); the embedded model: ``conv4``; ResNet50: ``conv5_block3_out``; MobileNetV2: ``out_relu``;
    DenseNet121: ``relu``; InceptionV3: ``mixed10``; EfficientNetB0: ``top_activation``.

    Args:
        strict: raise when there is none; otherwise return ``None`` (Grad-CAM is then refused with
            :func:`gradcam_layer_problem`'s reason).
    Raises:
        ReproError: (``strict``) no such layer, or it is a nested model (tf-keras-vis reads a layer of the outer
            model; pass ``--gradcam-layer``).
    """
    problem, name = _find(keras_model)
    if problem and strict:
        raise ReproError(f"Grad-CAM: {problem}")
    return name


def _find(keras_model) -> tuple[str | None, str | None]:
    """Walk back from the output layer along single links to the first layer with a feature map of more than one
    position; the layer is then the one feeding the earliest global pooling / flatten passed on the way (so a
    final 1x1 map, as MobileNetV2's at 32 x 32 inputs, still counts, and a squeeze-and-excite or MobileNetV3 head
    after global pooling does not); without one, the feature map reached. Then back over spatial pooling."""
    from repro.models.core import output_layer

    path, layer = [], output_layer(keras_model)
    while layer is not None and layer not in path:
        path.append(layer)
        if _is_feature_map(layer):
            break
        fed_by = _inbound_layers(layer)
        layer = fed_by[0] if len(fed_by) == 1 else None
    boundaries = [lay for lay in path if lay.__class__.__name__ in FEATURE_MAP_ENDS
                  and _rank(getattr(lay, "input_shape", None)) == 4]
    found = None
    if boundaries:
        fed_by = _inbound_layers(boundaries[-1])
        found = fed_by[0] if len(fed_by) == 1 else None
    elif path and _is_feature_map(path[-1]):
        found = path[-1]
    if found is None or found.__class__.__name__ == "InputLayer":
        # no single path back (several heads merged): the last feature map in the model's layer order
        candidates = [lay for lay in keras_model.layers
                      if lay.__class__.__name__ != "InputLayer" and _is_feature_map(lay)]
        if not candidates:
            return (f"model {keras_model.name!r} has no layer with a 4-D feature-map output (N, h, w, K) after its "
                    "input"), None
        found = candidates[-1]
    while found.__class__.__name__ in SPATIAL_POOLING:
        fed_by = [f for f in _inbound_layers(found) if f.__class__.__name__ != "InputLayer"]
        if len(fed_by) != 1 or _rank(getattr(fed_by[0], "output_shape", None)) != 4:
            break
        found = fed_by[0]
    if hasattr(found, "layers") and hasattr(found, "inputs"):  # a nested Model
        return (f"the last feature map of model {keras_model.name!r} is the output of the nested model "
                f"{found.name!r}; tf-keras-vis needs a layer of the outer model (give --gradcam-layer, or save the "
                "network without nesting)"), None
    return None, found.name


def gradcam_layer_problem(keras_model, layer_name: str | None) -> str | None:
    """Why Grad-CAM cannot use ``layer_name`` of ``keras_model`` (one line), or ``None``. With ``layer_name=None``,
    why no layer was found."""
    if not layer_name:
        return _find(keras_model)[0] or f"model {keras_model.name!r} names no layer for Grad-CAM"
    try:
        layer = keras_model.get_layer(layer_name)
    except ValueError:
        return f"model {keras_model.name!r} has no layer {layer_name!r} for Grad-CAM"
    shape = getattr(layer, "output_shape", None)
    if _rank(shape) != 4:
        return (f"layer {layer_name!r} ({layer.__class__.__name__}) has output shape {shape}; Grad-CAM needs a 4-D "
                "feature map (N, h, w, K)")
    return None


class GradCAM(BatchedMethod):
    """Grad-CAM of the target logit at ``model.conv_layer`` (tf-keras-vis 0.8.7), upsampled to ``(H, W)``.

    The ``Gradcam`` object is built once per model on ``model.logits_model`` (which shares the model's weights)
    and cached with it (:func:`~repro.attributions._common.cached_function`), reused by every instance.

    Args:
        batch_size: images per Grad-CAM call.
    Reference: Selvaraju et al. 2017; Appendix II.
    """

    name: ClassVar[str] = "gradcam"

    def _gradcam(self, model):
        return cached_function(model, "gradcam", lambda: self._build(model))

    @staticmethod
    def _build(model):
        from tf_keras_vis.gradcam import Gradcam

        problem = gradcam_layer_problem(model.keras_model, model.conv_layer)
        if problem:
            raise ReproError(f"Grad-CAM: {problem}")
        # model.logits_model is the network without its softmax, sharing layers and weights: no modifier, no clone
        return Gradcam(model.logits_model, model_modifier=None, clone=False)

    def attribute(self, model, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """``(N, H, W, C)`` -> ``(N, H, W)`` float32 upsampled class activation maps (>= 0)."""
        from tf_keras_vis.utils.scores import CategoricalScore

        gradcam = self._gradcam(model)
        out = np.empty(x.shape[:3], np.float32)
        for s in batch_slices(len(x), self.batch_size):
            cam = gradcam(CategoricalScore([int(t) for t in targets[s]]), x[s],
                          penultimate_layer=model.conv_layer, seek_penultimate_conv_layer=False,
                          normalize_cam=False)
            out[s] = np.asarray(cam, np.float32).reshape(out[s].shape)
        return out
