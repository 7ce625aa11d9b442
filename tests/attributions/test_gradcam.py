"""Grad-CAM (tf-keras-vis) against the formula written out on a tiny net whose logit gradients are closed-form."""

import numpy as np
import pytest

from repro.attributions.gradcam import GradCAM
from repro.errors import ReproError
from repro.models import ImageModel, unit_preprocess


def _tiny_cam_net(seed: int = 0) -> ImageModel:
    """6x6x2 -> Conv2D(3, 3x3, same, relu) -> MaxPool 2 -> Conv2D(2, 3x3, same, relu) "conv2" (3x3x2) ->
    Flatten(18) -> Dense(3, softmax). The logits are flatten(A) @ W + b, so d logit_c / dA = W[:, c]."""
    import tensorflow as tf

    L = tf.keras.layers
    model = tf.keras.Sequential([
        L.InputLayer(input_shape=(6, 6, 2)),
        L.Conv2D(3, 3, padding="same", activation="relu", name="conv1"),
        L.MaxPooling2D(2, name="pool"),
        L.Conv2D(2, 3, padding="same", activation="relu", name="conv2"),
        L.Flatten(name="flatten"),
        L.Dense(3, activation="softmax", name="out"),
    ])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) + 0.3 for w in model.get_weights()])
    return ImageModel("tiny_cam", model, unit_preprocess, list("abc"), "conv2")


def _upsample_align_corners(cam: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear upsampling with corners aligned: output pixel o reads input coordinate o (h - 1) / (H - 1)."""
    h, w = cam.shape
    out = np.zeros(size)
    for o in range(size[0]):
        for p in range(size[1]):
            u, v = o * (h - 1) / (size[0] - 1), p * (w - 1) / (size[1] - 1)
            i, j = min(int(u), h - 2), min(int(v), w - 2)
            du, dv = u - i, v - j
            out[o, p] = ((1 - du) * (1 - dv) * cam[i, j] + (1 - du) * dv * cam[i, j + 1]
                         + du * (1 - dv) * cam[i + 1, j] + du * dv * cam[i + 1, j + 1])
    return out


def test_gradcam_equals_the_formula_on_a_tiny_net():
    import tensorflow as tf

    model = _tiny_cam_net()
    x = np.random.default_rng(2).uniform(0, 1, size=(3, 6, 6, 2)).astype(np.float32)
    targets = np.array([0, 1, 2])
    maps = GradCAM(batch_size=2)(model, x, targets)
    assert maps.shape == (3, 6, 6) and maps.dtype == np.float32
    conv = tf.keras.Model(model.keras_model.inputs, model.keras_model.get_layer("conv2").output)
    acts = conv(x).numpy()  # (3, 3, 3, 2): the forward activation A
    kernel = model.keras_model.get_layer("out").get_weights()[0].reshape(3, 3, 2, 3)  # dlogit_c/dA[i, j, k]
    nonzero = 0
    for n, c in enumerate(targets):
        alpha = kernel[:, :, :, c].mean(axis=(0, 1))  # channel weights: spatial mean of the gradients
        cam = np.maximum(np.einsum("ijk,k->ij", acts[n], alpha), 0)
        expected = _upsample_align_corners(cam, (6, 6))
        nonzero += expected.max() > 0
        np.testing.assert_allclose(maps[n], expected, rtol=0, atol=1e-5 * max(1.0, expected.max()))
    assert nonzero >= 2  # the comparison is not between all-zero maps


def test_gradcam_without_a_conv_layer_is_a_clear_error():
    model = _tiny_cam_net()
    bad = ImageModel("no_conv", model.keras_model, unit_preprocess, list("abc"), "nonexistent")
    with pytest.raises(ReproError, match="nonexistent"):
        GradCAM()(bad, np.zeros((1, 6, 6, 2), np.float32), np.array([0]))
