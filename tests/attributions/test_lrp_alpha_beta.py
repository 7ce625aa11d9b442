"""The reading ``lrp_rule=alpha2beta1``: plain LRP-alpha2-beta1 on every layer, through the project's LRP method (graph
worker), against the rule computed by hand in numpy on a tiny Dense network."""

import numpy as np
import pytest

from repro.attributions import get_method
from repro.attributions.graph_worker import LRP, close_workers
from repro.attributions.lrp import LRP_RULES
from repro.config import make_config
from repro.models import ImageModel, unit_preprocess
from repro.readings import DEFAULTS, READINGS, Reading

W1 = np.array([[1.0, -0.5],
               [-2.0, 1.0],
               [0.5, 1.5]], np.float32)  # 3 inputs -> 2 ReLU hidden units
W2 = np.array([[1.0, -1.0],
               [-0.5, 2.0]], np.float32)  # 2 hidden -> 2 logits
X = np.array([[3.0, 1.0, 2.0],     # both hidden units on, mixed-sign contributions everywhere
              [1.0, -1.0, 2.0],    # a negative input value
              [1.0, 2.0, 3.0],     # hidden unit 0 off (its pre-activation is -1.5)
              [1.0, 2.0, 3.0]], np.float32)
TARGETS = np.array([0, 1, 0, 1])  # row 2: logit 0 = -3 has no positive contribution (z^+ = 0)


@pytest.fixture(scope="module", autouse=True)
def _close_workers_after_module():
    yield
    close_workers()


def two_layer_net(b1=(0.0, 0.0), b2=(0.0, 0.0)) -> ImageModel:
    """Flatten -> Dense(2, relu) -> Dense(2, softmax) on a (1, 1, 3) input, weights :data:`W1`, :data:`W2`."""
    import tensorflow as tf

    L = tf.keras.layers
    model = tf.keras.Sequential([L.InputLayer(input_shape=(1, 1, 3), name="input"), L.Flatten(name="flatten"),
                                 L.Dense(2, activation="relu", name="hidden"),
                                 L.Dense(2, activation="softmax", name="predictions")], name="two_dense")
    model.get_layer("hidden").set_weights([W1, np.asarray(b1, np.float32)])
    model.get_layer("predictions").set_weights([W2, np.asarray(b2, np.float32)])
    return ImageModel("two_dense", model, unit_preprocess, ["a", "b"], "")


def alpha2beta1_layer(a: np.ndarray, w: np.ndarray, b: np.ndarray, r: np.ndarray) -> np.ndarray:
    """One Dense layer of the alpha = 2, beta = 1 rule, ``R_i = sum_j (2 z_ij^+ / z_j^+ - 1 z_ij^- / z_j^-) R_j``.

    iNNvestigate 2.1.2's convention (``AlphaBetaRule`` with ``bias=True``, ``safe_divide``): ``z_ij = a_i w_ij``;
    ``z_j^+ = sum_i max(z_ij, 0) + b_j`` and ``z_j^- = sum_i min(z_ij, 0) + b_j`` (the layer's positive-weight copy
    carries ``b^+``, its negative-weight copy ``b^-``, and each denominator is the sum of both copies' outputs, so
    each holds the whole bias; the bias itself receives no relevance); a denominator equal to 0 is replaced by
    1e-7 (Keras' epsilon), so with zero biases its numerators are all 0 and the term is 0.
    """
    z = a[:, None].astype(np.float64) * w  # (D_in, D_out)
    zp, zn = np.maximum(z, 0), np.minimum(z, 0)
    sp, sn = zp.sum(axis=0) + b, zn.sum(axis=0) + b
    sp, sn = np.where(sp == 0, 1e-7, sp), np.where(sn == 0, 1e-7, sn)
    return (2 * zp / sp - 1 * zn / sn) @ r


def hand_alpha2beta1(x: np.ndarray, t: int, b1=(0.0, 0.0), b2=(0.0, 0.0)) -> np.ndarray:
    """The rule on every layer of :func:`two_layer_net` for image ``x`` (3,) and class ``t``, starting from the
    target logit (the ReLU passes relevance through unchanged)."""
    b1, b2 = np.asarray(b1, np.float64), np.asarray(b2, np.float64)
    h = np.maximum(x.astype(np.float64) @ W1 + b1, 0)
    logits = h @ W2 + b2
    r_out = np.zeros(2)
    r_out[t] = logits[t]
    r_hidden = alpha2beta1_layer(h, W2, b2, r_out)
    return alpha2beta1_layer(x, W1, b1, r_hidden)


def test_hand_rule_sanity():
    """The hand computation itself, on row 0 (x = (3, 1, 2), class 0): h = (2, 2.5), logit 2 - 1.25 = 0.75;
    output layer: z = (2, -1.25), R_h = (2 * 0.75, -0.75) = (1.5, -0.75); sums are conserved (alpha - beta = 1)."""
    h = np.maximum(X[0] @ W1, 0)
    np.testing.assert_allclose(alpha2beta1_layer(h, W2, np.zeros(2), np.array([0.75, 0.0])), [1.5, -0.75])
    assert hand_alpha2beta1(X[0], 0).sum() == pytest.approx(0.75)


@pytest.mark.slow  # a worker start-up: 9 s
def test_alpha2beta1_reading_equals_the_hand_rule_on_a_two_layer_dense_net():
    """Zero biases: the LRP method with the reading's arguments equals the hand computation on every row, including
    a dead hidden unit and a zero denominator (row 2: logit -3 with no positive part, so only the beta term acts
    and the relevance sums to +3, not to the logit)."""
    model = two_layer_net()
    method = get_method("lrp", **LRP_RULES["alpha2beta1"])
    maps = method(model, X.reshape(-1, 1, 1, 3), TARGETS)
    assert maps.shape == (4, 1, 1, 3) and maps.dtype == np.float32
    expected = np.stack([hand_alpha2beta1(x, t) for x, t in zip(X, TARGETS)])
    np.testing.assert_allclose(maps.reshape(4, 3), expected, rtol=1e-5, atol=1e-6)
    assert expected[2].sum() == pytest.approx(3.0)  # the row that is not conserved, by the rule's zero-division guard
    default = LRP()(model, X.reshape(-1, 1, 1, 3), TARGETS)  # preset B (epsilon on Dense, z^B at the input)
    assert np.abs(default.reshape(4, 3) - expected).max() > 0.1


@pytest.mark.slow  # one more worker start-up
def test_alpha2beta1_bias_convention():
    """Nonzero biases: each denominator holds the whole bias b_j (not only its positive or negative part)."""
    b1, b2 = (0.5, -1.0), (-0.25, 0.75)
    model = two_layer_net(b1, b2)
    maps = LRP(**LRP_RULES["alpha2beta1"])(model, X.reshape(-1, 1, 1, 3), TARGETS)
    expected = np.stack([hand_alpha2beta1(x, t, b1, b2) for x, t in zip(X, TARGETS)])
    np.testing.assert_allclose(maps.reshape(4, 3), expected, rtol=1e-5, atol=1e-6)


def test_lrp_rule_values_are_the_reading_and_select_the_analyzer():
    assert tuple(LRP_RULES) == READINGS["lrp_rule"] == ("preset_b", "alpha2beta1")
    assert LRP(**LRP_RULES[DEFAULTS["lrp_rule"]]).params() == LRP().params()  # the default is the class default
    plain = LRP(**LRP_RULES["alpha2beta1"]).params()
    assert plain == {"analyzer": "lrp.alpha_2_beta_1", "epsilon": 0.1, "input_rule": "none"}
    cfg = make_config("embedded", quick=True)
    assert cfg.method_overrides("lrp") == LRP_RULES["preset_b"]
    assert cfg.method_overrides("lrp", Reading(lrp_rule="alpha2beta1")) == LRP_RULES["alpha2beta1"]
    assert [(tag, m) for tag, m, _ in cfg.map_jobs() if tag.startswith("lrp_rule")] == [
        ("lrp_rule=alpha2beta1", "lrp")]
