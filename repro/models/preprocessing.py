"""How raw RGB pixels in ``[0, 255]`` become a model's input: the named modes of ``--preprocess``.

=========  ================================================================  =====================================
mode       model input                                                       black pixel (raw 0) becomes
=========  ================================================================  =====================================
``caffe``  RGB -> BGR, minus the ImageNet BGR means (VGG16, ResNet50)         ``-[103.939, 116.779, 123.68]`` (BGR)
``tf``     ``x / 127.5 - 1`` (InceptionV3, MobileNetV2, Xception)            ``-1``
``torch``  ``(x / 255 - mean) / std``, ImageNet RGB statistics (DenseNet)    ``-mean / std`` per channel
``unit``   ``x / 255`` (the embedded model)                                   ``0``
``none``   ``x`` unchanged (EfficientNet, ConvNeXt, RegNet: they rescale      ``0``
           inside the network)
=========  ================================================================  =====================================

``caffe``, ``tf`` and ``torch`` are ``keras.applications.imagenet_utils.preprocess_input`` with that ``mode``. A
``keras.applications`` network uses its own module's ``preprocess_input`` unless told otherwise
(:func:`keras_module_preprocess`); :data:`MODULE_MODES` names the mode each module's function applies (checked by
the tests, not assumed). The black baseline of the criteria is always ``preprocess(zeros)``, so it follows the
mode.

Every function here takes ``(N, H, W, 3)`` (or ``(H, W, 3)``) raw RGB and returns a new float32 array: Keras's
``preprocess_input`` modifies float arrays in place, so it is always given a copy.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from repro.errors import ReproError

PREPROCESS_MODES: tuple[str, ...] = ("caffe", "tf", "torch", "unit", "none")
"""The ``--preprocess`` choices."""

MODULE_MODES: dict[str, str] = {
    "vgg16": "caffe", "vgg19": "caffe", "resnet": "caffe", "resnet50": "caffe",
    "resnet_v2": "tf", "inception_v3": "tf", "inception_resnet_v2": "tf", "xception": "tf", "mobilenet": "tf",
    "mobilenet_v2": "tf", "nasnet": "tf",
    "densenet": "torch",
    "efficientnet": "none", "efficientnet_v2": "none", "convnext": "none", "regnet": "none", "resnet_rs": "none",
    "mobilenet_v3": "none",
}
"""``keras.applications`` module -> the mode its ``preprocess_input`` applies (for messages and the docs; the module's
own function is what runs)."""


def _keras_mode(mode: str) -> Callable[[np.ndarray], np.ndarray]:
    def preprocess(raw: np.ndarray) -> np.ndarray:
        from tensorflow.keras.applications import imagenet_utils

        return imagenet_utils.preprocess_input(np.array(raw, dtype=np.float32, copy=True), mode=mode)

    preprocess.__name__ = f"preprocess_{mode}"
    return preprocess


def _unit(raw: np.ndarray) -> np.ndarray:
    return np.asarray(raw, dtype=np.float32) / np.float32(255.0)


def _none(raw: np.ndarray) -> np.ndarray:
    return np.array(raw, dtype=np.float32, copy=True)


def preprocess_function(mode: str) -> Callable[[np.ndarray], np.ndarray]:
    """The preprocessing of ``mode`` (one of :data:`PREPROCESS_MODES`); an unknown mode lists the valid ones."""
    if mode in ("caffe", "tf", "torch"):
        return _keras_mode(mode)
    if mode == "unit":
        return _unit
    if mode == "none":
        return _none
    raise ReproError(f"unknown --preprocess {mode!r}; choose from: {', '.join(PREPROCESS_MODES)}")


def keras_module_preprocess(module: str) -> Callable[[np.ndarray], np.ndarray]:
    """``tf.keras.applications.<module>.preprocess_input``, called on a float32 copy of its input."""
    import tensorflow as tf

    function = getattr(tf.keras.applications, module).preprocess_input

    def preprocess(raw: np.ndarray) -> np.ndarray:
        return np.asarray(function(np.array(raw, dtype=np.float32, copy=True)), dtype=np.float32)

    preprocess.__name__ = f"{module}_preprocess_input"
    return preprocess
