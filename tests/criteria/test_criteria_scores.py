"""Both class scores from one forward pass (``evaluate_scores``, the engine's ``logit_probability`` mode) and the
three S-Ord readings carried by every :class:`CriteriaResult`. Expected numbers are worked out by hand in the
comments."""

from functools import partial

import numpy as np
import pytest
import tensorflow as tf

from repro.criteria import (OUTPUT_SCORE, evaluate, evaluate_methods, evaluate_scores, model_scores)

from repro.criteria.curves import ADD, LOGIT_PROBABILITY, REMOVE, get_engine
from repro.testing import random_images, small_cnn

# The engine's tests read the model's own output (score=None), as they were written; the API's defaults (the
# study's: the logit, adaptive sampling) are tested in tests/criteria/test_layouts_and_defaults.py.
evaluate = partial(evaluate, score=None)
evaluate_methods = partial(evaluate_methods, score=None)

FIELDS = ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps", "y0", "yb", "num_positive", "image_index",
          "targets")
CURVES = ("necessity", "sufficiency", "tpn_top", "tpn_bottom", "tps_top", "tps_bottom")


def assert_identical(a, b):
    """Every field of two CriteriaResults bit for bit (NaN equal to NaN), curves included."""
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
    assert a.reason == b.reason and a.steps == b.steps and a.num_forwards == b.num_forwards
    for ca, cb in zip(a.curves, b.curves):
        for k in CURVES:
            for attr in ("x", "y", "m"):
                np.testing.assert_array_equal(getattr(getattr(ca, k), attr), getattr(getattr(cb, k), attr))
        assert (ca.num_positive, ca.y0, ca.yb) == (cb.num_positive, cb.y0, cb.yb)


# ---------------------------------------------------------------- the embedded model: one forward, two scores
@pytest.fixture(scope="module")
def embedded():
    from repro.data.shapes import ShapesSource
    from repro.models import load_model, top1_targets

    model = load_model("embedded")
    x = model.preprocess(ShapesSource(4, seed=0, split="test").load([0, 1, 2, 3]))
    return model, x, top1_targets(model, x)


def test_probability_from_logits_equals_the_softmax_layer_bit_for_bit_on_the_embedded_model(embedded):
    # The LOGIT_PROBABILITY engine runs the logits model and takes tf.nn.softmax of each row itself; today's path
    # runs the Keras model, whose Dense(activation="softmax") computes the same tf.nn.softmax of the same logits.
    # Measured: identical bit for bit (2,000 random queries, batch sizes 1, 32 and 64; here 600 at two sizes).
    model, x, _ = embedded
    N, H, W, C = x.shape
    rng = np.random.default_rng(0)
    ranks = np.stack([rng.permutation(H * W).reshape(H, W) for _ in range(N)]).astype(np.int32)
    Q = 600
    q = {"image": rng.integers(0, N, Q), "baseline": np.zeros(Q, int), "rank": rng.integers(0, N, Q),
         "lo": np.zeros(Q, int), "hi": rng.integers(0, H * W + 1, Q), "mode": rng.choice([REMOVE, ADD], Q),
         "target": rng.integers(0, model.num_classes, Q)}
    base = model.baseline[None]
    for bs in (7, 64):
        prob = get_engine(model.keras_model, bs, (H, W, C)).run(x, base, ranks, q)
        logit = get_engine(model.logits_model, bs, (H, W, C)).run(x, base, ranks, q)
        both = get_engine(model.logits_model, bs, (H, W, C), LOGIT_PROBABILITY).run(x, base, ranks, q)
        assert both.shape == (Q, 2)
        np.testing.assert_array_equal(both[:, 0], logit)
        np.testing.assert_array_equal(both[:, 1], prob)
        assert prob.min() < 0.01 and prob.max() > 0.99  # the queries span the probability range


def test_evaluate_scores_equals_evaluate_methods_per_score_in_one_pass(embedded):
    from repro.attributions import get_method

    model, x, targets = embedded
    maps = {name: get_method(name)(model, x, targets) for name in ("saliency", "random")}
    both = evaluate_scores(model, x, maps, targets=targets, steps=10, batch_size=32)
    assert list(both) == ["logit", "probability"] == list(model_scores(model))
    for score in ("logit", "probability"):
        alone = evaluate_methods(model, x, maps, targets=targets, steps=10, batch_size=32, score=score)
        assert list(both[score]) == list(maps)
        for name in maps:
            assert_identical(both[score][name], alone[name])
            assert both[score][name].score == alone[name].score == score
    # One pass: the same forwards as ONE score alone, not two.
    assert both["logit"]["saliency"].num_forwards == alone["saliency"].num_forwards
    # targets=None is the model's top-1, as everywhere.
    default = evaluate_scores(model, x, {"random": maps["random"]}, steps=10, batch_size=32)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(default["probability"]["random"], f),
                                      getattr(both["probability"]["random"], f), err_msg=f)


def test_the_engine_of_both_scores_traces_once(embedded):
    model, x, targets = embedded
    maps = np.random.default_rng(1).normal(size=x.shape[:3])
    for n in (1, 3, 4):
        evaluate_scores(model, x[:n], {"m": maps[:n]}, targets=targets[:n], steps=3, batch_size=16)
    engine = get_engine(model.logits_model, 16, x.shape[1:], LOGIT_PROBABILITY)
    assert engine.tracing_count() == 1


# ---------------------------------------------------------------- which scores a model has
@pytest.fixture(scope="module")
def cnn_data():
    model = small_cnn(input_shape=(6, 6, 3), classes=3, seed=3)
    x = model.preprocess(random_images(4, (6, 6, 3), seed=1))
    maps = np.random.default_rng(0).normal(size=(4, 6, 6))
    return model, x, maps, np.array([0, 1, 2, 0])


def test_keras_softmax_model_has_both_scores_and_a_plain_callable_its_output(cnn_data):
    model, x, maps, targets = cnn_data
    keras = model.keras_model
    same = dict(baseline=model.baseline, targets=targets, steps=None, batch_size=16)
    by_keras = evaluate_scores(keras, x, {"m": maps}, **same)
    assert list(by_keras) == ["logit", "probability"]
    for score in ("logit", "probability"):
        assert_identical(by_keras[score]["m"], evaluate_methods(keras, x, {"m": maps}, score=score, **same)["m"])
    assert evaluate(keras, x, maps, **same).score == "probability"  # score=None: its own output, a probability
    # A plain callable (or a Keras model without a final softmax): its own output, under the key "output".
    plain = lambda t: keras(t, training=False)  # noqa: E731
    assert model_scores(plain) == (OUTPUT_SCORE,) == ("output",)
    by_plain = evaluate_scores(plain, x, {"m": maps}, **same)
    assert list(by_plain) == ["output"]
    alone = evaluate(plain, x, maps, **same)
    assert_identical(by_plain["output"]["m"], alone)
    assert alone.score == "output"
    np.testing.assert_array_equal(by_plain["output"]["m"].tps, by_keras["probability"]["m"].tps)
    linear = tf.keras.Sequential([tf.keras.layers.InputLayer(input_shape=(6, 6, 3)), tf.keras.layers.Flatten(),
                                  tf.keras.layers.Dense(3)])
    assert model_scores(linear) == ("output",)
    assert list(evaluate_scores(linear, x, {"m": maps}, **same)) == ["output"]


def test_separate_softmax_layer_probability_matches(cnn_data):
    # A Keras model ending in a Softmax layer: the engine reads logits from the layer before it.
    _, x, maps, targets = cnn_data
    L = tf.keras.layers
    tf.keras.utils.set_random_seed(5)
    model = tf.keras.Sequential([L.InputLayer(input_shape=(6, 6, 3)), L.Flatten(), L.Dense(3), L.Softmax()])
    same = dict(baseline=np.zeros((6, 6, 3), np.float32), targets=targets, steps=None, batch_size=16)
    both = evaluate_scores(model, x, {"m": maps}, **same)
    assert_identical(both["probability"]["m"], evaluate(model, x, maps, score="probability", **same))
    assert_identical(both["logit"]["m"], evaluate(model, x, maps, score="logit", **same))


# ---------------------------------------------------------------- several map sets, per-map targets, subsets
def test_map_sets_with_their_own_images_and_targets_in_one_pass(cnn_data):
    model, x, maps, targets = cnn_data
    rng = np.random.default_rng(7)
    other = rng.normal(size=(4, 6, 6, 3))        # full channels, one per image
    subset = rng.normal(size=(2, 6, 6))           # two maps, for images 3 and 1, with their own targets
    sets = {"a": maps, ("a", "variant"): other, "label": subset, "none": np.zeros((0, 6, 6))}
    got = evaluate_scores(model, x, sets, targets={"label": np.array([2, 2]), "none": np.zeros(0, int)},
                          image_index={"label": np.array([3, 1]), "none": np.zeros(0, int)}, steps=None,
                          batch_size=16)
    top1 = evaluate_scores(model, x, {"a": maps}, steps=None, batch_size=16)  # "a": absent from targets -> top-1
    for score in ("logit", "probability"):
        res = got[score]
        assert list(res) == list(sets) and [len(r) for r in res.values()] == [4, 4, 2, 0]
        one = dict(steps=None, batch_size=16, score=score)
        for key, expected in (("a", evaluate(model, x, maps, targets=top1[score]["a"].targets, **one)),
                              (("a", "variant"), evaluate(model, x, other, targets=top1[score]["a"].targets, **one)),
                              ("label", evaluate(model, x[[3, 1]], subset, targets=np.array([2, 2]), **one))):
            for f in ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps", "y0", "yb"):
                np.testing.assert_allclose(getattr(res[key], f), getattr(expected, f), atol=1e-7, rtol=0,
                                           err_msg=f"{score} {key} {f}")
        np.testing.assert_array_equal(res["label"].image_index, [3, 1])
        np.testing.assert_array_equal(res["label"].targets, [2, 2])
    # One engine pass: the forwards of ONE evaluate call over all maps (image_index, per-map targets), fewer than
    # the three calls' total (y0 and y_b of an (image, target) are shared by the sets).
    t1 = top1["logit"]["a"].targets
    flat = evaluate(model, x, np.concatenate([maps, other.sum(-1), subset]), steps=None, batch_size=16,
                    image_index=np.r_[0:4, 0:4, 3, 1], targets=np.r_[t1, t1, 2, 2])
    assert got["logit"]["a"].num_forwards == got["probability"]["label"].num_forwards == flat.num_forwards
    separate = sum(evaluate(model, x[i], m, targets=t, steps=None, batch_size=16).num_forwards
                   for i, m, t in ((slice(None), maps, t1), (slice(None), other, t1), ([3, 1], subset, [2, 2])))
    assert flat.num_forwards < separate


def test_evaluate_scores_input_errors(cnn_data):
    model, x, maps, targets = cnn_data
    with pytest.raises(ValueError, match="empty"):
        evaluate_scores(model, x, {})
    with pytest.raises(ValueError, match="maps of 'b' has 3 maps for 4 images"):
        evaluate_scores(model, x, {"a": maps, "b": maps[:3]}, targets=targets)
    with pytest.raises(ValueError, match="image_index of 'b' has shape"):
        evaluate_scores(model, x, {"b": maps[:3]}, targets=targets, image_index={"b": np.array([0, 1])})
    with pytest.raises(ValueError, match="image_index of 'b' out of range"):
        evaluate_scores(model, x, {"b": maps[:1]}, targets=targets, image_index={"b": np.array([4])})
    with pytest.raises(ValueError, match="targets of 'b' has shape"):
        evaluate_scores(model, x, {"b": maps}, targets={"b": targets[:2]})
    with pytest.raises(ValueError, match="not in maps"):
        evaluate_scores(model, x, {"b": maps}, targets={"c": targets})
    with pytest.raises(ValueError, match=r"expected \(4,\) ints"):
        evaluate_scores(model, x, {"b": maps}, targets=targets[:3])
    with pytest.raises(ValueError, match="targets out of range"):
        evaluate_scores(model, x, {"b": maps}, targets=targets + 3)
    with pytest.raises(TypeError, match="positional"):
        evaluate_scores(model, x, {"b": maps}, None, targets)


# ---------------------------------------------------------------- the three S-Ord readings
# (Example 1 by hand: test_criteria_toys.py)
def overshoot_model(t):
    """f(x) = 3 x1 - x2 - x3 on (B, 1, 3, 1) inputs."""
    flat = tf.reshape(t, (-1, 3))
    return tf.reshape(3.0 * flat[:, 0] - flat[:, 1] - flat[:, 2], (-1, 1))


def test_overshoot_separates_the_printed_and_the_text_readings():
    # x = (1, 1, 1), zero baseline: y0 = 3 - 1 - 1 = 1, y_b = 0. Map (2, 1, -1): pi+ = x1, x2 (x3 is never added).
    # Adding: R'_0 = 0, R'_1 = f(1, 0, 0) = 3, R'_2 = f(1, 1, 0) = 2 = R'_M > y0 (adding pi+ overshoots y0).
    # printed  min(R', 2) - 1 = -1, 1, 1 -> 1/3 (positive: the cap R'_M itself exceeds y0)
    # text     min(R', 1) - 1 = -1, 0, 0 -> -1/3
    # baseline min(R', 2) - 0 =  0, 2, 2 -> 4/3
    res = evaluate(overshoot_model, np.ones((1, 1, 3, 1), np.float32), np.array([[[2.0, 1.0, -1.0]]]),
                   baseline=np.zeros((1, 3, 1)), targets=np.zeros(1, int), steps=None, batch_size=4)
    np.testing.assert_array_equal(res.curves[0].sufficiency.y, [0, 3, 2])
    assert (res.y0[0], res.yb[0], res.num_positive[0]) == (1, 0, 2)
    assert res.s_ord[0] == pytest.approx(1 / 3, rel=1e-12)
    assert res.s_ord_text[0] == pytest.approx(-1 / 3, rel=1e-12)
    assert res.s_ord_baseline[0] == pytest.approx(4 / 3, rel=1e-12)


def test_subset_keeps_every_field(cnn_data):
    model, x, maps, targets = cnn_data
    res = evaluate(model, x, maps, targets=targets, steps=None, batch_size=16, score="logit")
    part = res.subset([2, 0])
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(part, f), getattr(res, f)[[2, 0]], err_msg=f)
    assert part.reason == [res.reason[2], res.reason[0]] and part.curves == [res.curves[2], res.curves[0]]
    assert (part.steps, part.num_forwards, part.score) == (res.steps, res.num_forwards, "logit")
    assert not np.array_equal(res.s_ord_text, res.s_ord_baseline)
