"""repro.claims.stability (how often a verdict survives resampling the images), the readings and rules the
verdicts-with-their-evidence issue added (relative_claims, the exclusivity of necessity and sufficiency, the
equivalence bound of a "not better" claim), and per-class verdicts, on tables built so that the answer is known."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats as sps

from repro.claims import CLAIMS, ClaimSpec, check_claims, evaluate_claims
from repro.claims.rules import resolved
from repro.claims.stability import Draws, sample_verdicts, subsample_sizes, verdict_stability
from repro.claims.stats import StatsMemo
from repro.reading_cases import READING_CASES
from repro.readings import READINGS
from repro.results import ResultsTable, write_results
from repro.vocabulary import WINNER_CRITERIA

SM, DL = "saliency", "deeplift"


def _identity_verdicts(table, **claim_readings):
    memo = StatsMemo(table, 50, 0, **claim_readings)
    draws = Draws(memo, np.arange(len(table.image_ids))[None, :])
    return {spec.id: sample_verdicts(spec, draws)[0] for spec in CLAIMS}


@pytest.mark.parametrize("change", [{}, {"tpn__lrp": 0.2}, {"tps__guided_backprop": 0.5625},
                                    {"n_ord__smoothgrad": 0.25}, {"tps__integrated_gradients": 0.5},
                                    {"one_minus_s_ord__guided_backprop": 1.625}, {"n_ord__gradcam": math.nan}])
@pytest.mark.parametrize("readings", [{}, {"tp_claims": "within"}, {"relative_claims": "most"}])
def test_every_kernel_gives_the_rules_verdict_on_the_full_table(synthetic, change, readings):
    # the vectorised re-decision of each rule (used on thousands of resamples) is the rule itself on the full table
    table = synthetic.table(synthetic.with_changes(**change))
    claims = evaluate_claims(table, CLAIMS, resamples=50, **readings)
    kernels = _identity_verdicts(table, **readings)
    for c in claims:
        expected = math.nan if c.holds is None else float(c.holds)
        assert kernels[c.id] == expected or (math.isnan(expected) and math.isnan(kernels[c.id])), c.id


def _table(cells: dict[tuple[str, str], dict[str, float]]) -> ResultsTable:
    from conftest import result_row

    return ResultsTable.from_rows([result_row(img, m, **crit) for (img, m), crit in cells.items()])


def _lower(a_values, b_values, criterion="n_ord"):
    """A table of DeepLIFT (a) and Saliency (b) on one criterion and the record 'DeepLIFT lower than SM'."""
    cells = {}
    for i, (a, b) in enumerate(zip(a_values, b_values)):
        cells[f"i{i:02d}", DL] = {criterion: a}
        cells[f"i{i:02d}", SM] = {criterion: b}
    spec = ClaimSpec("dl_lower", "...", "better_than_all", (criterion,), winners=(DL,), others=(SM,))
    return _table(cells), spec


def test_a_verdict_that_cannot_change_is_stable_in_every_resample_and_from_the_smallest_size():
    table, spec = _lower([1.0] * 40, [2.0] * 40)
    memo = StatsMemo(table, 1000, 0)
    (claim,) = evaluate_claims(table, [spec], resamples=20)
    found = verdict_stability([spec], {"dl_lower": claim.holds}, memo, subsample=True)["dl_lower"]
    assert claim.holds is True and found.share == 1.0
    assert found.by_size == {10: 1.0, 20: 1.0, 40: 1.0} and found.smallest_stable == 10
    assert subsample_sizes(40) == [10, 20, 40] and subsample_sizes(10) == [10]


def test_a_verdict_resting_on_one_image_flips_in_the_share_of_resamples_the_binomial_gives():
    # DeepLIFT is 0 on 6 of 11 images and 1 on 5; SM is 0.5 everywhere. DeepLIFT's median is 0 < 0.5 (holds); a
    # resample keeps it iff at least 6 of its 11 draws are zeros: P = P(Bin(11, 6/11) >= 6)
    table, spec = _lower([0.0] * 6 + [1.0] * 5, [0.5] * 11)
    (claim,) = evaluate_claims(table, [spec], resamples=20)
    found = verdict_stability([spec], {"dl_lower": claim.holds}, StatsMemo(table, 4000, 0))["dl_lower"]
    expected = sps.binom.sf(5, 11, 6 / 11)  # 0.6236
    assert claim.holds is True and found.share == pytest.approx(expected, abs=3 * math.sqrt(0.25 / 4000))
    assert found.smallest_stable is None  # not stable even at all 11 images


def test_subsampling_finds_the_size_from_which_a_small_lead_is_stable():
    # DeepLIFT below SM by 1, with normal noise of sd 3 (seeded): the median lead is about 1, and a sample
    # decides it right more often the more images it has; stable (>= 95%) only from some size on
    rng = np.random.default_rng(3)
    noise = rng.normal(0, 3, size=160)
    table, spec = _lower(10 + noise[:80], 11 + noise[80:])
    (claim,) = evaluate_claims(table, [spec], resamples=20)
    found = verdict_stability([spec], {"dl_lower": claim.holds}, StatsMemo(table, 500, 0), subsample=True)["dl_lower"]
    shares = [found.by_size[n] for n in sorted(found.by_size)]
    assert claim.holds is True and shares[0] < 0.95 and shares == sorted(shares)  # more images: more stable
    smallest = found.smallest_stable
    assert smallest is not None and smallest > 10
    assert all(share >= 0.95 for n, share in found.by_size.items() if n >= smallest)
    assert any(share < 0.95 for n, share in found.by_size.items() if n < smallest)


def test_no_difference_holds_only_when_the_bound_is_inside_the_margin():
    # differences +1, -1, +2, -2, ...: r = 0 exactly. Its one-sided 95% upper bound 1.645 sqrt(2 (2n+1) / (3n(n+1)))
    # is 0.134 at n = 200 (outside a margin of 0.1) and 0.095 at n = 400 (inside)
    def claim(n):
        d = np.repeat(np.arange(1, n // 2 + 1), 2) * np.tile([1.0, -1.0], n // 2)
        cells = {}
        for i, di in enumerate(d):
            cells[f"i{i:03d}", SM] = {"tpn": 10.0}
            cells[f"i{i:03d}", DL] = {"tpn": 10.0 + di}
        spec = ClaimSpec("c7", "...", "not_better", ("tpn",), winners=(DL,), others=(SM,), params={"margin": 0.1})
        return evaluate_claims(_table(cells), [spec], resamples=20)[0]

    small, large = claim(200), claim(400)
    assert small.values["comparisons"][0]["r_better"] == 0.0 and large.values["comparisons"][0]["r_better"] == 0.0
    assert small.values["comparisons"][0]["r_better_bound"] == pytest.approx(
        1.6448536 * math.sqrt(2 * 401 / (3 * 200 * 201)), rel=1e-6)
    assert small.holds is False and large.holds is True
    assert large.values["comparisons"][0]["equivalent"] is True and small.values["comparisons"][0]["equivalent"] is False


def test_relatively_better_reads_all_or_most_others():
    # DeepLIFT second on N-Ord (IG first): not better than all six others, but better than five of them
    cells = {}
    order = ["integrated_gradients", DL, SM, "smoothgrad", "lrp", "guided_backprop", "gradcam"]
    for i in range(12):
        for rank, m in enumerate(order):
            cells[f"i{i:02d}", m] = {"n_ord": rank * (1 + 0.001 * i) + 0.01 * i}  # no tied differences
    (spec,) = [c for c in CLAIMS if c.id == "deeplift_lowest_n_ord"]
    table = _table(cells)
    (default,) = evaluate_claims(table, [spec], resamples=20)
    (most,) = evaluate_claims(table, [spec], resamples=20, relative_claims="most")
    assert default.holds is False and default.rule == "better_than_all"
    assert most.holds is True and most.rule == "most_pairs" and "is lower than 5 of 6 (at least 4 needed)" in most.detail
    assert resolved(spec, StatsMemo(table, relative_claims="most")).params == {"at_least": 4}


def _winners_table(nec: list[str], suf: list[str]) -> ResultsTable:
    """Per image, ``nec[i]`` wins N-Ord and TPN, ``suf[i]`` wins S-Ord and TPS (SM and GB only)."""
    cells = {}
    for i, (n, s) in enumerate(zip(nec, suf)):
        for m in (SM, "guided_backprop"):
            cells[f"i{i:02d}", m] = {"n_ord": 0.0 if m == n else 1.0, "tpn": 0.0 if m == n else 1.0,
                                     "s_ord": 1.0 if m == s else 0.0, "tps": 0.0 if m == s else 1.0}
    return _table(cells)


EXCLUSIVE = ClaimSpec("exclusive", "...", "necessity_sufficiency_exclusive", WINNER_CRITERIA,
                      others=(SM, "guided_backprop"))


def test_exclusivity_against_independence_on_known_winners():
    gb = "guided_backprop"
    # anti-correlated: whoever wins necessity loses sufficiency on every image: same winner 0%, 50% if independent
    anti = evaluate_claims(_winners_table([SM] * 10 + [gb] * 10, [gb] * 10 + [SM] * 10), [EXCLUSIVE],
                           resamples=200)[0]
    assert anti.holds is True and anti.values["observed"] == 0.0 and anti.values["expected"] == 0.5
    assert anti.significant is True and anti.values["permutation_p"] < 0.05
    # the same method wins both on every image: 100% against 50%
    same = evaluate_claims(_winners_table([SM] * 10 + [gb] * 10, [SM] * 10 + [gb] * 10), [EXCLUSIVE],
                           resamples=200)[0]
    assert same.holds is False and same.values["observed"] == 1.0 and same.values["expected"] == 0.5
    # disjoint winners (SM always necessity, GB always sufficiency): exclusive in the strongest sense
    disjoint = evaluate_claims(_winners_table([SM] * 20, [gb] * 20), [EXCLUSIVE], resamples=50)[0]
    assert disjoint.holds is True and disjoint.values["observed"] == disjoint.values["expected"] == 0.0


def test_per_class_verdicts_show_a_pooled_verdict_driven_by_two_classes(tmp_path):
    # embedded image ids: class = index % 3 (A_and_B, C_or_D, neither). DeepLIFT lower than SM in the first two
    # classes by 2, higher in "neither" by 1: pooled it holds, in "neither" it does not
    cells = {}
    for i in range(36):
        img = f"shapes-test-{i:05d}"
        worse = i % 3 == 2
        cells[img, DL] = {"n_ord": 2.0 if worse else 0.0}
        cells[img, SM] = {"n_ord": 1.0}
    write_results(tmp_path / "results.csv", [r for r in _table(cells).rows()])
    (tmp_path / "config.json").write_text(json.dumps({"profile": "embedded", "seed": 0}))
    spec = ClaimSpec("dl_lower", "...", "better_than_all", ("n_ord",), winners=(DL,), others=(SM,))
    report = check_claims(tmp_path, claims=[spec], resamples=50, toys=False)
    assert report.claims[0].holds is True and report.class_sizes == {"A_and_B": 12, "C_or_D": 12, "neither": 12}
    assert {name: claims[0].holds for name, claims in report.by_class.items()} == {
        "A_and_B": True, "C_or_D": True, "neither": False}
    assert "The class verdicts differ from the pooled one for 1 claims: `dl_lower`" in report.to_markdown()


def test_every_reading_is_argued_from_both_sides():
    assert set(READING_CASES) == set(READINGS)
    assert all(case.default and case.against and case.docs for case in READING_CASES.values())


def test_the_vectorised_signed_rank_matches_scipy_on_every_sample():
    from repro.claims.paired import draw_counts, drawn_rank_sums, signed_rank, signed_rank_p_lower

    rng = np.random.default_rng(5)
    a = np.round(rng.normal(size=60), 1)  # rounded: ties and zero differences
    b = np.round(rng.normal(0.3, 1, size=60), 1)
    a[3] = np.nan  # a missing value is dropped from every sample
    idx = rng.integers(0, 60, size=(5, 60))
    below, above, n, ties = drawn_rank_sums(a - b, draw_counts(idx, 60))
    p = signed_rank_p_lower(below, above, n, ties)
    for k in range(5):
        test = signed_rank(a[idx[k]], b[idx[k]], "a", "b", "tpn")
        assert (below[k], above[k], n[k]) == pytest.approx((test.rank_sum_below, test.rank_sum_above, test.n_nonzero))
        keep = ~np.isnan(a[idx[k]])
        approx = sps.wilcoxon(a[idx[k]][keep], b[idx[k]][keep], zero_method="wilcox", alternative="less",
                              method="approx", correction=False).pvalue
        assert p[k] == pytest.approx(approx, rel=1e-9)


def test_every_rule_that_decides_has_a_kernel_that_redecides_it():
    from repro.claims.rules import RULES
    from repro.claims.stability import KERNELS

    assert {name for name, r in RULES.items() if r.resolve is None} == set(KERNELS)
