"""Small, deterministic models for tests and benchmarks (no downloads, built in well under a second).

* :func:`small_cnn`: Conv2D/ReLU/MaxPooling2D/Flatten/Dense/softmax, the layer types every method supports.
* :func:`linear_classifier`: Flatten -> Dense(softmax); its logits are linear in the input, so SM, IG, SG,
  DeepLIFT and LRP coincide on it (Proposition 8) and grad x input satisfies sensitivity-n (Proposition 4).

Both use :func:`repro.models.unit_preprocess`, so the black baseline is exactly zero in model space.
"""

from __future__ import annotations

import numpy as np

from repro.models import ImageModel, unit_preprocess


def _seeded(seed: int):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    return tf


def small_cnn(input_shape=(16, 16, 3), classes: int = 4, seed: int = 0, filters: int = 8) -> ImageModel:
    """A two-block VGG-style CNN with random (seeded) weights; last conv layer is ``"conv2"``."""
    tf = _seeded(seed)
    L = tf.keras.layers
    model = tf.keras.Sequential([
        L.InputLayer(input_shape=input_shape, name="input"),
        L.Conv2D(filters, 3, padding="same", activation="relu", name="conv1"),
        L.MaxPooling2D(2, name="pool1"),
        L.Conv2D(filters, 3, padding="same", activation="relu", name="conv2"),
        L.MaxPooling2D(2, name="pool2"),
        L.Flatten(name="flatten"),
        L.Dense(16, activation="relu", name="fc1"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ], name="small_cnn")
    return ImageModel("small_cnn", model, unit_preprocess, [f"class_{i}" for i in range(classes)], "conv2")


def linear_classifier(input_shape=(8, 8, 3), classes: int = 3, seed: int = 0) -> ImageModel:
    """Flatten -> Dense(softmax) with random (seeded) weights: logits ``W x + b``."""
    tf = _seeded(seed)
    L = tf.keras.layers
    model = tf.keras.Sequential([
        L.InputLayer(input_shape=input_shape, name="input"),
        L.Flatten(name="flatten"),
        L.Dense(classes, activation="softmax", name="predictions"),
    ], name="linear")
    return ImageModel("linear", model, unit_preprocess, [f"class_{i}" for i in range(classes)], "")


def random_images(n: int, input_shape=(16, 16, 3), seed: int = 0) -> np.ndarray:
    """``n`` raw RGB images, uniform in ``[0, 255]``, float32."""
    return np.random.default_rng(seed).uniform(0, 255, size=(n, *input_shape)).astype(np.float32)
