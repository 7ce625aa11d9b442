"""The class score of your own model: the logit is the input of a final softmax, found whether the softmax is a
Dense activation, a Softmax / Activation layer or a ``tf.nn.softmax`` call, and refused in one line otherwise."""

from __future__ import annotations

import numpy as np
import pytest

import custom_nets as nets
from repro.errors import ReproError
from repro.models import load_model, logit_problem, strip_softmax


def _manual_logits(keras_model, x):
    import tensorflow as tf

    dense = keras_model.get_layer("logits") if "logits" in [l.name for l in keras_model.layers] \
        else keras_model.get_layer("predictions")
    features = tf.keras.Model(keras_model.inputs, dense.input)(x).numpy()
    kernel, bias = dense.get_weights()
    return features @ kernel + bias


@pytest.mark.parametrize("softmax", ["dense", "layer", "activation", "function"])
def test_the_logit_is_the_input_of_the_final_softmax(softmax):
    model = nets.conv_net("plain", softmax)
    x = np.random.default_rng(0).uniform(0, 1, (3, 16, 16, 3)).astype(np.float32)
    assert logit_problem(model) is None
    logits = strip_softmax(model)(x).numpy()
    np.testing.assert_allclose(logits, _manual_logits(model, x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model(x).numpy(), np.exp(logits) / np.exp(logits).sum(1, keepdims=True), atol=1e-6)


def test_a_sequential_with_a_softmax_dense_and_a_residual_bn_model_have_logits():
    for model in (nets.sequential_softmax(), nets.residual_bn()):
        assert logit_problem(model) is None
        x = np.random.default_rng(1).uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
        np.testing.assert_allclose(strip_softmax(model)(x).numpy(), _manual_logits(model, x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("activation", ["linear", "sigmoid"])
def test_a_model_without_a_final_softmax_is_refused_in_one_line(activation, tmp_path):
    model = nets.conv_net("plain", activation)
    problem = logit_problem(model)
    assert problem.startswith("no identifiable logit") and f"activation {activation!r}" in problem
    assert "\n" not in problem
    with pytest.raises(ReproError, match="no identifiable logit"):
        strip_softmax(model)
    path = tmp_path / "no_softmax.keras"
    model.save(path)
    with pytest.raises(ReproError, match=r"no_softmax\.keras: no identifiable logit") as err:
        load_model(path, preprocess="unit")
    assert "\n" not in str(err.value)


def test_the_logits_model_shares_the_weights():
    model = nets.sequential_softmax()
    logits = strip_softmax(model)
    dense = model.get_layer("predictions")
    kernel, bias = dense.get_weights()
    dense.set_weights([kernel * 2, bias])
    x = np.ones((1, 16, 16, 3), np.float32)
    np.testing.assert_allclose(logits(x).numpy(), _manual_logits(model, x), rtol=1e-5, atol=1e-5)
