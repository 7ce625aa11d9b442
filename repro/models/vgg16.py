"""VGG16 as the paper uses it: Keras's own architecture and weights, Caffe preprocessing, 1000 ImageNet classes.

Registered as ``"vgg16"`` in :data:`repro.models.MODELS`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from repro.models.applications import build_application
from repro.models.core import ImageModel

CAFFE_BGR_MEANS = np.array([103.939, 116.779, 123.68], dtype=np.float32)


def vgg16_preprocess(raw: np.ndarray) -> np.ndarray:
    """Caffe preprocessing of ``keras.applications.vgg16``: RGB -> BGR, then subtract the ImageNet BGR means.

    Args:
        raw: ``(N, H, W, 3)`` or ``(H, W, 3)`` RGB in ``[0, 255]``. Never modified (Keras's own function mutates
            float arrays in place, so it is called on a copy).
    Returns:
        float32 array of the same shape, in VGG16 input space.
    """
    from tensorflow.keras.applications import vgg16

    return vgg16.preprocess_input(np.array(raw, dtype=np.float32, copy=True))


def build_vgg16(weights: str | Path | None = None) -> "tf.keras.Model":  # noqa: F821
    """``keras.applications.VGG16`` with ``weights`` = ``"imagenet"`` (Keras download/cache), a local ``.h5``
    path, or ``None`` / ``"random"`` (seeded random initialisation; same architecture and FLOPs, used by tests):
    :func:`repro.models.applications.build_application`, whose :class:`WeightsNotFoundError` names the file to
    download or pass (:func:`repro.models.applications.weights_help`) - one line, never a long traceback.
    """
    return build_application("VGG16", weights)


def load_vgg16(weights: str | Path | None = "imagenet") -> ImageModel:
    """VGG16 with ``weights`` as in :func:`build_vgg16` (default: the ImageNet weights)."""
    from repro.data.imagenet import class_names

    model = build_vgg16(weights)
    return ImageModel("vgg16", model, vgg16_preprocess, class_names(), conv_layer="block5_conv3")
