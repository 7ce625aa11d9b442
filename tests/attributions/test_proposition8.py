"""Proposition 8 (Appendix I) on a linear model whose black image is NOT zero in model space.

"All attribution methods mentioned in Sec 2 except GradCAM and Guided Backpropagation are equivalent if the model
behaves linearly." For logits ``y_c = w_c . x + b_c`` the closed forms are

* IG (any quadrature whose weights sum to 1): ``w_c * (x - x_b)``, ``x_b = model.baseline`` the black image;
* SM = grad x r: ``w_c * r``; SG x r: ``w_c * r`` for any noise (the gradient does not depend on the point);
* GB x r: ``w_c * r`` (a linear model has no ReLU, so the guided gradient is the gradient).

With ``input_reference="input_minus_baseline"`` (``r = x - x_b``) all of them equal IG; with ``"input"``
(``r = x``) each differs from IG by exactly ``w_c * x_b``. The model uses VGG16's own preprocessing (BGR, Caffe
means subtracted), so ``x_b = -[103.939, 116.779, 123.68]``. Tolerances: float32 rounding, 1e-5 of the largest
entry of the closed form.
"""

import numpy as np
import pytest

from repro.attributions.gradients import IntegratedGradients, Saliency, SmoothGrad
from repro.attributions.guided import GuidedBackprop
from repro.models import ImageModel
from repro.models.vgg16 import CAFFE_BGR_MEANS, vgg16_preprocess
from repro.testing import linear_classifier, random_images


@pytest.fixture(scope="module")
def linear_vgg():
    """Flatten -> Dense(3) on 8x8x3 with a nonzero bias, VGG16 preprocessing; 4 images, targets, w_c per image."""
    base = linear_classifier(seed=3)
    dense = base.keras_model.layers[-1]
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel, np.array([0.5, -1.0, 2.0], np.float32)])  # the bias moves no gradient
    model = ImageModel("linear_vgg", base.keras_model, vgg16_preprocess, base.class_names, "")
    assert np.allclose(model.baseline, -CAFFE_BGR_MEANS)  # every pixel, BGR order
    x = model.preprocess(random_images(4, model.input_shape, seed=1))
    targets = np.array([0, 1, 2, 1])
    w = np.stack([kernel[:, c].reshape(model.input_shape) for c in targets])  # Flatten order
    return model, x, targets, w


def _x_input_methods(reference: str) -> dict:
    return {
        "SM": Saliency(input_reference=reference),
        "SG noise 0": SmoothGrad(noise=0.0, samples=3, input_reference=reference),
        "SG noise 0.2": SmoothGrad(noise=0.2, samples=50, seed=5, input_reference=reference),
        "GB x input": GuidedBackprop(input_reference=reference),
    }


def test_integrated_gradients_is_w_times_x_minus_baseline_and_complete(linear_vgg):
    model, x, targets, w = linear_vgg
    expected = w * (x - model.baseline)
    tol = 1e-5 * np.abs(expected).max()
    for rule in ("midpoint", "right", "trapezoid"):
        ig = IntegratedGradients(rule=rule)(model, x, targets)
        np.testing.assert_allclose(ig, expected, rtol=0, atol=tol, err_msg=rule)
    logits = model.logits_model(x).numpy()[np.arange(len(x)), targets]
    at_black = model.logits_model(model.baseline[None]).numpy()[0, targets]
    np.testing.assert_allclose(ig.sum(axis=(1, 2, 3)), logits - at_black, rtol=1e-5)


def test_with_input_minus_baseline_sm_sg_gb_equal_ig(linear_vgg):
    """Proposition 8 holds on the real preprocessing: every "x input" map equals IG = w * (x - x_b)."""
    model, x, targets, w = linear_vgg
    expected = w * (x - model.baseline)
    ig = IntegratedGradients()(model, x, targets)
    tol = 1e-5 * np.abs(expected).max()
    for name, method in _x_input_methods("input_minus_baseline").items():
        got = method(model, x, targets)
        np.testing.assert_allclose(got, expected, rtol=0, atol=tol, err_msg=name)
        np.testing.assert_allclose(got, ig, rtol=0, atol=tol, err_msg=name)


def test_with_the_model_space_input_they_differ_from_ig_by_exactly_w_times_baseline(linear_vgg):
    """The default reading (r = x): map - IG = w * x_b, the gap Proposition 8's zero baseline hides."""
    model, x, targets, w = linear_vgg
    ig = IntegratedGradients()(model, x, targets)
    gap = w * model.baseline
    assert np.abs(gap).max() > 0.1 * np.abs(ig).max()  # a gap of the size of the maps, not rounding
    tol = 1e-5 * np.abs(w * x).max()
    for name, method in _x_input_methods("input").items():
        got = method(model, x, targets)
        np.testing.assert_allclose(got, w * x, rtol=0, atol=tol, err_msg=name)
        np.testing.assert_allclose(got - ig, gap, rtol=0, atol=tol, err_msg=name)


def test_plain_guided_backprop_is_the_weight_vector_on_a_linear_model(linear_vgg):
    model, x, targets, w = linear_vgg
    np.testing.assert_allclose(GuidedBackprop(variant="plain")(model, x, targets), w, rtol=0,
                               atol=1e-6 * np.abs(w).max())


def test_on_a_zero_baseline_the_two_references_give_the_same_maps():
    """unit_preprocess: the black image is 0 in model space, so x and x - x_b are the same factor."""
    model = linear_classifier(seed=4)
    assert np.all(model.baseline == 0)
    x = model.preprocess(random_images(2, model.input_shape, seed=2))
    targets = np.array([2, 0])
    for name, method in _x_input_methods("input").items():
        other = _x_input_methods("input_minus_baseline")[name]
        np.testing.assert_array_equal(method(model, x, targets), other(model, x, targets), err_msg=name)
