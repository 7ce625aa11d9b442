"""Saliency, Integrated Gradients and SmoothGrad against closed forms (Proposition 8, completeness, quadrature)."""

import numpy as np
import pytest

from repro.attributions.gradients import (IntegratedGradients, Saliency, SmoothGrad, gradient_function,
                                          path_alphas)
from repro.models import ImageModel
from repro.testing import linear_classifier, random_images, small_cnn


def _shifted_cnn() -> ImageModel:
    """small_cnn with a preprocessing whose black image is -0.5 everywhere (a nonzero baseline, like VGG16's)."""
    base = small_cnn(seed=2)
    return ImageModel("shifted", base.keras_model, lambda raw: np.asarray(raw, np.float32) / 255 - 0.5,
                      base.class_names, base.conv_layer)


def _half_square_norm_model(shape=(16, 16, 3), preprocess=None) -> ImageModel:
    """Both logits equal 0.5 * ||x||^2, so df/dx = x and SmoothGrad's mean gradient is x + mean(eps)."""
    import tensorflow as tf

    L = tf.keras.layers
    keras_model = tf.keras.Sequential([
        L.InputLayer(input_shape=shape),
        L.Lambda(lambda v: tf.stack([0.5 * tf.reduce_sum(v * v, axis=[1, 2, 3])] * 2, axis=1)),
        L.Activation("softmax"),
    ])
    preprocess = preprocess or (lambda r: np.asarray(r, np.float32) / 255)
    return ImageModel("square", keras_model, preprocess, ["a", "b"], "")


# ---------------------------------------------------------------------------------------------- quadrature rules
@pytest.mark.parametrize("m", [1, 5, 50])
def test_midpoint_and_right_rules_on_3a2_have_their_closed_form_errors(m):
    # int_0^1 3 a^2 da = 1. Midpoint: error 1 - M = f''/(24 m^2) = 1/(4 m^2).
    # Right Riemann: R = 3/m^3 * m(m+1)(2m+1)/6, so 1 - R = -(3m + 1)/(2 m^2).
    a, w = path_alphas(m, "midpoint")
    assert np.isclose(1.0 - np.sum(w * 3 * a.astype(np.float64) ** 2), 1 / (4 * m ** 2), atol=1e-6)
    a, w = path_alphas(m, "right")
    assert np.isclose(1.0 - np.sum(w * 3 * a.astype(np.float64) ** 2), -(3 * m + 1) / (2 * m ** 2), atol=1e-6)


@pytest.mark.parametrize("m", [2, 5, 50])
def test_trapezoid_rule_on_3a2_has_its_closed_form_error(m):
    # Trapezoid with h = 1/(m-1): error 1 - T = -h^2 f''/12 = -1/(2 (m-1)^2).
    a, w = path_alphas(m, "trapezoid")
    assert np.isclose(1.0 - np.sum(w * 3 * a.astype(np.float64) ** 2), -1 / (2 * (m - 1) ** 2), atol=1e-6)


@pytest.mark.parametrize("rule", ["midpoint", "right", "trapezoid"])
def test_rules_are_exact_on_constants_and_midpoint_trapezoid_on_affine(rule):
    a, w = path_alphas(50, rule)
    assert a.shape == w.shape == (50,) and np.isclose(w.sum(), 1.0, atol=1e-6)
    assert 0.0 <= a.min() and a.max() <= 1.0
    if rule != "right":  # int_0^1 2a da = 1
        assert np.isclose(np.sum(w * 2 * a), 1.0, atol=1e-6)


def test_bad_settings_raise_value_errors_naming_the_value():
    with pytest.raises(ValueError, match="'simpson'"):
        IntegratedGradients(rule="simpson")
    with pytest.raises(ValueError, match="steps >= 2"):
        IntegratedGradients(steps=1, rule="trapezoid")
    with pytest.raises(ValueError, match="steps must be an integer >= 1, got 0"):
        IntegratedGradients(steps=0)
    with pytest.raises(ValueError, match="noise"):
        SmoothGrad(noise=-0.1)
    with pytest.raises(ValueError, match="batch_size"):
        Saliency(batch_size=0)
    for cls in (Saliency, SmoothGrad):
        with pytest.raises(ValueError, match="input_reference must be one of 'input', 'input_minus_baseline', "
                                             "got 'baseline'"):
            cls(input_reference="baseline")


def test_input_reference_values_are_the_reading_and_are_in_the_cache_key():
    from repro.attributions._common import INPUT_REFERENCES
    from repro.readings import READINGS

    assert INPUT_REFERENCES == READINGS["input_reference"] == ("input", "input_minus_baseline")
    assert Saliency().params() == {"input_reference": "input"}
    assert Saliency(input_reference="input_minus_baseline").params() == {"input_reference": "input_minus_baseline"}
    sg = SmoothGrad().params()
    assert sg == {"samples": 50, "noise": 0.2, "seed": 0, "input_reference": "input"}
    assert SmoothGrad(input_reference="input_minus_baseline").params() == {**sg,
                                                                           "input_reference": "input_minus_baseline"}
    assert "input_reference" not in IntegratedGradients().params()  # IG carries (x - b) by construction


# ------------------------------------------------------------------------------------ Proposition 8 (linear model)
def test_proposition_8_sm_ig_sg_coincide_with_w_times_x_on_a_linear_model():
    """logit_c(x) = w_c . x + b_c with baseline 0: SM = IG = SG = w_c * x (IG exact for any rule whose weights
    sum to 1; SG exact because the gradient does not depend on the noise). Tolerance: float32 rounding,
    rtol 1e-5 of the largest entry."""
    model = linear_classifier(seed=3)
    assert np.all(model.baseline == 0)
    x = model.preprocess(random_images(4, model.input_shape, seed=1))
    targets = np.array([0, 1, 2, 1])
    kernel = model.keras_model.layers[-1].get_weights()[0]  # (H*W*C, classes), Flatten order
    expected = np.stack([kernel[:, c].reshape(model.input_shape) * xi for xi, c in zip(x, targets)])
    tol = 1e-5 * np.abs(expected).max()
    maps = {
        "SM": Saliency()(model, x, targets),
        "IG": IntegratedGradients()(model, x, targets),
        "IG right": IntegratedGradients(rule="right")(model, x, targets),
        "SG": SmoothGrad(seed=5)(model, x, targets),
    }
    for name, got in maps.items():
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol, err_msg=name)


# ----------------------------------------------------------------------------------------- IG completeness
@pytest.fixture(scope="module")
def shifted_path():
    """The shifted CNN, 2 images, their top-1 targets, F(x) - F(b), and TV(g) measured on a 4001-point grid."""
    model = _shifted_cnn()
    b = model.baseline
    x = model.preprocess(random_images(2, model.input_shape, seed=4))
    logits = model.logits_model(x).numpy()
    targets = np.argmax(logits, axis=1)
    delta = logits[np.arange(2), targets] - model.logits_model(b[None]).numpy()[0, targets]
    grad = gradient_function(model.logits_model)
    alphas = np.linspace(0, 1, 4001, dtype=np.float32)
    tv = []
    for i, t in enumerate(targets):
        points = b[None] + alphas[:, None, None, None] * (x[i] - b)[None]
        g = np.concatenate([
            np.sum(grad(points[s], np.full(len(s), t, np.int32)).numpy() * (x[i] - b), axis=(1, 2, 3))
            for s in np.array_split(np.arange(len(points)), 8)])
        tv.append(np.abs(np.diff(g)).sum())
    return model, x, targets, delta, np.array(tv)


@pytest.mark.parametrize("rule,cells", [("midpoint", 50), ("right", 50), ("trapezoid", 49)])
def test_ig_completeness_within_the_quadrature_bound(rule, cells, shifted_path):
    """sum IG = F(x) - F(b) + e. Along the path F is piecewise linear (ReLU + max pooling), so
    g(a) = grad F(b + a (x - b)) . (x - b) is piecewise constant and each of the ``cells`` quadrature cells of
    width 1/cells errs by at most its width times the oscillation of g on it: |e| <= TV(g) / cells. TV(g) is
    measured on a 4001-point grid; 1e-5 |F(x) - F(b)| absorbs float32 rounding."""
    model, x, targets, delta, tv = shifted_path
    maps = IntegratedGradients(steps=50, rule=rule)(model, x, targets)
    error = np.abs(maps.sum(axis=(1, 2, 3)) - delta)
    bound = tv / cells + 1e-5 * np.abs(delta)
    assert np.all(error <= bound), (rule, error, bound)


def test_saliency_is_gradient_times_model_space_input(shifted_path):
    """grad x input (the model-space input), not grad x (input - baseline)."""
    model, x, targets, _, _ = shifted_path
    sm = Saliency()(model, x, targets)
    g0 = gradient_function(model.logits_model)(x, targets.astype(np.int32)).numpy()
    np.testing.assert_allclose(sm, g0 * x, rtol=1e-6, atol=1e-9)


def test_saliency_and_smoothgrad_times_input_minus_baseline(shifted_path):
    """input_reference="input_minus_baseline": grad x (x - b), b = -0.5; SmoothGrad with zero noise equals it."""
    model, x, targets, _, _ = shifted_path
    assert np.allclose(model.baseline, -0.5)
    g0 = gradient_function(model.logits_model)(x, targets.astype(np.int32)).numpy()
    sm = Saliency(input_reference="input_minus_baseline")(model, x, targets)
    np.testing.assert_allclose(sm, g0 * (x + 0.5), rtol=1e-6, atol=1e-9)
    sg = SmoothGrad(noise=0.0, samples=3, input_reference="input_minus_baseline")(model, x, targets)
    np.testing.assert_allclose(sg, sm, rtol=0, atol=1e-6 * np.abs(sm).max())


@pytest.mark.parametrize("rule", ["midpoint", "right", "trapezoid"])
def test_ig_on_half_square_norm_with_nonzero_baseline_matches_the_closed_form(rule):
    """F(x) = ||x||^2 / 2, baseline b = -0.5 (preprocess r/255 - 0.5): grad F = x, so along the path
    g_i(a) = b_i + a (x_i - b_i) is affine and IG_i = (x_i - b_i) (b_i + (x_i - b_i) S), S = sum_k w_k a_k:
    S = 1/2 for midpoint and trapezoid (exact; sum IG = F(x) - F(b)), S = (m + 1) / (2m) for the right rule."""
    model = _half_square_norm_model(preprocess=lambda r: np.asarray(r, np.float32) / 255 - 0.5)
    b = model.baseline.astype(np.float64)
    assert np.allclose(b, -0.5)
    x = model.preprocess(random_images(2, model.input_shape, seed=6))
    m = 50
    s = 0.5 if rule != "right" else (m + 1) / (2 * m)
    maps = IntegratedGradients(steps=m, rule=rule)(model, x, np.array([0, 1]))
    expected = (x - b) * (b + (x - b) * s)
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-6)
    if rule != "right":
        np.testing.assert_allclose(maps.sum(axis=(1, 2, 3)), 0.5 * ((x ** 2).sum((1, 2, 3)) - (b ** 2).sum()),
                                   rtol=1e-5)


# -------------------------------------------------------------------------------------------------- SmoothGrad
def test_smoothgrad_with_zero_noise_equals_saliency():
    model = small_cnn(seed=1)
    x = model.preprocess(random_images(3, model.input_shape, seed=2))
    targets = np.array([0, 3, 1])
    sm = Saliency()(model, x, targets)
    sg = SmoothGrad(noise=0.0, samples=7, batch_size=3)(model, x, targets)
    np.testing.assert_allclose(sg, sm, rtol=0, atol=1e-6 * np.abs(sm).max())


def test_smoothgrad_noise_sigma_is_20_percent_of_the_image_value_range():
    """SG / x - x = mean of n noise draws per entry, whose standard deviation is sigma / sqrt(n) with
    sigma = 0.2 (max x - min x). Over 768 entries the sample std is within 10% of that (about 4 standard
    errors of a std estimate) and the mean within 4 sigma / sqrt(n * 768) of 0."""
    model = _half_square_norm_model()
    rng = np.random.default_rng(0)
    x = rng.uniform(1.0, 3.0, size=(1, 16, 16, 3)).astype(np.float32)  # range ~2, no zeros
    n = 50
    sg = SmoothGrad(samples=n, noise=0.2, seed=11)(model, x, np.array([0]))
    mean_eps = (sg / x - x).ravel()
    sigma = 0.2 * (x.max() - x.min())
    assert abs(mean_eps.std() / (sigma / np.sqrt(n)) - 1) < 0.1
    assert abs(mean_eps.mean()) < 4 * sigma / np.sqrt(n * mean_eps.size)


def test_smoothgrad_noise_depends_on_seed_and_image_not_on_batch_or_batch_size():
    model = _half_square_norm_model()
    rng = np.random.default_rng(1)
    x = rng.uniform(1.0, 3.0, size=(3, 16, 16, 3)).astype(np.float32)
    t = np.zeros(3, np.int64)
    a = SmoothGrad(samples=12, seed=1, batch_size=5)(model, x, t)
    b = SmoothGrad(samples=12, seed=1, batch_size=12)(model, x[::-1], t)[::-1]
    c = SmoothGrad(samples=12, seed=2, batch_size=5)(model, x, t)
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert np.abs(a - c).max() > 1e-3


def test_compiled_functions_are_traced_once_per_model_and_shared_by_instances():
    from repro.attributions._common import compiled_functions

    model = small_cnn(seed=1)
    x = model.preprocess(random_images(3, model.input_shape, seed=3))
    IntegratedGradients(steps=5, batch_size=4)(model, x, np.array([0, 1, 2]))
    IntegratedGradients(steps=7, batch_size=4)(model, x[:1], np.array([3]))  # new instance, other steps
    SmoothGrad(samples=3, batch_size=4)(model, x[:2], np.array([1, 1]))
    Saliency()(model, x, np.array([0, 1, 2]))
    Saliency()(model, x[:2], np.array([0, 1]))
    fns = compiled_functions(model)
    assert fns[("gradient_sum", 4)].experimental_get_tracing_count() == 1
    assert fns["gradients"].experimental_get_tracing_count() == 1
