"""Guided Backpropagation: a hand-written numpy backward pass, the paper's own snippet run in TF1 mode, and the
``variant`` (x_input / plain) and ``input_reference`` settings."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from repro.attributions.gradients import gradient_function
from repro.attributions.guided import VARIANTS, GuidedBackprop
from repro.models import ImageModel, unit_preprocess
from repro.readings import READINGS
from repro.testing import random_images, small_cnn

APPENDIX = Path(__file__).resolve().parents[2] / "appendix_code" / "guided_backprop.py"


def _tiny_net(seed: int = 0, preprocess=unit_preprocess) -> ImageModel:
    """5x5x2 -> Conv2D(3, 2x2, valid, fused relu) -> MaxPool 2 -> Flatten(12) -> Dense(6) -> ReLU layer ->
    Dense(4, softmax). Weights and biases drawn from N(0, 1) so every ReLU sees both signs."""
    import tensorflow as tf

    L = tf.keras.layers
    model = tf.keras.Sequential([
        L.InputLayer(input_shape=(5, 5, 2)),
        L.Conv2D(3, 2, padding="valid", activation="relu", name="conv"),
        L.MaxPooling2D(2, name="pool"),
        L.Flatten(name="flatten"),
        L.Dense(6, name="fc"),
        L.ReLU(name="fc_relu"),
        L.Dense(4, activation="softmax", name="out"),
    ])
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()])
    return ImageModel("tiny", model, preprocess, list("abcd"), "conv")


def _guided_numpy(model: ImageModel, x: np.ndarray, target: int) -> tuple[np.ndarray, float]:
    """Forward and guided backward pass of :func:`_tiny_net`, written out with loops. Returns (map, logit)."""
    k1, b1, w2, b2, w3, b3 = [w.astype(np.float64) for w in model.keras_model.get_weights()]
    x = x.astype(np.float64)
    z1 = np.zeros((4, 4, 3))
    for i in range(4):
        for j in range(4):
            z1[i, j] = np.einsum("abc,abck->k", x[i:i + 2, j:j + 2], k1) + b1
    a1 = np.maximum(z1, 0)
    pooled = np.zeros((2, 2, 3))
    argmax = {}
    for i in range(2):
        for j in range(2):
            for k in range(3):
                block = a1[2 * i:2 * i + 2, 2 * j:2 * j + 2, k]
                r, c = np.unravel_index(np.argmax(block), (2, 2))
                pooled[i, j, k] = block[r, c]
                argmax[i, j, k] = (2 * i + r, 2 * j + c)
    z2 = pooled.reshape(-1) @ w2 + b2
    logit = np.maximum(z2, 0) @ w3[:, target] + b3[target]
    # backward with the ReLU rule grad * (grad > 0) * (input > 0)
    g = w3[:, target]
    g = g * (g > 0) * (z2 > 0)
    g_pooled = (w2 @ g).reshape(2, 2, 3)
    g_a1 = np.zeros((4, 4, 3))
    for (i, j, k), (r, c) in argmax.items():
        g_a1[r, c, k] += g_pooled[i, j, k]
    g_z1 = g_a1 * (g_a1 > 0) * (z1 > 0)
    g_x = np.zeros((5, 5, 2))
    for i in range(4):
        for j in range(4):
            g_x[i:i + 2, j:j + 2] += np.einsum("abck,k->abc", k1, g_z1[i, j])
    return g_x, logit


@pytest.fixture(scope="module")
def tiny_guided():
    """The tiny net with a shifted preprocessing (black image -0.5, a nonzero baseline like VGG16's), 4 inputs,
    their targets and the hand-written guided gradients."""
    model = _tiny_net(preprocess=lambda raw: np.asarray(raw, np.float32) / 255 - 0.5)
    assert np.allclose(model.baseline, -0.5)
    x = np.random.default_rng(1).normal(size=(4, 5, 5, 2)).astype(np.float32)
    targets = np.array([0, 1, 2, 3])
    logits = model.logits_model(x).numpy()
    expected = []
    for i, t in enumerate(targets):
        g, logit = _guided_numpy(model, x[i], int(t))
        assert np.isclose(logit, logits[i, t], atol=1e-4)  # the hand forward pass is the network
        expected.append(g)
    return model, x, targets, np.stack(expected)


def test_plain_guided_backprop_equals_a_hand_written_guided_backward_pass(tiny_guided):
    model, x, targets, expected = tiny_guided
    maps = GuidedBackprop(batch_size=3, variant="plain")(model, x, targets)
    np.testing.assert_allclose(maps, expected, rtol=0, atol=1e-5 * max(1.0, np.abs(expected).max()))
    plain_gradient = gradient_function(model.logits_model)(x, targets.astype(np.int32)).numpy()
    assert np.abs(maps - plain_gradient).max() > 1e-2  # the override is active: GB is not the plain gradient


def test_default_guided_backprop_is_the_hand_written_guided_gradient_times_the_model_space_input(tiny_guided):
    """Default variant "x_input", input_reference "input": G(x) * x (Figure 2 caption, panel (c))."""
    model, x, targets, expected = tiny_guided
    maps = GuidedBackprop(batch_size=3)(model, x, targets)
    want = expected * x
    np.testing.assert_allclose(maps, want, rtol=0, atol=1e-5 * max(1.0, np.abs(want).max()))


def test_guided_backprop_times_input_minus_baseline(tiny_guided):
    """input_reference "input_minus_baseline": G(x) * (x - b) with b = -0.5, i.e. G(x) * (x + 0.5)."""
    model, x, targets, expected = tiny_guided
    maps = GuidedBackprop(input_reference="input_minus_baseline")(model, x, targets)
    want = expected * (x + 0.5)
    np.testing.assert_allclose(maps, want, rtol=0, atol=1e-5 * max(1.0, np.abs(want).max()))
    # the two references differ by exactly G(x) * b
    default = GuidedBackprop()(model, x, targets)
    np.testing.assert_allclose(default - maps, expected * -0.5, rtol=0, atol=1e-5 * max(1.0, np.abs(want).max()))


def test_variant_and_input_reference_values_are_the_readings_and_are_in_the_cache_key():
    assert VARIANTS == READINGS["guided_backprop"] == ("x_input", "plain")
    assert GuidedBackprop().params() == {"variant": "x_input", "input_reference": "input"}
    assert GuidedBackprop(input_reference="input_minus_baseline").params() == {
        "variant": "x_input", "input_reference": "input_minus_baseline"}
    # a plain map does not depend on input_reference, so its key does not either
    assert GuidedBackprop(variant="plain").params() == {"variant": "plain"}
    assert (GuidedBackprop(variant="plain", input_reference="input_minus_baseline").params()
            == GuidedBackprop(variant="plain").params())
    with pytest.raises(ValueError, match="variant must be one of 'x_input', 'plain', got 'times_input'"):
        GuidedBackprop(variant="times_input")
    with pytest.raises(ValueError, match="input_reference must be one of .* got 'baseline'"):
        GuidedBackprop(input_reference="baseline")


def test_guided_backprop_equals_the_appendix_snippet_run_as_tf1_graph_code(tmp_path):
    """The package's tf.function form against the paper's @ops.RegisterGradient snippet in a TF1 session."""
    sys.path.insert(0, str(APPENDIX.parent))
    try:
        from guided_backprop import write_inputs
    finally:
        sys.path.remove(str(APPENDIX.parent))
    model = small_cnn(seed=4)
    x = model.preprocess(random_images(3, model.input_shape, seed=5))
    targets = np.array([1, 0, 3])
    write_inputs(tmp_path / "in.npz", model.logits_model, x, targets)
    proc = subprocess.run([sys.executable, str(APPENDIX), str(tmp_path / "in.npz"), str(tmp_path / "out.npy")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    reference = np.load(tmp_path / "out.npy")
    ours = GuidedBackprop(variant="plain")(model, x, targets)
    assert np.abs(reference).max() > 0
    np.testing.assert_allclose(ours, reference, rtol=0, atol=1e-6 * np.abs(reference).max())
    # the default map is the snippet's guided gradient times the model-space input
    times_input = GuidedBackprop()(model, x, targets)
    np.testing.assert_allclose(times_input, reference * x, rtol=0, atol=1e-6 * np.abs(reference * x).max())


def test_appendix_script_without_arguments_prints_usage_and_fails():
    proc = subprocess.run([sys.executable, str(APPENDIX)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "guided_backprop.py IN.npz OUT.npy" in proc.stderr
