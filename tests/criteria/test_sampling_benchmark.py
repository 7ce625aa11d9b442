"""``benchmarks/sampling.py`` (section 5 of ``make bench``) computes its comparisons correctly: tiny inputs, no
timing asserted. The ``--quick`` run of the section itself is exercised on the embedded model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # benchmarks/ is a top-level folder, not part of the installed package
    sys.path.insert(0, str(ROOT))

from benchmarks import sampling  # noqa: E402
from benchmarks.run import splice_section  # noqa: E402


@pytest.fixture(scope="module")
def tiny():
    from repro.models import top1_targets
    from repro.testing import random_images, small_cnn

    model = small_cnn((10, 10, 3), classes=3, seed=0)
    x = model.preprocess(random_images(3, (10, 10, 3), seed=1))
    rng = np.random.default_rng(2)
    maps = {"a": rng.normal(size=(3, 10, 10)), "b": rng.uniform(-0.2, 1.0, size=(3, 10, 10))}
    t = top1_targets(model, x)
    exact, runs = sampling.compare_settings(model, x, maps, t, steps_list=[5], tols=[1e-2], batch_size=16)
    return exact, runs


def test_engine_calls_and_occupancy_arithmetic(tiny):
    exact, (fixed, adaptive) = tiny
    assert exact.calls.queries == [exact.forwards] and fixed.calls.queries == [fixed.forwards]
    assert len(adaptive.calls.queries) == next(iter(adaptive.results["logit"].values())).rounds
    assert sum(adaptive.calls.queries) == adaptive.forwards  # no query is asked in two rounds
    for run in (exact, fixed, adaptive):
        assert run.calls.rows == sum(-(-q // 16) * 16 for q in run.calls.queries)
        assert run.calls.occupancy == pytest.approx(sum(run.calls.queries) / run.calls.rows)
        assert run.pairs == 6 and run.forwards_per_pair == pytest.approx(run.forwards / 6)


def test_relative_errors_and_honesty_by_hand(tiny):
    exact, (fixed, _) = tiny
    assert all(np.nanmax(v) == 0 for by in sampling.relative_errors(exact, exact).values() for v in by.values())
    h = sampling.honesty(exact, exact)
    assert h.est_exceeded == 0 and h.bounds_exceeded == 0 and h.bounds_claimed == h.values
    rel = sampling.relative_errors(fixed, exact)
    for score, by in fixed.results.items():
        for c in sampling.CRITERIA:
            got = np.concatenate([getattr(by[m], c) for m in by])
            ref = np.concatenate([getattr(exact.results[score][m], c) for m in by])
            np.testing.assert_allclose(rel[score][c], np.abs(got - ref) / np.maximum(1, np.abs(ref)))
    h = sampling.honesty(fixed, exact)
    assert 0 < h.values == sum(int(np.sum(~np.isnan(v))) for by in rel.values() for v in by.values())


def test_every_second_count_is_exact_on_lines():
    """Re-reading exact curves at the even counts: a curve that is a line in m and in k loses nothing."""
    from repro.criteria import evaluate_scores

    F = 41

    def model(inputs):
        import tensorflow as tf

        return tf.reduce_sum(tf.reshape(inputs, (-1, F)), axis=1, keepdims=True)

    x = np.ones((1, 1, F, 1), np.float32)
    res = evaluate_scores(model, x, {"m": np.ones((1, 1, F))}, baseline=np.zeros((1, F, 1), np.float32),
                          targets=np.zeros(1, np.int64), steps=None)
    run = sampling.SamplingRun("exact", None, None, res, sampling.EngineCalls([1], 1), 0.0)
    kept, worst = sampling.every_second_count(run)
    assert kept == 4 * 22 and max(worst.values()) < 1e-12


def test_choose_needs_k100_and_picks_the_cheapest_dominating_run(tiny):
    exact, (fixed, adaptive) = tiny
    assert sampling.choose(exact, [fixed, adaptive]) is None  # no K = 100 run to compare with
    as_k100 = sampling.SamplingRun("K = 100", 100, None, fixed.results, fixed.calls, 0.0)
    same = sampling.SamplingRun("adaptive, tol 1", "adaptive", 1.0, fixed.results, fixed.calls, 0.0)
    assert sampling.choose(exact, [as_k100, same]) is same  # equal errors, equal forwards: chosen


def test_splice_section_replaces_or_appends():
    report = "# R\n\n## 1. A\n\nold a\n\n## 5. S\n\nold s\n\n## 6. T\n\nt\n"
    out = splice_section(report, "5. S", "new s")
    assert "old s" not in out and "new s" in out and "old a" in out and out.index("new s") < out.index("## 6. T")
    assert splice_section("# R\n", "5. S", "x").endswith("## 5. S\n\nx\n")


@pytest.mark.slow  # the benchmark section on the embedded model: 12 s
def test_quick_section_runs_on_the_embedded_model():
    from benchmarks.inputs import Settings, load_embedded

    s = Settings.quick()
    text = sampling.section_sampling(load_embedded(s.notes), s, vgg=False)
    assert "**Accuracy against forwards**" in text and "adaptive, tol 0.01" in text and "K = 10" in text
