"""The batched engine against a brute-force plain-numpy reference (one forward per point, its own ranking, its
own formulas and its own area integration), plus batching, ordering, retracing and the NaN cases."""

from functools import partial

import numpy as np
import pytest
import tensorflow as tf

from repro.criteria import evaluate, evaluate_methods

from repro.criteria.api import REASON_NO_POSITIVE, REASON_R_CLIPPED, REASON_R_PRIME_CLIPPED, REASON_Y0, nan_reason
from repro.criteria.result import RATIO_FLOOR, REASON_SEPARATOR, pair_reason
from repro.criteria.curves import get_engine
from repro.testing import random_images, small_cnn

# The engine's tests read the model's own output (score=None), as they were written; the API's defaults (the
# study's: the logit, adaptive sampling) are tested in tests/criteria/test_layouts_and_defaults.py.
evaluate = partial(evaluate, score=None)
evaluate_methods = partial(evaluate_methods, score=None)

EPS = 1e-10
SHAPE = (6, 6, 3)


# ---------------------------------------------------------------- brute-force reference (independent code)
def _area_abs_diff(ka, ya, kb, yb):
    """integral_0^1 |a - b| for piecewise-linear curves, splitting each piece at a zero crossing."""
    grid = sorted(set(ka) | set(kb))
    total = 0.0
    for u, v in zip(grid[:-1], grid[1:]):
        d0 = np.interp(u, ka, ya) - np.interp(u, kb, yb)
        d1 = np.interp(v, ka, ya) - np.interp(v, kb, yb)
        if d0 * d1 >= 0:
            total += (v - u) * (abs(d0) + abs(d1)) / 2
        else:
            t = d0 / (d0 - d1)  # crossing at u + t (v - u)
            total += (v - u) * (t * abs(d0) + (1 - t) * abs(d1)) / 2
    return total


def reference(model_fn, x, scores, baseline, target):
    """All four criteria of one image by brute force: ``scores`` (H, W), ``x`` and ``baseline`` (H, W, C)."""
    H, W, _ = x.shape
    flat = scores.ravel()
    pos = sorted((p for p in range(H * W) if flat[p] > 0), key=lambda p: (-flat[p], p))
    f = lambda img: float(model_fn(img[None].astype(np.float32))[0, target])  # noqa: E731

    def removed(pixels):
        img = x.copy()
        for p in pixels:
            img[p // W, p % W, :] = baseline[p // W, p % W, :]
        return img

    def added(pixels):
        img = baseline.copy()
        for p in pixels:
            img[p // W, p % W, :] = x[p // W, p % W, :]
        return img

    y0, yb, M = f(x), f(baseline), len(pos)
    out = dict(y0=y0, yb=yb, M=M)
    if M == 0:
        return dict(out, n_ord=np.nan, s_ord=np.nan, s_ord_text=np.nan, s_ord_baseline=np.nan, tpn=np.nan,
                    tps=np.nan)
    rev = pos[::-1]
    R = [f(removed(pos[:m])) for m in range(M + 1)]
    Rrev = [f(removed(rev[:m])) for m in range(M + 1)]
    A = [f(added(pos[:m])) for m in range(M + 1)]
    Arev = [f(added(rev[:m])) for m in range(M + 1)]
    S = sum(flat[p] for p in pos)
    k_top = [sum(flat[p] for p in pos[:m]) / S for m in range(M + 1)]
    k_bot = [sum(flat[p] for p in rev[:m]) / S for m in range(M + 1)]
    k_top[-1] = k_bot[-1] = 1.0
    clip = lambda v: [max(a, 0.0) for a in v]  # noqa: E731
    r = min((max(yb, 0) + EPS) / (max(R[M], 0) + EPS), 1.0)
    r2 = min((max(A[M], 0) + EPS) / (max(y0, 0) + EPS), 1.0)
    return dict(out,
                n_ord=sum(max(v - yb, 0) for v in R) / (M + 1),
                s_ord=sum(min(v, A[M]) - y0 for v in A) / (M + 1),
                s_ord_text=sum(min(v, y0) - y0 for v in A) / (M + 1),
                s_ord_baseline=sum(min(v, A[M]) - yb for v in A) / (M + 1),
                tpn=_area_abs_diff(k_top, clip(R), k_bot, clip(Rrev)) / (r * max(y0, 0) + EPS),
                tps=_area_abs_diff(k_top, clip(A), k_bot, clip(Arev)) / (r2 * max(y0, 0) + EPS),
                R=R)


# ---------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def cnn():
    return small_cnn(input_shape=SHAPE, classes=3, seed=3)


@pytest.fixture(scope="module")
def data(cnn):
    rng = np.random.default_rng(0)
    x = cnn.preprocess(random_images(5, SHAPE, seed=1))
    maps = rng.normal(size=(5, *SHAPE[:2]))
    maps[1] = np.round(maps[1] * 2)            # ties (and zeros): integers in about [-5, 5]
    maps[2] = -np.abs(maps[2])                 # M = 0
    maps[3] = np.where(maps[3] > 1.0, 3.0, maps[3])  # a block of equal top scores
    targets = np.array([0, 1, 2, 0, 1])
    return x, maps, targets


@pytest.fixture(scope="module")
def exact(cnn, data):
    x, maps, targets = data
    return evaluate(cnn, x, maps, targets=targets, steps=None, batch_size=16)


def test_engine_matches_brute_force_in_exact_mode(cnn, data, exact):
    x, maps, targets = data
    fn = lambda b: cnn.keras_model(b, training=False).numpy()  # noqa: E731
    for i in range(len(x)):
        ref = reference(fn, x[i], maps[i], cnn.baseline, targets[i])
        assert exact.num_positive[i] == ref["M"]
        for key in ("y0", "yb", "n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps"):
            got = getattr(exact, key)[i]
            if np.isnan(ref[key]):
                assert np.isnan(got), (i, key)
            else:
                assert got == pytest.approx(ref[key], abs=1e-6), (i, key)
        if ref["M"]:
            np.testing.assert_allclose(exact.curves[i].necessity.y, ref["R"], atol=1e-6)
    assert exact.reason[2] == REASON_NO_POSITIVE
    assert [r for i, r in enumerate(exact.reason) if i != 2] == [""] * 4


def test_forward_count_exact_mode(exact):
    # 4M - 2 per (image, map) with M > 0, 2 per image (y0, y_b).
    M = exact.num_positive
    assert exact.num_forwards == int(np.sum(np.where(M > 0, 4 * M - 2, 0))) + 2 * len(M)


def test_stepped_converges_to_exact():
    model = small_cnn(input_shape=(12, 12, 3), classes=3, seed=5)
    x = model.preprocess(random_images(4, (12, 12, 3), seed=2))
    maps = np.random.default_rng(4).normal(size=(4, 12, 12)) + 0.3
    ex = evaluate(model, x, maps, targets=np.array([0, 1, 2, 0]), steps=None, batch_size=64)
    assert ex.num_positive.min() > 80
    errs = {}
    for K in (5, 10, 20, 40, 80, 144):
        st = evaluate(model, x, maps, targets=np.array([0, 1, 2, 0]), steps=K, batch_size=64)
        errs[K] = max(float(np.max(np.abs(getattr(st, c) - getattr(ex, c)))) for c in ("n_ord", "s_ord", "tpn", "tps"))
    # Observed (these seeds, M = 84..103 of 144 pixels), max |stepped - exact| over the 4 criteria and 4 images:
    # K=5: 0.059, K=10: 0.030, K=20: 0.026, K=40: 0.0096, K=80: 0.0031 (TPS is the slowest), 0 once K >= M.
    assert errs[144] == 0.0
    assert errs[80] <= errs[20] <= errs[5]
    assert errs[40] < 0.5 * errs[5]
    assert errs[80] < 0.005, errs


@pytest.mark.parametrize("batch_size", [1, "divisor-1", "divisor", "divisor+1"])
def test_batch_size_changes_nothing(cnn, data, exact, batch_size):
    x, maps, targets = data
    Q = exact.num_forwards
    d = next(d for d in range(7, Q) if Q % d == 0)
    bs = {"divisor-1": d - 1, "divisor": d, "divisor+1": d + 1}.get(batch_size, batch_size)
    res = evaluate(cnn, x, maps, targets=targets, steps=None, batch_size=bs)
    for key in ("n_ord", "s_ord", "tpn", "tps", "y0", "yb"):
        np.testing.assert_allclose(getattr(res, key), getattr(exact, key), atol=1e-7, rtol=0, err_msg=key)


def test_image_order_and_count_change_nothing(cnn, data, exact):
    x, maps, targets = data
    perm = np.array([3, 0, 4, 2, 1])
    res = evaluate(cnn, x[perm], maps[perm], targets=targets[perm], steps=None, batch_size=16)
    one = evaluate(cnn, x[4:], maps[4:], targets=targets[4:], steps=None, batch_size=16)
    for key in ("n_ord", "s_ord", "tpn", "tps", "y0", "yb"):
        np.testing.assert_allclose(getattr(res, key), getattr(exact, key)[perm], atol=1e-7, rtol=0)
        np.testing.assert_allclose(getattr(one, key), getattr(exact, key)[4:], atol=1e-7, rtol=0)


def test_many_maps_per_image_share_images_and_forwards(cnn, data, exact):
    x, maps, targets = data
    other = np.random.default_rng(9).normal(size=maps.shape)
    both = evaluate(cnn, x, np.concatenate([maps, other]), targets=targets, steps=None, batch_size=16,
                    image_index=np.tile(np.arange(5), 2))
    single = evaluate(cnn, x, other, targets=targets, steps=None, batch_size=16)
    by_method = evaluate_methods(cnn, x, {"a": maps, "b": other}, targets=targets, steps=None, batch_size=16)
    for key in ("n_ord", "s_ord", "tpn", "tps"):
        np.testing.assert_allclose(getattr(both, key)[:5], getattr(exact, key), atol=1e-7, rtol=0)
        np.testing.assert_allclose(getattr(both, key)[5:], getattr(single, key), atol=1e-7, rtol=0)
        np.testing.assert_allclose(getattr(by_method["b"], key), getattr(single, key), atol=1e-7, rtol=0)
    # y0 and y_b are evaluated once per image, not once per map.
    assert both.num_forwards == exact.num_forwards + single.num_forwards - 2 * 5
    assert by_method["a"].num_forwards == both.num_forwards
    # targets per map (P,) with image_index: same numbers, and a different target for one map is honoured.
    per_map = evaluate(cnn, x, np.concatenate([maps, other]), targets=np.tile(targets, 2), steps=None,
                       batch_size=16, image_index=np.tile(np.arange(5), 2))
    np.testing.assert_allclose(per_map.tpn, both.tpn, atol=1e-7, rtol=0)
    t2 = np.concatenate([targets, (targets + 1) % 3])
    mixed = evaluate(cnn, x, np.concatenate([maps, other]), targets=t2, steps=None, batch_size=16,
                     image_index=np.tile(np.arange(5), 2))
    shifted = evaluate(cnn, x, other, targets=(targets + 1) % 3, steps=None, batch_size=16)
    np.testing.assert_allclose(mixed.tpn[5:], shifted.tpn, atol=1e-7, rtol=0)
    np.testing.assert_array_equal(mixed.targets, t2)


def test_no_retracing_across_calls(cnn, data):
    x, maps, targets = data
    for n in (1, 3, 5):
        evaluate(cnn, x[:n], maps[:n], targets=targets[:n], steps=4, batch_size=8)
    engine = get_engine(cnn.score_model("probability"), 8, SHAPE)
    assert engine.tracing_count() == 1


def test_y0_not_positive_gives_nan_tpn_tps_with_reason():
    neg = lambda t: tf.reshape(-1.0 - tf.reduce_sum(t, axis=[1, 2, 3]), [-1, 1])  # noqa: E731
    x = np.ones((1, 1, 3, 1), np.float32)
    res = evaluate(neg, x, np.ones((1, 1, 3)), baseline=np.zeros((1, 3, 1)), targets=np.zeros(1, int), steps=None)
    assert res.reason == [REASON_Y0]
    assert np.isnan(res.tpn[0]) and np.isnan(res.tps[0])
    # y0 = -4, y_b = -1, R = -4, -3, -2, -1: N-Ord = mean(max(R + 1, 0)) = 0; S-Ord = mean(min(R', -4) + 4) = 0
    assert res.n_ord[0] == 0 and res.s_ord[0] == 0


def _affine(w, b):
    """``f(x) = w . x + b`` on inputs ``(B, 1, 3, 1)``: a logit-like score that can be negative."""
    w = tf.constant(np.reshape(w, (1, 1, 3, 1)), tf.float32)
    return lambda t: tf.reshape(tf.reduce_sum(t * w, axis=[1, 2, 3]) + b, [-1, 1])


def _one_image(f, scores_row):
    x = np.ones((1, 1, 3, 1), np.float32)
    return evaluate(f, x, np.array([[scores_row]], np.float32), baseline=np.zeros((1, 3, 1)),
                    targets=np.zeros(1, int), steps=None)


def test_clipped_yb_flags_a_finite_huge_tpn():
    """f = 2 x1 + x2 + 2 x3 - 1 at x = (1, 1, 1), zero baseline, map (1, 1, -1): y0 = 4, y_b = -1 (clipped to 0),
    pi+ = (x1, x2) with shares 1/2 each. Removing: top 4, 2, R_M = f(0, 0, 1) = 1; bottom 4, 3, 1; |top - bottom| =
    0, 1, 0 at k = 0, 1/2, 1: area 1/2. r = (0 + eps) / (1 + eps), so TPN = 0.5 / (4 eps / (1 + eps) + eps) = 1e9.
    Adding: top 0 (clipped), 1, R'_M = 2; bottom 0, 0, 2: area 1/2; r' = 2/4; TPS = 0.5 / (0.5 * 4 + eps) = 0.25."""
    res = _one_image(_affine([2, 1, 2], -1.0), [1, 1, -1])
    assert res.y0[0] == 4 and res.yb[0] == -1
    assert res.reason == [REASON_R_CLIPPED] and not nan_reason(res.reason[0])
    assert np.isfinite(res.tpn[0]) and res.tpn[0] == pytest.approx(0.5 / (4 * EPS / (1 + EPS) + EPS), rel=1e-6)
    assert res.tpn[0] > 1e8
    assert res.tps[0] == pytest.approx(0.25, rel=1e-6)
    assert np.isfinite([res.n_ord[0], res.s_ord[0]]).all()


def test_clipped_added_all_flags_tps_too_and_the_flags_join():
    """f = x1 + x2 + 4 x3 - 2, map (1, 1, -1): y0 = 4, y_b = -2, R_M = f(0, 0, 1) = 2 > 0 (r ~ eps / 2), R'_M =
    f(1, 1, 0) = 0 (clipped: r' = eps / (4 + eps)). Adding curves all clip to 0: TPS = 0, still flagged."""
    res = _one_image(_affine([1, 1, 4], -2.0), [1, 1, -1])
    assert res.reason == [REASON_R_CLIPPED + REASON_SEPARATOR + REASON_R_PRIME_CLIPPED]
    assert res.tps[0] == 0 and np.isfinite(res.tpn[0])


def test_positive_outputs_give_no_flag():
    """The same map on f = 2 x1 + x2 + 2 x3 + 1: y0 = 6, y_b = 1, R_M = 3, R'_M = 4: r = 1/3, r' = 4/6."""
    res = _one_image(_affine([2, 1, 2], 1.0), [1, 1, -1])
    assert res.reason == [""]
    # y_b <= 0 but removing pi+ reaches it (R_M = f(0, 0, 0) = -1 clipped to 0): r = eps / eps = 1, no flag.
    res = _one_image(_affine([2, 1, 2], -1.0), [1, 1, 1])
    assert res.reason == [""] and res.tpn[0] < 1


def test_pair_reason_threshold_and_precedence():
    assert pair_reason(5, 1.0, 1.0, 1.0) == ""
    assert pair_reason(5, 1.0, RATIO_FLOOR, RATIO_FLOOR) == ""  # strictly below the floor is flagged
    assert pair_reason(5, 1.0, 0.99 * RATIO_FLOOR, 1.0) == REASON_R_CLIPPED
    assert pair_reason(5, 1.0, 1.0, 0.0) == REASON_R_PRIME_CLIPPED
    assert pair_reason(0, 1.0, 0.0, 0.0) == REASON_NO_POSITIVE  # a NaN reason comes alone
    assert pair_reason(5, -1.0, 0.0, 0.0) == REASON_Y0
    assert nan_reason(REASON_NO_POSITIVE) and nan_reason(REASON_Y0) and not nan_reason("")
    assert REASON_SEPARATOR not in REASON_R_CLIPPED + REASON_R_PRIME_CLIPPED
    assert RATIO_FLOOR == 1e-6 and REASON_R_CLIPPED.startswith("r<1e-6 ") and REASON_R_PRIME_CLIPPED.startswith(
        "r'<1e-6 ")  # the texts quote the floor


def test_rows_from_results(exact):
    from repro.results import RESULT_COLUMNS, rows_from_results

    ids = [f"i{k}" for k in range(5)]
    rows = rows_from_results(ids, [7] * 5, {"m": exact, "n": exact}, score=exact.score)
    assert len(rows) == 10 and all(list(r) == list(RESULT_COLUMNS) for r in rows)
    assert [(r["image_id"], r["method"]) for r in rows[:4]] == [("i0", "m"), ("i0", "n"), ("i1", "m"), ("i1", "n")]
    assert rows[4]["num_positive"] == 0 and rows[4]["reason"] == REASON_NO_POSITIVE and rows[4]["label"] == 7
    assert rows[0]["one_minus_s_ord"] == 1 - exact.s_ord[0] and rows[0]["target"] == exact.targets[0]
    assert rows[0]["s_ord_text"] == exact.s_ord_text[0] and rows[0]["s_ord_baseline"] == exact.s_ord_baseline[0]
    assert rows[0]["score"] == exact.score == "probability"  # an ImageModel's own output


def test_input_errors(cnn, data):
    x, maps, targets = data
    with pytest.raises(ValueError, match="5 maps for 4 images"):
        evaluate(cnn, x[:4], maps, targets=targets[:4])
    with pytest.raises(ValueError, match="targets"):
        evaluate(cnn, x, maps, targets=targets[:3])
    with pytest.raises(ValueError, match="targets out of range"):
        evaluate(cnn, x, maps, targets=targets + 3)
    with pytest.raises(ValueError, match="baseline has shape"):
        evaluate(cnn, x, maps, baseline=np.zeros((2, 2, 3)), targets=targets)
    with pytest.raises(ValueError, match="baseline contains non-finite"):
        evaluate(cnn, x, maps, baseline=np.full(x.shape[1:], np.nan, np.float32), targets=targets)
    with pytest.raises(ValueError, match="images contains non-finite"):
        evaluate(cnn, np.where(x == x.max(), np.inf, x), maps, targets=targets)
    with pytest.raises(ValueError, match="steps"):
        evaluate(cnn, x, maps, targets=targets, steps=0)
    with pytest.raises(ValueError, match="baseline is required"):
        evaluate(lambda t: t, x, maps, targets=targets)


def test_engine_cache_does_not_keep_models_alive():
    import gc
    import weakref

    from repro.criteria.curves import _ENGINES

    model = small_cnn(input_shape=(4, 4, 3), classes=2, seed=0)
    x = np.full((1, 4, 4, 3), 0.5, np.float32)
    evaluate(model, x, np.ones((1, 4, 4)), targets=np.array([0]), steps=None, batch_size=4)
    ref = weakref.ref(model.keras_model)
    assert ref() in _ENGINES
    del model
    gc.collect()
    assert ref() is None


def test_score_applies_to_keras_models_and_is_refused_for_plain_callables(cnn, data, exact):
    x, maps, targets = data
    keras = cnn.keras_model
    same = dict(targets=targets, steps=None, batch_size=16)
    # An ImageModel: score=None reads its own output, the probability.
    for score in (None, "probability"):
        np.testing.assert_array_equal(evaluate(cnn, x, maps, score=score, **same).n_ord, exact.n_ord)
    # A Keras model ending in a softmax: "probability" uses it as it is, "logit" strips the softmax.
    base = dict(baseline=cnn.baseline, **same)
    for score in (None, "probability"):
        np.testing.assert_array_equal(evaluate(keras, x, maps, score=score, **base).tps, exact.tps)
    by_image_model = evaluate(cnn, x, maps, score="logit", **same)
    by_keras = evaluate(keras, x, maps, score="logit", **base)
    np.testing.assert_array_equal(by_keras.y0, by_image_model.y0)
    np.testing.assert_array_equal(by_keras.tpn, by_image_model.tpn)
    assert not np.allclose(by_keras.y0, exact.y0)  # logits, not probabilities
    # A plain callable's outputs are used as they are: any score but None is an error, never ignored.
    plain = lambda t: keras(t, training=False)  # noqa: E731
    np.testing.assert_array_equal(evaluate(plain, x, maps, **base).s_ord, exact.s_ord)
    for score in ("probability", "logit"):
        with pytest.raises(ValueError, match="plain callable .* are used as they are: pass score=None"):
            evaluate(plain, x, maps, score=score, **base)
        with pytest.raises(ValueError, match="plain callable"):
            evaluate_methods(plain, x, {"m": maps}, score=score, **base)
    with pytest.raises(ValueError, match="unknown score 'softmax'"):
        evaluate(cnn, x, maps, score="softmax", **same)


def test_keras_model_without_softmax_refuses_a_score(data):
    x, maps, targets = data
    linear = tf.keras.Sequential([tf.keras.layers.InputLayer(input_shape=SHAPE), tf.keras.layers.Flatten(),
                                  tf.keras.layers.Dense(3)])
    base = dict(baseline=np.zeros(SHAPE, np.float32), targets=targets, steps=2)
    assert len(evaluate(linear, x, maps, **base)) == len(x)
    with pytest.raises(ValueError, match="Keras model without a final softmax"):
        evaluate(linear, x, maps, score="logit", **base)


def test_settings_are_keyword_only(cnn, data):
    x, maps, targets = data
    with pytest.raises(TypeError, match="positional"):
        evaluate(cnn, x, maps, None, targets)
    with pytest.raises(TypeError, match="positional"):
        evaluate_methods(cnn, x, {"m": maps}, None, targets)


def test_default_targets_are_the_shared_top1(cnn, data, exact):
    from repro.models import top1_targets

    x, maps, _ = data
    top1 = top1_targets(cnn, x)
    np.testing.assert_array_equal(evaluate(cnn, x, maps, steps=2).targets, top1)
    plain = lambda t: cnn.keras_model(t, training=False)  # noqa: E731
    np.testing.assert_array_equal(evaluate(plain, x, maps, baseline=cnn.baseline, steps=2).targets, top1)
