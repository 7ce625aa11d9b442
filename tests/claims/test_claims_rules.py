"""Claims as data (repro.claims.section42) evaluated by the rule registry (repro.claims.rules) over tables built so
that every verdict and median is known."""

from __future__ import annotations

import math

import pytest

from repro.claims import (
    CLAIMS, RULES, ClaimSpec, Outcome, StatsMemo, evaluate_claim, evaluate_claims, method_stats, paired_test, rule,
)
from repro.vocabulary import ATTRIBUTION_METHODS

SECTION42_IDS = ["deeplift_lowest_n_ord", "gradcam_lowest_one_minus_s_ord", "sm_ig_sg_lower_tpn_than_lrp_gb",
                 "lrp_gb_lower_tps_than_others", "no_method_best_on_all", "smoothgrad_iqr_below_saliency"]


def _claims(table, claims=CLAIMS):
    return {c.id: c for c in evaluate_claims(table, claims, resamples=200, seed=0)}


def test_the_records_of_section_42_write_each_method_group_once():
    assert [c.id for c in CLAIMS] == SECTION42_IDS
    by_id = {c.id: c for c in CLAIMS}
    # "the others" are computed: every attribution method not among the winners, Random never included
    assert by_id["deeplift_lowest_n_ord"].others == tuple(m for m in ATTRIBUTION_METHODS if m != "deeplift")
    assert by_id["lrp_gb_lower_tps_than_others"].others == (
        "saliency", "integrated_gradients", "smoothgrad", "deeplift", "gradcam")
    assert by_id["sm_ig_sg_lower_tpn_than_lrp_gb"].others == by_id["lrp_gb_lower_tps_than_others"].winners
    assert all("random" not in c.others for c in CLAIMS)
    assert by_id["deeplift_lowest_n_ord"].statement == (
        "the median N-Ord of DeepLIFT is lower than that of each of SM, IG, SG, LRP, GB, GradCAM")
    assert by_id["sm_ig_sg_lower_tpn_than_lrp_gb"].statement.startswith("for each of the 6 pairs (SM, IG, SG) x")


def test_every_claim_holds_by_construction_with_exact_medians(synthetic):
    claims = _claims(synthetic.table())
    assert {c: claims[c].holds for c in claims} == {c: True for c in SECTION42_IDS}
    n_ord = {s.method: s for s in claims["deeplift_lowest_n_ord"].stats}
    assert n_ord["deeplift"].median == 0.25 and n_ord["saliency"].median == 0.5
    assert n_ord["lrp"].median == synthetic.expected_median("n_ord", "lrp")
    assert (n_ord["lrp"].n, n_ord["lrp"].dropped) == (synthetic.n_images - 1, 1)  # NaN row dropped and counted
    assert "random" not in n_ord  # the Random baseline is not one of "the others"
    assert claims["deeplift_lowest_n_ord"].detail == "median N-Ord: DeepLIFT 0.25 < IG 0.375"
    tpn = claims["sm_ig_sg_lower_tpn_than_lrp_gb"]
    assert [(t.a, t.b) for t in tpn.tests] == [(a, b) for a in ("saliency", "integrated_gradients", "smoothgrad")
                                               for b in ("lrp", "guided_backprop")]
    assert all(t.a_lower for t in tpn.tests) and tpn.significant is True  # 1/64 spreads, gaps >= 1/16: all pairs
    lrp_tpn = synthetic.expected_median("tpn", "lrp")  # 0.5 shifted by the dropped NaN image
    assert tpn.detail == f"median TPN: IG 0.25 < LRP {lrp_tpn:.4g} (highest of SM, IG, SG vs lowest of the others)"
    assert len(claims["lrp_gb_lower_tps_than_others"].tests) == 10
    assert claims["no_method_best_on_all"].values["winners"] == {
        "n_ord": "deeplift", "one_minus_s_ord": "gradcam", "tpn": "saliency", "tps": "guided_backprop"}
    iqr = claims["smoothgrad_iqr_below_saliency"].values
    # IQR of arange(20) - 9.5 (numpy linear quantiles: -4.75 and 4.75) is 9.5; spreads 1/64 and 1/32
    assert iqr["tpn_iqr"] == {"smoothgrad": 9.5 / 64, "saliency": 9.5 / 32}
    assert claims["smoothgrad_iqr_below_saliency"].detail == (
        f"TPN IQR SG {9.5 / 64:.4g} vs SM {9.5 / 32:.4g}; TPS IQR SG {9.5 / 64:.4g} vs SM {9.5 / 32:.4g}")
    lrp_test = next(t for t in tpn.tests if t.b == "lrp")  # pairs with LRP drop the image where LRP is NaN
    assert (lrp_test.n_pairs, lrp_test.dropped) == (synthetic.n_images - 1, 1)


def test_claims_share_stats_and_pivots_with_the_numbers_of_a_direct_computation(synthetic):
    table = synthetic.table()
    claims = evaluate_claims(table, CLAIMS, resamples=200, seed=7)
    n_stats = n_tests = 0
    for claim in claims:
        for s in claim.stats:
            assert s == method_stats(table, s.criterion, s.method, resamples=200, seed=7)
            n_stats += 1
        for t in claim.tests:
            assert t == paired_test(table, t.criterion, t.a, t.b)
            n_tests += 1
    # stats: 1 + 6 (N-Ord), 1 + 6 (1 - S-Ord), 3 + 2 (TPN), 2 + 5 (TPS), 4 criteria x 7 methods, 2 x 2 (IQR)
    assert (n_stats, n_tests) == (7 + 7 + 5 + 7 + 4 * 7 + 4, 1 * 6 + 1 * 6 + 3 * 2 + 2 * 5)


@pytest.mark.parametrize("change, claim_id", [
    ({"n_ord__lrp": 0.125}, "deeplift_lowest_n_ord"),
    ({"n_ord__saliency": 0.25}, "deeplift_lowest_n_ord"),  # a tie is not "lowest"
    ({"one_minus_s_ord__deeplift": 0.5}, "gradcam_lowest_one_minus_s_ord"),
    ({"tpn__lrp": 0.2}, "sm_ig_sg_lower_tpn_than_lrp_gb"),  # IG (0.25) > LRP: one of six pairs fails
    ({"tps__smoothgrad": 0.0}, "lrp_gb_lower_tps_than_others"),
])
def test_a_claim_fails_when_broken_by_construction(synthetic, change, claim_id):
    claims = _claims(synthetic.table(synthetic.with_changes(**change)))
    assert claims[claim_id].holds is False
    assert [c for c in claims if claims[c].holds is not True] == [claim_id]


def test_the_failing_pairs_are_listed(synthetic):
    synthetic.base = synthetic.with_changes(tpn__lrp=0.2)
    claim = _claims(synthetic.table())["sm_ig_sg_lower_tpn_than_lrp_gb"]
    lrp = f"LRP {synthetic.expected_median('tpn', 'lrp'):.4g}"
    assert claim.detail == (f"median TPN: IG 0.25 is not < {lrp} (highest of SM, IG, SG vs lowest of the others); "
                            f"1 of 6 pairs out of order: IG 0.25 >= {lrp}")


def test_one_method_best_on_all_four_breaks_the_no_winner_claim(synthetic):
    base = synthetic.with_changes(n_ord__gradcam=0.0, tpn__gradcam=0.0, tps__gradcam=0.0)
    claim = _claims(synthetic.table(base))["no_method_best_on_all"]
    assert claim.holds is False and set(claim.values["winners"].values()) == {"gradcam"}


def test_a_median_tie_goes_to_the_method_first_in_the_papers_order(synthetic):
    # IG ties DeepLIFT's N-Ord median 0.25: the per-median winner is IG (before DeepLIFT), as repro.vocabulary says
    claim = _claims(synthetic.table(synthetic.with_changes(n_ord__integrated_gradients=0.25)))["no_method_best_on_all"]
    assert claim.values["winners"]["n_ord"] == "integrated_gradients"


def test_iqr_claim_fails_when_smoothgrad_spreads_more(synthetic):
    synthetic.spread["smoothgrad"] = 1 / 16
    claim = _claims(synthetic.table())["smoothgrad_iqr_below_saliency"]
    assert claim.holds is False and claim.values["tps_iqr"] == {"smoothgrad": 9.5 / 16, "saliency": 9.5 / 32}


def test_missing_methods_make_claims_untestable(synthetic):
    claims = _claims(synthetic.table(methods=["saliency", "deeplift", "random"]))
    assert claims["deeplift_lowest_n_ord"].holds is None
    assert claims["deeplift_lowest_n_ord"].detail.startswith(
        "not testable: method(s) integrated_gradients, smoothgrad, lrp, guided_backprop, gradcam missing")
    assert claims["no_method_best_on_all"].holds is True  # SM and DeepLIFT split the four criteria
    alone = _claims(synthetic.table(methods=["saliency", "random"]))["no_method_best_on_all"]
    assert alone.holds is None and "fewer than two" in alone.detail


def test_a_new_claim_is_data_only_and_higher_is_better_comes_from_the_vocabulary(synthetic):
    new = (
        ClaimSpec("ig_dl_better_n_ord_than_sm", "IG and DeepLIFT have better N-Ord than SM", "better_than_all",
                  ("n_ord",), winners=("integrated_gradients", "deeplift"), others=("saliency",)),
        # S-Ord = 1 - (1 - S-Ord): GradCAM's median 0.0 is the highest, and higher S-Ord is better
        ClaimSpec("gradcam_best_s_ord", "GradCAM shows relatively better Sufficiency Ordering", "better_than_all",
                  ("s_ord",), winners=("gradcam",)),
        ClaimSpec("sm_best_s_ord", "(false by construction)", "better_than_all", ("s_ord",), winners=("saliency",)),
    )
    claims = _claims(synthetic.table(), new)
    assert claims["ig_dl_better_n_ord_than_sm"].holds is True and len(claims["ig_dl_better_n_ord_than_sm"].tests) == 2
    assert claims["gradcam_best_s_ord"].holds is True and claims["gradcam_best_s_ord"].significant is True
    lrp_s_ord = 1 - synthetic.expected_median("one_minus_s_ord", "lrp")  # above GB's -0.125 (a dropped NaN image)
    assert claims["gradcam_best_s_ord"].detail == f"median S-Ord: GradCAM 0 > LRP {lrp_s_ord:.4g}"
    assert new[1].statement.startswith("the median S-Ord of GradCAM is higher than that of each of")
    assert claims["sm_best_s_ord"].holds is False and "SM -0.5 <= GradCAM 0" in claims["sm_best_s_ord"].detail


def test_a_new_rule_with_settings_is_one_registered_function(synthetic):
    @rule("median_below_for_test", lambda spec: f"median below {spec.params['threshold']}", compares=False,
          params=("threshold",))
    def median_below(spec, memo):
        stats = memo.stats(spec.criteria[0], spec.winners)
        return Outcome(all(s.median < spec.params["threshold"] for s in stats.values()), "", stats=list(stats.values()))

    try:
        spec = ClaimSpec("dl_n_ord_below", "...", "median_below_for_test", ("n_ord",), winners=("deeplift",),
                         others=(), params={"threshold": 0.3})
        claim = evaluate_claim(spec, StatsMemo(synthetic.table(), resamples=50))
        assert claim.holds is True and claim.statement == "median below 0.3" and claim.stats[0].median == 0.25
        with pytest.raises(ValueError, match="already registered"):
            rule("median_below_for_test", str)(median_below)
    finally:
        RULES.pop("median_below_for_test")


@pytest.mark.parametrize("kwargs, message", [
    ({"rule": "no_such_rule"}, "unknown rule"),
    ({"criteria": ("accuracy",)}, "must be known columns"),
    ({"criteria": ("n_ord", "tpn")}, "takes 1 criterion"),
    ({"others": ("deeplift", "saliency")}, "both a winner and an other"),
    ({"params": {"margin": 0.1}}, "takes no setting"),
    ({"winners": ()}, "needs winners and others"),
    ({"others": ()}, "needs winners and others"),
])
def test_malformed_records_are_refused(kwargs, message):
    record = {"id": "x", "paper": "...", "rule": "better_than_all", "criteria": ("n_ord",), "winners": ("deeplift",)}
    with pytest.raises(ValueError, match=message):
        ClaimSpec(**{**record, **kwargs})


def test_duplicate_claim_ids_are_refused(synthetic):
    with pytest.raises(ValueError, match="duplicate claim ids"):
        evaluate_claims(synthetic.table(), CLAIMS + CLAIMS[:1], resamples=10, seed=0)


def test_nan_medians_never_hold(synthetic):
    base = synthetic.with_changes(n_ord__gradcam=math.nan)
    claim = _claims(synthetic.table(base))["deeplift_lowest_n_ord"]
    assert claim.holds is False and "DeepLIFT 0.25 >= GradCAM nan" in claim.detail
