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

Reference: Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based
Localization"; Appendix II, "We use the last convolutional layer to compute the Grad-CAM for all images".
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from repro.attributions._common import BatchedMethod, cached_function
from repro.batching import batch_slices
from repro.errors import ReproError


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

        if not model.conv_layer:
            raise ReproError(f"model {model.name!r} names no convolutional layer; Grad-CAM needs one")
        try:
            model.logits_model.get_layer(model.conv_layer)
        except ValueError:
            raise ReproError(f"model {model.name!r} has no layer {model.conv_layer!r} for Grad-CAM") from None
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
