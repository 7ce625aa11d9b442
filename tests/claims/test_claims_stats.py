"""repro.claims.stats and repro.claims.paired: bootstrap CIs, per-method statistics, the paired signed-rank test,
its rank-biserial effect size, Holm's correction, per-image ranks and the shared memo, against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from repro.claims import (
    StatsMemo, bootstrap_iqr_ci, bootstrap_median_ci, holm, method_stats, paired_test, per_image_ranks, signed_rank,
)
from repro.claims.paired import all_rejected, bootstrap_p_at_least, bootstrap_rank_biserial


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
    # one-sided: only the all-negative sign pattern is as extreme, p = 1 / 2^20; the other side is certain
    assert t.p_lower == pytest.approx(1 / 2**20, rel=1e-12) and t.p_higher == pytest.approx(1.0)
    assert t.rank_sum_below == 210.0 and t.rank_sum_above == 0.0 and t.a_lower and t.significant_lower()
    assert t.rank_biserial == 1.0 and t.effect_better == 1.0  # every difference favours a
    assert t.median_difference == pytest.approx(-(1 + 0.1 * 9.5))  # median of -(1 + 0.1 i), i = 0..19
    cells["i0", "saliency"]["n_ord"] = float("nan")  # image i0 of saliency: dropped, 19 pairs left
    t = paired_test(criteria_table(cells), "n_ord", "saliency", "lrp")
    assert (t.n_pairs, t.dropped) == (19, 1) and t.p_value == pytest.approx(2 / 2**19, rel=1e-12)
    same = paired_test(criteria_table(cells), "tpn", "saliency", "lrp")  # all differences zero
    assert same.n_nonzero == 0 and math.isnan(same.p_value) and not same.significant_lower()
    assert math.isnan(same.rank_biserial) and math.isnan(same.p_lower)


def test_significant_better_follows_the_criterion_direction(criteria_table):
    table = criteria_table(_always_lower_cells())
    n_ord = paired_test(table, "n_ord", "saliency", "lrp")  # lower N-Ord is better
    s_ord = paired_test(table, "s_ord", "saliency", "lrp")  # higher S-Ord is better: saliency is worse
    assert n_ord.a_better and n_ord.significant_better() and n_ord.p_better == n_ord.p_lower
    assert s_ord.a_lower and not s_ord.a_better and not s_ord.significant_better()
    # r > 0 means a is lower; on S-Ord (higher is better) that is an effect AGAINST a
    assert s_ord.rank_biserial == 1.0 and s_ord.effect_better == -1.0 and s_ord.p_better == s_ord.p_higher
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


def test_rank_biserial_of_a_hand_example():
    # d = a - b = (-1, 1, -2, 0, -4): the zero is discarded; |d| = 1, 1, 2, 4 ranks 1.5, 1.5, 3, 4;
    # R_below (d < 0) = 1.5 + 3 + 4 = 8.5, R_above = 1.5, total 10 = 4 * 5 / 2; r = (8.5 - 1.5) / 10 = 0.7
    t = signed_rank(np.array([1.0, 2, 3, 4, 5]), np.array([2.0, 1, 5, 4, 9]), "a", "b", "tpn")
    assert (t.n_pairs, t.n_nonzero, t.rank_sum_below, t.rank_sum_above) == (5, 4, 8.5, 1.5)
    assert t.rank_biserial == pytest.approx(0.7) and t.effect_better == pytest.approx(0.7) and t.a_better
    assert t.median_difference == -1.0
    mirrored = signed_rank(np.array([2.0, 1, 5, 4, 9]), np.array([1.0, 2, 3, 4, 5]), "b", "a", "tpn")
    assert mirrored.rank_biserial == pytest.approx(-0.7) and mirrored.p_higher == pytest.approx(t.p_lower)
    # NaN pairs are dropped and counted (a NaN on one side), pairs NaN on both sides are not counted at all
    t = signed_rank(np.array([1.0, np.nan, np.nan]), np.array([2.0, 1.0, np.nan]), "a", "b", "tpn")
    assert (t.n_pairs, t.dropped, t.rank_biserial) == (1, 1, 1.0)


def test_holm_against_a_hand_example():
    # sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04 -> running max 0.02, 0.03, 0.06, 0.06
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.6, 0.7]) == [1.0, 1.0]  # capped at 1
    adjusted = holm([math.nan, 0.01])  # a NaN counts in m (treated as 1) and stays NaN
    assert math.isnan(adjusted[0]) and adjusted[1] == pytest.approx(0.02)
    assert holm([]) == [] and not all_rejected([]) and not all_rejected([0.01, math.nan])
    assert holm([0.01, 0.02]) == pytest.approx([0.02, 0.02]) and all_rejected(holm([0.01, 0.02]))
    # 0.03 and 0.04 are each below 0.05, but not after Holm: 0.03 * 2 = 0.06, then max(0.06, 0.04) = 0.06
    assert holm([0.03, 0.04]) == pytest.approx([0.06, 0.06]) and not all_rejected(holm([0.03, 0.04]))


def test_bootstrap_rank_biserial_is_the_rank_biserial_of_each_resample():
    rng = np.random.default_rng(4)
    d = np.round(rng.normal(size=30), 1)
    d[:5] = 0.0  # zeros and ties
    boot = bootstrap_rank_biserial(d, 50, seed=9)
    draws = np.random.default_rng(9).integers(0, d.size, size=(50, d.size))  # the same draws, one chunk
    direct = [signed_rank(d[i], np.zeros(d.size), "a", "b", "tpn").rank_biserial for i in draws]
    np.testing.assert_allclose(boot, direct, atol=1e-12)
    assert np.isnan(bootstrap_rank_biserial(np.zeros(4), 3, 0)).all()  # every difference zero: no effect defined
    # p of H0 "statistic >= bound": (1 + count) / (1 + B), NaN samples left out
    assert bootstrap_p_at_least(np.array([0.0, 0.2, 0.05, np.nan]), 0.1) == pytest.approx(2 / 4)
    assert bootstrap_p_at_least(np.array([np.nan]), 0.1) == 1.0


def test_per_image_ranks_best_first_with_ties_and_nan():
    ids = ["x", "y"]
    matrix = np.array([[0.3, 0.1, 0.2], [0.5, np.nan, 0.5]])
    ranks = per_image_ranks((ids, ["a", "b", "c"], matrix), "tpn", ["a", "b", "c"])  # lower is better
    np.testing.assert_array_equal(ranks, [[3, 1, 2], [1.5, np.nan, 1.5]])
    ranks = per_image_ranks((ids, ["a", "b", "c"], matrix), "s_ord", ["c", "a"])  # higher is better, a subset
    np.testing.assert_array_equal(ranks, [[2, 1], [1.5, 1.5]])


def test_within_tests_pair_one_method_on_two_criteria(synthetic):
    memo = StatsMemo(synthetic.table(), resamples=20)
    raw = memo.within_test("guided_backprop", "tps", "tpn")  # GB: TPS 0.125 +- 0.15, TPN 0.625 +- 0.15
    assert (raw.a, raw.b, raw.b_criterion, raw.ranks) == ("guided_backprop", "guided_backprop", "tpn", False)
    assert raw.label_a == "GB TPS" and raw.label_b == "GB TPN" and raw.a_better
    values = memo.values("tps", "guided_backprop") - memo.values("tpn", "guided_backprop")
    assert raw.median_difference == float(np.median(values))
    neg = memo.within_test("guided_backprop", "neg_s_ord", "n_ord")  # -S-Ord 0.125 vs N-Ord 0.75: no +1 shift
    assert neg.label_a == "GB -S-Ord" and neg.median_difference == pytest.approx(0.125 - 0.75, abs=0.3)
    with pytest.raises(ValueError, match="point different ways"):
        memo.within_test("guided_backprop", "s_ord", "n_ord")
    pool = ["saliency", "lrp", "guided_backprop"]
    ranks = memo.within_test("guided_backprop", "tps", "tpn", pool)
    assert ranks.ranks and ranks.label_a == "GB TPS rank" and ranks.lower_is_better and ranks.a_better
    assert memo.within_test("guided_backprop", "tps", "tpn", pool) is ranks  # cached
    assert memo.with_claim_readings(tp_claims="within").within_test("guided_backprop", "tps", "tpn", pool) is ranks
    with pytest.raises(ValueError, match="tp_claims must be one of between, within"):
        StatsMemo(synthetic.table(), tp_claims="sideways")
