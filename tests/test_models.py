"""Foundation: models, preprocessing, baseline and the score function."""

import numpy as np
import pytest

from repro.errors import WeightsNotFoundError
from repro.models import CAFFE_BGR_MEANS, vgg16_preprocess
from repro.testing import random_images, small_cnn


def test_vgg16_preprocess_of_black_is_minus_caffe_means():
    out = vgg16_preprocess(np.zeros((1, 4, 4, 3), np.float32))
    np.testing.assert_allclose(out[0, 0, 0], -np.array([103.939, 116.779, 123.68]), rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[0, 2, 3], -CAFFE_BGR_MEANS, atol=1e-5)


def test_vgg16_preprocess_flips_to_bgr_and_does_not_mutate():
    raw = np.zeros((1, 1, 1, 3), np.float32)
    raw[..., 0] = 200.0  # red
    before = raw.copy()
    out = vgg16_preprocess(raw)
    np.testing.assert_array_equal(raw, before)
    np.testing.assert_allclose(out[0, 0, 0], [-103.939, -116.779, 200.0 - 123.68], atol=1e-4)


def test_score_function_probabilities_sum_to_one_and_match_softmax_of_logits():
    m = small_cnn()
    x = m.preprocess(random_images(5))
    probs = m.score_model("probability")(x).numpy()
    logits = m.score_model("logit")(x).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, softmax, atol=1e-6)


def test_predict_is_the_keras_forward_and_traces_once_across_calls():
    m = small_cnn()
    x = m.preprocess(random_images(4))
    expected = m.keras_model(x, training=False).numpy()
    for _ in range(3):
        np.testing.assert_allclose(m.predict(x, batch_size=4), expected, atol=1e-6)
    assert m._cache["forward"].experimental_get_tracing_count() == 1


def test_logits_model_shares_weights():
    m = small_cnn()
    x = m.preprocess(random_images(2))
    last = m.keras_model.layers[-1]
    before = m.logits_model(x).numpy()
    last.bias.assign(last.bias + 1.0)
    np.testing.assert_allclose(m.logits_model(x).numpy(), before + 1.0, atol=1e-5)


def test_missing_local_weights_file_names_the_file(tmp_path):
    from repro.models import build_vgg16

    with pytest.raises(WeightsNotFoundError, match="nope.h5: no such weights file.*~/.keras/models"):
        build_vgg16(tmp_path / "nope.h5")


@pytest.mark.slow
def test_vgg16_without_weights_builds_and_predicts():
    from repro.models import load_vgg16

    m = load_vgg16(weights=None)
    assert m.input_shape == (224, 224, 3) and m.num_classes == 1000
    assert m.conv_layer == "block5_conv3" and len(m.class_names) == 1000
    np.testing.assert_allclose(m.baseline[0, 0], -CAFFE_BGR_MEANS, atol=1e-5)
    p = m.predict(m.preprocess(np.zeros((1, 224, 224, 3), np.float32)))
    assert p.shape == (1, 1000)
    np.testing.assert_allclose(p.sum(), 1.0, atol=1e-5)
