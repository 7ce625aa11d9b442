"""The paper's toy models through the same engine as images: features are pixels of a (1, F, 1) input.

Example 1 / Table 1 / Figure 3: M(x) = max(x1, x2), x = (1, 1, 1), zero baseline. The linear toy 2 x1 + x2 at
(1, 1) of Section 3.5. Proposition 4 on random linear models with all-positive grad x input. All expected numbers
are derived by hand in the comments.
"""

from functools import partial

import numpy as np
import pytest
import tensorflow as tf

from repro.criteria import evaluate
from repro.testing import linear_classifier

# Toy models read as they are (score=None): their one output is the model's "score" (Section 3's toy examples).
evaluate = partial(evaluate, score=None)

TABLE_1 = np.array([[1 / 6, 1 / 3, 1 / 2],   # A1
                    [2 / 3, 0, 1 / 3],       # A2
                    [2 / 3, 1 / 3, 0]])      # A3


def max_model():
    return tf.keras.Sequential([
        tf.keras.layers.InputLayer(input_shape=(1, 3, 1)),
        tf.keras.layers.Lambda(lambda x: tf.reduce_max(x[:, 0, :2, 0], axis=1, keepdims=True)),
    ])


def run_example1(scores, **kw):
    x = np.ones((3, 1, 3, 1), np.float32)
    return evaluate(max_model(), x, scores.reshape(3, 1, 3), baseline=np.zeros((1, 3, 1)), targets=np.zeros(3, int),
                    steps=None, batch_size=4, **kw)


def test_figure3_deletion_curves_over_the_full_ordering():
    # Figure 3 deletes features in the full ordering (zero scores included). Shifting all scores by +1 keeps the
    # order and makes every feature positive, so the engine's pi+ is the full ordering.
    # A1 order x3,x2,x1: max(1,1)=1, 1, max(x1=1,0)=1, 0. A2 order x1,x3,x2: 1, max(0,1)=1, 1, 0.
    # A3 order x1,x2,x3: 1, 1, 0, 0.
    res = run_example1(TABLE_1 + 1)
    np.testing.assert_array_equal(res.curves[0].necessity.y, [1, 1, 1, 0])
    np.testing.assert_array_equal(res.curves[1].necessity.y, [1, 1, 1, 0])
    np.testing.assert_array_equal(res.curves[2].necessity.y, [1, 1, 0, 0])
    # AOPC = mean(y0 - R_m): A1 = A2 = 1/4 < A3 = 1/2, so AOPC ranks A3 above A1 = A2.
    aopc = [np.mean(c.y0 - c.necessity.y) for c in res.curves]
    np.testing.assert_allclose(aopc, [1 / 4, 1 / 4, 1 / 2])


def test_example1_n_ord_and_s_ord_over_pi_plus():
    res = run_example1(TABLE_1)
    np.testing.assert_array_equal(res.num_positive, [3, 2, 2])
    np.testing.assert_array_equal(res.y0, [1, 1, 1])
    np.testing.assert_array_equal(res.yb, [0, 0, 0])
    # S-Ord (eq. 4): adding along pi+ to the zero image.
    # A1 pi+ = x3,x2,x1: R' = 0,0,1,1 -> min(R',1) - 1 = -1,-1,0,0 -> -1/2.
    # A2 pi+ = x1,x3:    R' = 0,1,1   -> -1,0,0 -> -1/3.   A3 pi+ = x1,x2: R' = 0,1,1 -> -1/3.
    np.testing.assert_allclose(res.s_ord, [-1 / 2, -1 / 3, -1 / 3])
    np.testing.assert_array_equal(res.curves[0].sufficiency.y, [0, 0, 1, 1])
    # N-Ord (eq. 3), y_b = 0: A1 R = 1,1,1,0 -> 3/4; A2 R = 1,1,1 -> 1; A3 R = 1,1,0 -> 2/3.
    np.testing.assert_allclose(res.n_ord, [3 / 4, 1, 2 / 3])


def test_example1_three_s_ord_readings_by_hand():
    res = run_example1(TABLE_1)
    # y0 = 1, y_b = 0. Adding along pi+ into the zero image (R'_M = 1 for all three):
    # A1 pi+ = x3, x2, x1: R' = 0, 0, 1, 1; A2 pi+ = x1, x3: R' = 0, 1, 1; A3 pi+ = x1, x2: R' = 0, 1, 1.
    # printed  mean(min(R', R'_M) - y0): A1 (-1 - 1 + 0 + 0)/4 = -1/2; A2, A3 (-1 + 0 + 0)/3 = -1/3.
    # text     mean(min(R', y0) - y0):   the same numbers, since R'_M = y0 = 1 here.
    # baseline mean(min(R', R'_M) - y_b): A1 (0 + 0 + 1 + 1)/4 = 1/2; A2, A3 (0 + 1 + 1)/3 = 2/3.
    np.testing.assert_array_equal(res.curves[1].sufficiency.y, [0, 1, 1])
    np.testing.assert_allclose(res.s_ord, [-1 / 2, -1 / 3, -1 / 3], rtol=1e-12)
    np.testing.assert_allclose(res.s_ord_text, [-1 / 2, -1 / 3, -1 / 3], rtol=1e-12)
    np.testing.assert_allclose(res.s_ord_baseline, [1 / 2, 2 / 3, 2 / 3], rtol=1e-12)


def test_example1_tpn_tps_of_a3_by_hand():
    # A3: pi+ = x1 (2/3), x2 (1/3), S = 1. Removal top (0,1) (2/3,1) (1,0); bottom (0,1) (1/3,1) (1,0).
    # |top - bottom| = 1.5(k - 1/3) on [1/3, 2/3], 1.5(1 - k) on [2/3, 1]: area 1/12 + 1/12 = 1/6.
    # y_b = R_M = 0 -> r = 1 (the epsilon placement), y0 = 1: TPN = 1/6.
    # Adding: top (0,0) (2/3,1) (1,1); bottom (0,0) (1/3,1) (1,1): area 1/12 + 1/12 = 1/6, r' = 1: TPS = 1/6.
    res = run_example1(TABLE_1)
    assert res.tpn[2] == pytest.approx(1 / 6, rel=1e-9)
    assert res.tps[2] == pytest.approx(1 / 6, rel=1e-9)
    np.testing.assert_allclose(res.curves[2].tpn_top.x, [0, 2 / 3, 1])
    np.testing.assert_allclose(res.curves[2].tpn_bottom.x, [0, 1 / 3, 1])


def linear_toy(t):
    return tf.reshape(2.0 * t[:, 0, 0, 0] + t[:, 0, 1, 0], [-1, 1])


@pytest.mark.parametrize("steps", [None, 1, 100])
def test_linear_toy_proportional_vs_disproportional(steps):
    x = np.ones((2, 1, 2, 1), np.float32)
    maps = np.array([[2.0, 1.0], [10.0, 1.0]]).reshape(2, 1, 2)
    res = evaluate(linear_toy, x, maps, baseline=np.zeros((1, 2, 1)), targets=np.zeros(2, int), steps=steps,
                   batch_size=3)
    # Same order x1, x2 for both. Removal R = 3, 1, 0 and y_b = 0: N-Ord = 4/3.
    # Adding R' = 0, 2, 3 and y0 = 3: S-Ord = (-3 - 1 + 0) / 3 = -4/3. Unchanged by the 10:1 scores.
    # (steps=1 < M = 2: counts 0 and 2 only; m = 1 is read on the line between them: R_1 = 1.5, R'_1 = 1.5,
    #  so N-Ord = (3 + 1.5 + 0) / 3 = 3/2 and S-Ord = (-3 - 1.5 + 0) / 3 = -3/2.)
    if steps == 1:
        np.testing.assert_allclose(res.n_ord, [3 / 2, 3 / 2])
        np.testing.assert_allclose(res.s_ord, [-3 / 2, -3 / 2])
    else:
        np.testing.assert_allclose(res.n_ord, [4 / 3, 4 / 3])
        np.testing.assert_allclose(res.s_ord, [-4 / 3, -4 / 3])
    # 2:1 is proportional: both removal curves are 3 - 3k -> TPN = TPS = 0.
    assert res.tpn[0] == pytest.approx(0, abs=1e-9) and res.tps[0] == pytest.approx(0, abs=1e-9)
    if steps == 1:  # share counts for K = 1 are 0 and M only: straight lines, no disproportion visible
        assert res.tpn[1] == pytest.approx(0, abs=1e-9)
    else:  # 10:1: area 8/11 (see test_criteria_math), y0 = 3, r = r' = 1 -> 8/33
        assert res.tpn[1] == pytest.approx(8 / 33, rel=1e-6)
        assert res.tps[1] == pytest.approx(8 / 33, rel=1e-6)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("steps", [None, 7])
def test_proposition4_linear_model_grad_x_input(seed, steps):
    # Logits W x + b with W > 0, b >= 0 and x > 0: grad x input = W[:, t] * x > 0 satisfies sensitivity-n for
    # every n (removing a set of pixels lowers the logit by exactly their scores), so every point (k_m, R_m) of
    # both curves lies on the line y0 - S k: TPN = TPS = 0 in exact and stepped mode.
    model = linear_classifier(input_shape=(8, 8, 3), classes=3, seed=seed)
    dense = model.keras_model.get_layer("predictions")
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.05, 1.0, size=dense.kernel.shape).astype(np.float32)
    dense.set_weights([w, rng.uniform(0, 1, size=3).astype(np.float32)])
    x = rng.uniform(0.05, 1.0, size=(3, 8, 8, 3)).astype(np.float32)
    targets = np.array([0, 1, 2])
    maps = np.stack([w[:, t].reshape(8, 8, 3) * x[i] for i, t in enumerate(targets)])
    res = evaluate(model, x, maps, targets=targets, steps=steps, score="logit", batch_size=32)
    assert np.all(res.num_positive == 64)
    np.testing.assert_allclose(res.tpn, 0, atol=1e-6)
    np.testing.assert_allclose(res.tps, 0, atol=1e-6)
    # Negative control: squared scores keep the order but break proportionality.
    res2 = evaluate(model, x, maps ** 2, targets=targets, steps=steps, score="logit", batch_size=32)
    assert np.all(res2.tpn > 1e-3) and np.all(res2.tps > 1e-3)
