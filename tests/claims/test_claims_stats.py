"""repro.claims.stats: bootstrap CIs, per-method statistics, the paired signed-rank test and the shared memo."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.claims import StatsMemo, bootstrap_iqr_ci, bootstrap_median_ci, method_stats, paired_test


def test_bootstrap_ci_contains_median_and_is_seeded():
    values = np.random.default_rng(3).normal(size=101)
    low, high = bootstrap_median_ci(values, resamples=500, seed=1)
    assert low <= np.median(values) <= high
    assert (low, high) == bootstrap_median_ci(values, resamples=500, seed=1)
    assert bootstrap_median_ci(np.full(7, 2.5)) == (2.5, 2.5)  # every resample of a constant has that median
    assert bootstrap_iqr_ci(np.full(7, 2.5)) == (0.0, 0.0)
    assert all(math.isnan(v) for v in bootstrap_median_ci(np.array([])))
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_median_ci(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="resamples"):
        bootstrap_median_ci(np.ones(3), resamples=0)


def test_method_stats_of_the_constructed_table_are_exact(synthetic):
    table = synthetic.table()
    # DeepLIFT's N-Ord: 0.25 + (1/64) * (arange(20) - 9.5): median 0.25, quartiles 0.25 -/+ 4.75 / 64
    s = method_stats(table, "n_ord", "deeplift", resamples=200)
    assert (s.n, s.dropped, s.median) == (20, 0, 0.25)
    assert (s.q1, s.q3, s.iqr) == (0.25 - 4.75 / 64, 0.25 + 4.75 / 64, 9.5 / 64)
    assert s.ci_low <= s.median <= s.ci_high
    lrp = method_stats(table, "n_ord", "lrp", resamples=200)  # the NaN row is dropped and counted
    assert (lrp.n, lrp.dropped, lrp.median) == (19, 1, synthetic.expected_median("n_ord", "lrp"))
    absent = method_stats(table, "n_ord", "no_such_method")
    assert (absent.n, absent.dropped) == (0, 0) and math.isnan(absent.median)


def _always_lower_cells(n=20):
    # a < b on every image with distinct |differences| 1 + 0.1 i
    a = np.arange(n, dtype=float)
    b = a + 1 + 0.1 * np.arange(n)
    cells = {}
    for i in range(n):
        for m, v in (("saliency", a[i]), ("lrp", b[i])):
            cells[f"i{i}", m] = {"n_ord": v, "s_ord": v, "tpn": 0.0, "tps": 0.0}
    return cells


def test_paired_test_exact_p_value_when_one_method_is_always_lower(criteria_table):
    # W+ = 0, and under H0 each of the 2^20 sign patterns is equally likely: the exact two-sided p is 2 / 2^20.
    cells = _always_lower_cells()
    t = paired_test(criteria_table(cells), "n_ord", "saliency", "lrp")
    assert t.n_pairs == 20 and t.dropped == 0 and t.n_nonzero == 20
    assert t.statistic == 0.0 and t.p_value == pytest.approx(2 / 2**20, rel=1e-12)
    assert t.rank_sum_below == 210.0 and t.rank_sum_above == 0.0 and t.a_lower and t.significant_lower()
    assert t.median_difference == pytest.approx(-(1 + 0.1 * 9.5))  # median of -(1 + 0.1 i), i = 0..19
    cells["i0", "saliency"]["n_ord"] = float("nan")  # image i0 of saliency: dropped, 19 pairs left
    t = paired_test(criteria_table(cells), "n_ord", "saliency", "lrp")
    assert (t.n_pairs, t.dropped) == (19, 1) and t.p_value == pytest.approx(2 / 2**19, rel=1e-12)
    same = paired_test(criteria_table(cells), "tpn", "saliency", "lrp")  # all differences zero
    assert same.n_nonzero == 0 and math.isnan(same.p_value) and not same.significant_lower()


def test_significant_better_follows_the_criterion_direction(criteria_table):
    table = criteria_table(_always_lower_cells())
    n_ord = paired_test(table, "n_ord", "saliency", "lrp")  # lower N-Ord is better
    s_ord = paired_test(table, "s_ord", "saliency", "lrp")  # higher S-Ord is better: saliency is worse
    assert n_ord.a_better and n_ord.significant_better()
    assert s_ord.a_lower and not s_ord.a_better and not s_ord.significant_better()
    reverse = paired_test(table, "s_ord", "lrp", "saliency")
    assert reverse.a_better and reverse.significant_better() and not reverse.significant_lower()


def test_paired_test_names_a_missing_method(synthetic):
    from repro.errors import ReproError

    with pytest.raises(ReproError, match="'nope' is not in the results table"):
        paired_test(synthetic.table(), "n_ord", "saliency", "nope")


def test_memo_gives_the_numbers_of_a_direct_computation(synthetic):
    table = synthetic.table(methods=["saliency", "lrp", "random"])
    memo = StatsMemo(table, resamples=100, seed=5)
    stats = memo.stats("tpn", ["lrp", "saliency"])
    assert list(stats) == ["lrp", "saliency"]
    assert stats["lrp"] == method_stats(table, "tpn", "lrp", resamples=100, seed=5)
    assert memo.stats("tpn", ["lrp"])["lrp"] is stats["lrp"]  # computed once
    assert memo.paired_test("tpn", "saliency", "lrp") == paired_test(table, "tpn", "saliency", "lrp")
    assert memo.missing(["deeplift", "saliency", "gradcam"]) == ["deeplift", "gradcam"]
