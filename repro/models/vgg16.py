"""VGG16 as the paper uses it: Keras's own architecture and weights, Caffe preprocessing, 1000 ImageNet classes.

Registered as ``"vgg16"`` in :data:`repro.models.MODELS`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from repro.errors import WeightsNotFoundError
from repro.models.core import ImageModel

CAFFE_BGR_MEANS = np.array([103.939, 116.779, 123.68], dtype=np.float32)
VGG16_WEIGHTS_HELP = (
    "VGG16 ImageNet weights are needed. With internet, use --weights imagenet (Keras downloads "
    "vgg16_weights_tf_dim_ordering_tf_kernels.h5 to ~/.keras/models/). Offline, copy that file to "
    "~/.keras/models/ or pass --weights /path/to/vgg16_weights_tf_dim_ordering_tf_kernels.h5."
)


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
    path, or ``None`` (random initialisation; same architecture and FLOPs, used by tests).

    Raises :class:`WeightsNotFoundError` with :data:`VGG16_WEIGHTS_HELP` when the file is missing or the
    download fails, never a long traceback.
    """
    import tensorflow as tf

    if weights is None or str(weights).lower() in ("none", "random"):
        return tf.keras.applications.VGG16(weights=None)
    if str(weights) == "imagenet":
        try:
            return tf.keras.applications.VGG16(weights="imagenet")
        except Exception as exc:  # network error, HTTP error, truncated cache file
            raise WeightsNotFoundError(f"could not download VGG16 weights ({exc.__class__.__name__}: "
                                       f"{exc}). {VGG16_WEIGHTS_HELP}") from None
    path = Path(weights).expanduser()
    if not path.is_file():
        raise WeightsNotFoundError(f"{path}: no such weights file. {VGG16_WEIGHTS_HELP}")
    try:
        return tf.keras.applications.VGG16(weights=str(path))
    except Exception as exc:
        raise WeightsNotFoundError(f"{path}: not a VGG16 weights file ({exc.__class__.__name__}: {exc}). "
                                   f"{VGG16_WEIGHTS_HELP}") from None


def load_vgg16(weights: str | Path | None = "imagenet") -> ImageModel:
    """VGG16 with ``weights`` as in :func:`build_vgg16` (default: the ImageNet weights)."""
    from repro.data.imagenet import class_names

    model = build_vgg16(weights)
    return ImageModel("vgg16", model, vgg16_preprocess, class_names(), conv_layer="block5_conv3")
