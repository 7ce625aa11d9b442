"""The benchmark harness computes its comparisons correctly (tiny inputs; no timing is asserted anywhere).

Expected values come from arithmetic (padding, projections, least squares by hand) or from a brute-force numpy
re-implementation of "set the top m pixels to the baseline, run the model" that shares no code with the engine
or the peers. Peer tests are skipped when Xplique / Quantus are not installed (they are the optional `bench` extra).
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level folder, not part of the installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import harness, peers  # noqa: E402
from benchmarks.efficiency import measure_efficiency  # noqa: E402
from benchmarks.scaling import image_sweep, project  # noqa: E402
from conftest import require  # noqa: E402

H = W = 8


@pytest.fixture(scope="module")
def tiny():
    """small_cnn on 8x8 inputs, 3 images in [0, 1], strictly positive distinct per-pixel scores, top-1 targets."""
    from repro.models import top1_targets
    from repro.testing import small_cnn

    model = small_cnn((H, W, 3), classes=3, seed=0)
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (3, H, W, 3)).astype(np.float32)
    scores = rng.permutation(np.arange(1, 3 * H * W + 1)).reshape(3, H, W) / (3.0 * H * W)  # distinct, > 0
    targets = top1_targets(model, x)
    return model, x, scores, targets


def brute_curve(model, x, scores, targets, counts, mode, baseline=0.0):
    """f_target(x with its top-m pixels removed (set to baseline) or added (to the baseline)), by plain masking."""
    batch = np.zeros((len(x), len(counts), H, W, 3), np.float32)
    for i in range(len(x)):
        order = np.argsort(-scores[i].ravel(), kind="stable")
        for j, m in enumerate(counts):
            mask = np.zeros(H * W, bool)
            mask[order[:m]] = True
            mask = mask.reshape(H, W, 1)
            batch[i, j] = np.where(mask, baseline, x[i]) if mode == "remove" else np.where(mask, x[i], baseline)
    probs = model.keras_model(batch.reshape(-1, H, W, 3), training=False).numpy().reshape(len(x), len(counts), -1)
    return np.take_along_axis(probs, np.asarray(targets)[:, None, None], axis=2)[..., 0].astype(np.float64)


def test_padded_rows_is_whole_batches():
    assert harness.padded_rows(0, 8) == 0
    assert harness.padded_rows(1, 8) == 8
    assert harness.padded_rows(16, 8) == 16
    assert harness.padded_rows(17, 8) == 24
    with pytest.raises(ValueError):
        harness.padded_rows(3, 0)


def test_linear_fit_by_hand():
    exact = harness.linear_fit([1, 2, 4], [5, 8, 14])  # y = 3x + 2
    assert exact.slope == pytest.approx(3) and exact.intercept == pytest.approx(2)
    assert exact.r2 == pytest.approx(1) and exact.max_rel_residual == pytest.approx(0, abs=1e-12)
    # y = x^2 on 0..3: Sxy = 15, Sxx = 5 -> slope 3, intercept 3.5 - 3 * 1.5 = -1; SSres = 4, SStot = 49.
    quad = harness.linear_fit([0, 1, 2, 3], [0, 1, 4, 9])
    assert quad.slope == pytest.approx(3) and quad.intercept == pytest.approx(-1)
    assert quad.r2 == pytest.approx(1 - 4 / 49)
    with pytest.raises(ValueError):
        harness.linear_fit([1, 1], [2, 3])


def test_projection_arithmetic():
    p = project(images=10, methods=2, forwards_per_pair=100, forwards_per_second=50, overhead=0.1)
    assert p.total_forwards == 2000
    assert p.hours == pytest.approx(2000 / 50 * 1.1 / 3600)
    assert p.pairs_per_hour == pytest.approx(50 * 3600 / (100 * 1.1))
    with pytest.raises(ValueError):
        project(10, 2, 100, 0)


def test_align_and_max_abs_diff():
    m, a, b = peers.align([0, 2, 4, 6], [[0.0, 1.0, 2.0, 3.0]], [1, 2, 6], [[9.0, 1.5, 2.0]])
    assert m.tolist() == [2, 6]
    assert a.tolist() == [[1.0, 3.0]] and b.tolist() == [[1.5, 2.0]]
    assert peers.max_abs_diff([0, 2, 4, 6], [0.0, 1.0, 2.0, 3.0], [1, 2, 6], [9.0, 1.5, 2.0]) == (1.0, 2)
    d, n = peers.max_abs_diff([0, 1], [0.0, 0.0], [2, 3], [0.0, 0.0])
    assert math.isnan(d) and n == 0
    with pytest.raises(ValueError):
        peers.align([0, 0], [1.0, 2.0], [0], [1.0])


def test_strict_order():
    assert peers.strict_order(np.array([[[1.0, 2.0], [3.0, 4.0]]]))
    assert not peers.strict_order(np.array([[[1.0, 1.0], [3.0, 4.0]]]))  # a tie
    assert not peers.strict_order(np.array([[[0.0, 2.0], [3.0, 4.0]]]))  # a pixel outside pi+


def test_markdown_table_and_fmt():
    table = harness.markdown_table(["a", "b"], [[1234, 0.5], ["x", float("nan")]])
    assert table.splitlines() == ["| a | b |", "|---|---|", "| 1,234 | 0.5 |", "| x | n/a |"]
    assert harness.fmt(1.5e-5) == "1.5e-05"
    with pytest.raises(ValueError):
        harness.markdown_table(["a"], [[1, 2]])


def test_counting_forward_counts_compiled_batches(tiny):
    from repro.criteria import evaluate

    model, x, scores, targets = tiny
    counter = harness.CountingForward(model.keras_model)
    np.testing.assert_array_equal(counter(x).numpy(), model.keras_model(x, training=False).numpy())
    counter.reset()
    res = evaluate(counter, x, scores, baseline=model.baseline, targets=targets, steps=10, batch_size=8, score=None)
    assert counter.rows == harness.padded_rows(res.num_forwards, 8)
    assert counter.calls == -(-res.num_forwards // 8)
    ref = evaluate(model, x, scores, targets=targets, steps=10, batch_size=8, score=None)
    np.testing.assert_array_equal(res.n_ord, ref.n_ord)
    np.testing.assert_array_equal(res.tps, ref.tps)


def test_bare_forward_runs_the_requested_batches(tiny):
    model, *_ = tiny
    counter = harness.CountingForward(model.keras_model)
    fn = harness.compiled_forward(counter, 4, (H, W, 3))
    harness.bare_forward_seconds(fn, 5, 4, (H, W, 3))
    assert counter.calls == 6 and counter.rows == 24  # one untimed warm-up call, then the 5 timed ones


def test_measure_efficiency_reports_consistent_counts(tiny):
    from repro.criteria import evaluate

    model, x, scores, targets = tiny
    res = measure_efficiency(model, x, scores, targets, steps=10, batch_size=16, repeats=1)
    ref = evaluate(model, x, scores, targets=targets, steps=10, batch_size=16, score=None)
    assert res.queries == ref.num_forwards
    assert res.rows == harness.padded_rows(ref.num_forwards, 16) == 16 * res.calls
    assert res.naive_per_pair == 6 * 11
    assert res.forwards_per_pair == pytest.approx(ref.num_forwards / 3)
    # M = 64 > K = 10: stepped mode, at most 6K - 4 per pair plus 2 per image.
    assert res.forwards_per_pair <= 6 * 10 - 4 + 2


def test_image_sweep_counts(tiny):
    model, x, scores, targets = tiny
    pts = image_sweep(model, x, scores, targets, counts=[1, 3], steps=4, batch_size=8)
    assert [p.images for p in pts] == [1, 3]
    for p in pts:
        assert p.rows == harness.padded_rows(p.queries, 8)
        assert p.host_peak_mib > 0


def test_engine_curve_matches_brute_force(tiny):
    model, x, scores, targets = tiny
    counts = np.array([0, 1, 5, 17, 64])
    for mode in ("remove", "add"):
        got = peers.engine_curve(model.keras_model, x, scores, model.baseline, targets, counts, mode, batch_size=8)
        np.testing.assert_allclose(got, brute_curve(model, x, scores, targets, counts, mode), atol=1e-6)


@pytest.fixture
def needs_xplique() -> None:
    require(importlib.util.find_spec("xplique") is not None,
            "xplique is not installed (the `bench` extra, which make install puts in .venv)")


@pytest.fixture
def needs_quantus() -> None:
    require(importlib.util.find_spec("quantus") is not None,
            "quantus is not installed (the `bench` extra, which make install puts in .venv)")


@pytest.mark.usefixtures("needs_xplique")
def test_xplique_adapter_matches_brute_force(tiny):
    model, x, scores, targets = tiny
    for mode in ("remove", "add"):
        m, y = peers.xplique_per_image(model.keras_model, x, scores, targets, 0.0, steps=8, mode=mode)
        assert m.tolist() == list(range(0, 65, 8))  # floor(j * 64 / 8)
        np.testing.assert_allclose(y, brute_curve(model, x, scores, targets, m, mode), atol=1e-6)
        m_mean, y_mean = peers.xplique_curve(model.keras_model, x, scores, targets, 0.0, steps=8, mode=mode)
        np.testing.assert_allclose(y_mean, y.mean(axis=0), atol=1e-6)  # Xplique averages over the images


@pytest.mark.usefixtures("needs_xplique")
def test_xplique_agrees_with_evaluate_curves(tiny):
    from repro.criteria import evaluate

    model, x, scores, targets = tiny
    res = evaluate(model, x, scores, targets=targets, steps=8, score=None)
    m, y = peers.xplique_per_image(model.keras_model, x, scores, targets, 0.0, steps=8, mode="remove")
    for i, c in enumerate(res.curves):
        diff, common = peers.max_abs_diff(c.necessity.m, c.necessity.y, m, y[i])
        assert common == 9 and diff < 1e-6


@pytest.mark.usefixtures("needs_quantus")
def test_quantus_adapter_matches_brute_force(tiny):
    model, x, scores, targets = tiny
    r, drops = peers.quantus_morf_drops(model.keras_model, x, scores, targets, 0.0, regions=6)
    assert r.tolist() == [1, 2, 3, 4, 5, 6]
    brute = brute_curve(model, x, scores, targets, [0, *r], "remove")
    np.testing.assert_allclose(drops, brute[:, :1] - brute[:, 1:], atol=1e-6)


@pytest.mark.usefixtures("needs_quantus")
def test_quantus_adapter_rejects_image_baseline(tiny):
    model, x, scores, targets = tiny
    with pytest.raises(ValueError, match="uniform baseline"):
        peers.quantus_morf_drops(model.keras_model, x, scores, targets, np.zeros((H, W, 3)), regions=2)


def test_gradient_magnitude_scores_closed_form():
    """Linear classifier: d logit_c / dx = W[:, c], so the score of a pixel is sum_c |W[pixel, channel, c]|."""
    from benchmarks.inputs import gradient_magnitude_scores, uniform_scores
    from repro.testing import linear_classifier

    model = linear_classifier((4, 4, 3), classes=3, seed=0)
    x = np.random.default_rng(0).uniform(0, 1, (2, 4, 4, 3)).astype(np.float32)
    targets = np.array([0, 2])
    kernel = model.keras_model.get_layer("predictions").get_weights()[0]  # (48, 3), input flattened (H, W, C)
    expected = np.abs(kernel[:, targets].T.reshape(2, 4, 4, 3)).sum(axis=-1)
    got = gradient_magnitude_scores(model, x, targets)
    peak = expected.reshape(2, -1).max(axis=1)[:, None, None]
    jitter = got - expected  # float32 gradients of a linear map are the kernel itself: only the tie-break remains
    assert np.all(jitter >= 1e-6 * peak - 1e-9) and np.all(jitter <= 2e-6 * peak + 1e-9)
    assert peers.strict_order(got)
    u = uniform_scores((2, 4, 4))
    assert u.shape == (2, 4, 4) and peers.strict_order(u)


def test_mask_only_cost_runs():
    from benchmarks.efficiency import mask_only_ms_per_batch

    assert mask_only_ms_per_batch(4, (8, 8, 3), n_batches=2, images=2, repeats=1) > 0
