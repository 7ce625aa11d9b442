"""``steps="adaptive"`` and the error estimates of every mode (:mod:`repro.criteria.adaptive`,
:mod:`repro.criteria.errors`): mathematics, no timings.

* the monotone bound of every interval term is a bound, checked by brute force on random monotone curves;
* exact mode reports 0; the fixed grid and adaptive report the same kind of estimate; claimed bounds hold;
* the toy and linear models of Section 3 give exact mode's numbers; random small CNNs stay within the claimed bounds;
* refinement never asks a count twice; batch size, image order and the set of images change no number;
* step-shaped curves (a callable model reading a few pixels) are localised exactly in a few rounds.
"""

import numpy as np
import pytest
import tensorflow as tf

from repro.claims import toys
from repro.criteria import adaptive, errors, evaluate, evaluate_scores, scores
from repro.criteria.curves import CurveEngine
from repro.testing import random_images, small_cnn

NUMBERS = ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps")
ERRS = tuple(f"{n}_err" for n in NUMBERS)
BOUNDS = tuple(f"{n}_bound" for n in NUMBERS)


def assert_same(a, b, fields=NUMBERS + ERRS + BOUNDS + ("y0", "yb", "num_positive")):
    for f in fields:
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)


# ---------------------------------------------------------------- the monotone bound, by brute force
def random_monotone(rng, M, steps):
    """A monotone staircase (plus a linear trend) of M + 1 values, increasing or decreasing."""
    jumps = np.zeros(M)
    jumps[rng.choice(M, size=min(steps, M), replace=False)] = rng.exponential(1.0, min(steps, M))
    y = np.concatenate([[0.0], np.cumsum(jumps + rng.uniform(0, 0.01))])
    return (y if rng.random() < 0.5 else y[::-1].copy()) + rng.normal(0, 1)


@pytest.mark.parametrize("seed", range(6))
def test_monotone_bound_holds_on_random_monotone_curves(seed):
    rng = np.random.default_rng(seed)
    M = int(rng.integers(40, 300))
    y = random_monotone(rng, M, int(rng.integers(1, 12)))
    k = np.concatenate([[0.0], np.cumsum(rng.exponential(1.0, M))])
    k /= k[-1]
    counts = np.unique(np.concatenate([[0, M], rng.choice(M, size=int(rng.integers(2, 20)), replace=False)]))
    interp = np.interp(np.arange(M + 1), counts, y[counts])
    for lo, hi in ((-np.inf, np.inf), (float(np.median(y)), np.inf), (-np.inf, float(np.median(y)))):
        true = np.abs(np.clip(y, lo, hi) - np.clip(interp, lo, hi)).sum() / (M + 1)
        t = errors.m_terms(counts, y[counts], M, lo, hi)
        assert t.monotone
        assert true <= errors.bound([(0, t)]) + 1e-12
    pos = np.maximum(y, 0.0)
    true_area = scores.area_between(k, pos, k[counts], pos[counts])
    t = errors.k_terms(counts, pos[counts], k, 1.0)
    assert true_area <= errors.bound([(0, t)]) + 1e-12


def test_interval_terms_are_zero_without_gaps_and_for_straight_lines():
    counts = np.arange(11)
    t = errors.m_terms(counts, np.sin(counts), 10)
    assert not t.terms.any() and not t.box.any()
    line = 3.0 - 0.5 * np.arange(0, 101, 10)
    t = errors.m_terms(np.arange(0, 101, 10), line, 100)
    assert np.all(t.terms < 1e-12) and t.box.sum() > 0  # a line: the estimate is 0, the monotone worst case is not


def test_a_turn_next_to_a_gap_withdraws_the_bound():
    t = errors.m_terms(np.array([0, 5, 10, 15]), np.array([0.0, 1.0, 0.5, 0.7]), 15)
    assert not t.monotone and np.isnan(errors.bound([(0, t)]))


# ---------------------------------------------------------------- small CNNs: exact, fixed grid, adaptive
@pytest.fixture(scope="module")
def cnn():
    model = small_cnn((12, 12, 3), classes=3, seed=1)
    x = model.preprocess(random_images(4, (12, 12, 3), seed=2))
    rng = np.random.default_rng(3)
    maps = {"normal": rng.normal(size=(4, 12, 12)), "smooth": np.cumsum(rng.normal(size=(4, 12, 12)), axis=1)}
    targets = np.array([0, 1, 2, 0])
    exact = evaluate_scores(model, x, maps, targets=targets, steps=None)
    return model, x, maps, targets, exact


def test_exact_mode_reports_zero_error(cnn):
    *_, exact = cnn
    for res in (r for by in exact.values() for r in by.values()):
        for f in ERRS + BOUNDS:
            v = getattr(res, f)
            assert np.all((v == 0) | np.isnan(v)), f
        assert res.tol is None and res.rounds == 1


@pytest.mark.parametrize("steps", [5, 20, "adaptive"])
def test_claimed_bounds_hold_against_exact_mode(cnn, steps):
    model, x, maps, targets, exact = cnn
    kw = {"tol": 1e-2} if steps == "adaptive" else {}
    got = evaluate_scores(model, x, maps, targets=targets, steps=steps, **kw)
    for score, by in got.items():
        for key, res in by.items():
            ref = exact[score][key]
            for n in NUMBERS:
                true = np.abs(getattr(res, n) - getattr(ref, n))
                bound = getattr(res, f"{n}_bound")
                ok = ~np.isnan(bound)
                assert np.all(true[ok] <= bound[ok] * (1 + 1e-9) + 1e-12), (score, key, n)
                assert np.all(getattr(res, f"{n}_err")[~np.isnan(true)] >= 0)


def test_adaptive_on_small_cnns_is_near_exact_with_fewer_forwards(cnn):
    model, x, maps, targets, exact = cnn
    got = evaluate_scores(model, x, maps, targets=targets, steps="adaptive", tol=1e-3)
    for score, by in got.items():
        for key, res in by.items():
            ref = exact[score][key]
            assert res.steps == "adaptive" and res.tol == 1e-3 and res.rounds >= 2
            for n in NUMBERS:
                rel = np.abs(getattr(res, n) - getattr(ref, n)) / np.maximum(1.0, np.abs(getattr(ref, n)))
                assert np.nanmax(rel) <= 1e-2, (score, key, n)
    assert got["logit"]["normal"].num_forwards < exact["logit"]["normal"].num_forwards


def test_refinement_never_asks_a_count_twice(cnn, monkeypatch):
    model, x, maps, targets, _ = cnn
    seen: list[np.ndarray] = []
    original = CurveEngine.run_uploaded

    def recording(self, uploaded, queries, progress=False):
        seen.append(np.stack([queries[f] for f in sorted(queries)], axis=1))
        return original(self, uploaded, queries, progress)

    monkeypatch.setattr(CurveEngine, "run_uploaded", recording)
    res = evaluate(model, x, maps["normal"], targets=targets, steps="adaptive", tol=1e-4, score="logit")
    every = np.concatenate(seen)
    assert len(seen) == res.rounds >= 3
    assert len(np.unique(every, axis=0)) == len(every) == res.num_forwards
    for c in res.curves:  # and per curve: the counts are distinct, increasing, from 0 to M
        for curve in (c.necessity, c.sufficiency, c.tpn_bottom, c.tps_bottom):
            assert curve.m[0] == 0 and curve.m[-1] == c.num_positive and np.all(np.diff(curve.m) > 0)


def test_refine_asks_only_counts_inside_gaps():
    rng = np.random.default_rng(0)
    shapes, tables = [], []
    for M in (40, 200, 700):
        k = np.concatenate([[0.0], np.cumsum(rng.exponential(1.0, M))])
        k /= k[-1]
        shapes.append((M, k, k))
        tables.append([np.cumsum(rng.normal(size=(M + 1, 1)), axis=0) for _ in range(4)])
    asked: dict[tuple[int, int], list[int]] = {}

    def ask(requests):
        for p, c, counts in requests:
            asked.setdefault((p, c), []).extend(np.asarray(counts).tolist())
        return [tables[p][c][counts] for p, c, counts in requests]

    out = adaptive.refine(shapes, ask, 1e-4)
    for (p, c), counts in asked.items():
        assert len(counts) == len(set(counts))
        np.testing.assert_array_equal(np.sort(counts), out.pairs[p].counts[c])


def test_batch_size_image_order_and_image_set_change_no_number(cnn):
    model, x, maps, targets, _ = cnn
    m = maps["normal"]
    ref = evaluate(model, x, m, targets=targets, steps="adaptive", tol=1e-3, score="logit", batch_size=64)
    for bs in (1, 7):
        assert_same(evaluate(model, x, m, targets=targets, steps="adaptive", tol=1e-3, score="logit",
                             batch_size=bs), ref)
    perm = np.array([2, 0, 3, 1])
    shuffled = evaluate(model, x[perm], m[perm], targets=targets[perm], steps="adaptive", tol=1e-3, score="logit")
    assert_same(shuffled, ref.subset(perm))
    alone = evaluate(model, x[1:2], m[1:2], targets=targets[1:2], steps="adaptive", tol=1e-3, score="logit")
    assert_same(alone, ref.subset([1]))
    for a, b in zip(alone.curves[0].__dict__.values(), ref.curves[1].__dict__.values()):
        if hasattr(a, "m"):
            np.testing.assert_array_equal(a.m, b.m)


# ---------------------------------------------------------------- the toy and linear models of Section 3
def toy_maps():
    names = list(toys.EXAMPLE1_TABLE1)
    return np.array([toys.EXAMPLE1_TABLE1[n] for n in names], np.float32).reshape(len(names), 1, 3)


@pytest.mark.parametrize("case", ["example1", "linear_toy", "linear_wide"])
def test_section3_toys_adaptive_equals_exact(case):
    if case == "example1":
        model, x, maps = toys.example1_model, toys.EXAMPLE1_X, toy_maps()
    elif case == "linear_toy":
        model, x = toys.linear_toy_model, np.ones((1, 1, 2, 1), np.float32)
        maps = np.array([[10.0, 1.0], [1.0, 10.0], [2.0, 1.0]], np.float32).reshape(3, 1, 2)
    else:  # 2 x1 + x2 generalised to F features, grad x input with equal scores: every curve is a line in m and k
        F = 300
        w = tf.constant(np.where(np.arange(F) % 2 == 0, 2.0, 1.0).astype(np.float32))

        def model(inputs):
            return tf.reduce_sum(tf.reshape(tf.cast(inputs, tf.float32), (-1, F)) * w, axis=1, keepdims=True)

        x = np.ones((1, 1, F, 1), np.float32)
        maps = np.stack([np.ones(F), np.where(np.arange(F) % 2 == 0, 1.0, 0.0)]).reshape(2, 1, F)
    common = dict(baseline=np.zeros(x.shape[1:], np.float32), targets=np.zeros(len(maps), np.int64),
                  image_index=np.zeros(len(maps), np.int64))
    exact = evaluate(model, x, maps, steps=None, **common)
    got = evaluate(model, x, maps, steps="adaptive", **common)
    for n in NUMBERS:
        np.testing.assert_allclose(getattr(got, n), getattr(exact, n), rtol=1e-6, atol=1e-6, err_msg=n)
    if case == "linear_wide":
        assert got.num_forwards < exact.num_forwards / 5  # the lines are found on the first grid
    else:
        assert_same(got, exact, NUMBERS)  # M <= 2 START_STEPS: exact mode itself


# ---------------------------------------------------------------- step-shaped curves
def test_step_curves_are_localised_exactly_in_few_rounds():
    """A callable model reading 3 pixels of a 32 x 32 input: along any order, every curve is piecewise constant with
    at most 3 steps; refinement brackets each step between adjacent counts, where linear interpolation is exact."""
    H = W = 32
    weights = np.zeros((H, W), np.float32)
    weights[3, 7], weights[20, 11], weights[30, 30] = 2.0, 1.0, 0.5
    wt = tf.constant(weights[None, :, :, None])

    def model(inputs):
        return tf.reduce_sum(tf.cast(inputs, tf.float32) * wt, axis=[1, 2, 3])[:, None] + 0.25

    x = np.ones((1, H, W, 1), np.float32)
    rng = np.random.default_rng(0)
    maps = rng.uniform(0.1, 1.0, (2, H, W))  # M = 1024, a random order
    common = dict(baseline=np.zeros((H, W, 1), np.float32), targets=np.zeros(2, np.int64),
                  image_index=np.zeros(2, np.int64))
    exact = evaluate(model, x, maps, steps=None, **common)
    got = evaluate(model, x, maps, steps="adaptive", tol=1e-6, **common)
    for n in NUMBERS:
        np.testing.assert_allclose(getattr(got, n), getattr(exact, n), rtol=1e-12, atol=1e-12, err_msg=n)
        np.testing.assert_array_equal(getattr(got, f"{n}_err"), 0.0)
    assert got.rounds <= 8  # log2(1024 / 16) = 6 bisections after the first grid
    assert got.num_forwards < exact.num_forwards / 10
    loose = evaluate(model, x, maps, steps="adaptive", **common)  # default tol: fewer rounds, within it
    rel = np.abs(loose.n_ord - exact.n_ord) / np.maximum(1, np.abs(exact.n_ord))
    assert loose.rounds <= got.rounds and np.all(rel <= adaptive.DEFAULT_TOL)


# ---------------------------------------------------------------- the API
def test_tol_only_with_adaptive_and_checked():
    model = small_cnn((8, 8, 3), classes=2, seed=0)
    x = model.preprocess(random_images(1, (8, 8, 3)))
    m = np.ones((1, 8, 8))
    with pytest.raises(ValueError, match="tol applies"):
        evaluate(model, x, m, steps=10, tol=1e-3)
    with pytest.raises(ValueError, match="adaptive"):
        evaluate(model, x, m, steps="adaptiv")
    for bad in (0, -1e-3, float("nan"), "x"):
        with pytest.raises(ValueError, match="tol"):
            evaluate(model, x, m, steps="adaptive", tol=bad)
    assert evaluate(model, x, m, steps="adaptive").tol == adaptive.DEFAULT_TOL
