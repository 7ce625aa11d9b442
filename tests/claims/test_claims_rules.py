"""Claims as data (repro.claims.section42) evaluated by the rule registry (repro.claims.rules and the rules of
between, within, overall) over tables built so that every verdict and median is known."""

from __future__ import annotations

import math

import pytest

from repro.claims import (
    CLAIMS, NOT_TESTABLE, RULES, ClaimSpec, Outcome, StatsMemo, evaluate_claim, evaluate_claims, method_stats,
    paired_test, rule,
)
from repro.vocabulary import ATTRIBUTION_METHODS

CLAIM_IDS = ["deeplift_lowest_n_ord", "gradcam_lowest_one_minus_s_ord", "sm_ig_sg_better_tpn", "lrp_gb_better_tps",
             "no_method_best_on_all", "no_method_significantly_better_on_all", "sm_better_necessity_than_sufficiency",
             "ig_deeplift_better_n_ord_than_sm", "ig_deeplift_not_better_tp_than_sm", "smoothgrad_iqr_below_saliency",
             "smoothgrad_better_tp_than_saliency", "gradcam_poor_tps", "gb_better_sufficiency_than_necessity",
             "gb_good_sufficiency", "lrp_good_sufficiency", "no_frequent_winner_for_both",
             "necessity_sufficiency_exclusive"]


def _claims(table, claims=CLAIMS, tp_claims="between"):
    return {c.id: c for c in evaluate_claims(table, claims, resamples=200, seed=0, tp_claims=tp_claims)}


def test_the_records_write_each_method_group_once_and_quote_the_paper_with_lines():
    assert [c.id for c in CLAIMS] == CLAIM_IDS
    by_id = {c.id: c for c in CLAIMS}
    # "the others" are computed: every attribution method not among the winners, Random never included
    assert by_id["deeplift_lowest_n_ord"].others == tuple(m for m in ATTRIBUTION_METHODS if m != "deeplift")
    # C2 is symmetric: both halves compare the same two groups
    tpn, tps = by_id["sm_ig_sg_better_tpn"], by_id["lrp_gb_better_tps"]
    assert (tpn.winners, tpn.others) == (tps.others, tps.winners) == (
        ("saliency", "integrated_gradients", "smoothgrad"), ("lrp", "guided_backprop"))
    assert all("random" not in c.others for c in CLAIMS)
    assert by_id["deeplift_lowest_n_ord"].statement == (
        "relative_claims=all: the median N-Ord of DeepLIFT is lower than that of each of SM, IG, SG, LRP, GB, "
        "GradCAM; relative_claims=most: the median N-Ord of DeepLIFT is better (lower) than that of at least 4 of "
        "the 6 methods SM, IG, SG, LRP, GB, GradCAM")
    assert by_id["ig_deeplift_better_n_ord_than_sm"].statement.startswith("for each of the 2 pairs (IG, DeepLIFT) x")
    assert by_id["gb_better_sufficiency_than_necessity"].statement == (
        "GB ranks better (by median, among 7 methods) on S-Ord than on N-Ord, and on TPS than on TPN")
    assert all(c.lines.startswith("L") and c.ref for c in (*CLAIMS, *NOT_TESTABLE))


def test_every_quote_is_verbatim_from_the_paper_at_its_lines(paper_text):
    import re

    lines = paper_text.split("\n")
    for c in (*CLAIMS, *NOT_TESTABLE):
        first, last = map(int, re.match(r"L(\d+)-(\d+)", c.lines).groups())
        text = ""
        for line in lines[first - 1:last]:
            line = line.strip()
            # a hyphen that only splits a word at a line break is removed; the one of "α2β1-LRP" is kept
            if text.endswith("-"):
                text = (text if text.endswith("β1-") else text[:-1]) + line
            else:
                text = f"{text} {line}"
        if " / " not in c.paper:  # Figure 6's panels are joined with " / "
            assert " ".join(c.paper.split()) in " ".join(text.split()), c.id


def test_the_untestable_claims_are_listed_with_a_reason():
    assert [u.ref for u in NOT_TESTABLE] == ["C5", "C13", "C14", "C15", "C16", "C17", "Section 5",
                                             "C12, consequence", "Conclusion"]
    assert all(u.reason for u in NOT_TESTABLE)
    assert not {u.id for u in NOT_TESTABLE} & set(CLAIM_IDS)


def test_every_claim_holds_by_construction_with_exact_medians(synthetic):
    claims = _claims(synthetic.table())
    assert {c: claims[c].holds for c in claims} == {c: True for c in CLAIM_IDS}
    within = _claims(synthetic.table(), tp_claims="within")
    assert all(c.holds for c in within.values())
    assert within["sm_ig_sg_better_tpn"].rule == "rank_within" and claims["sm_ig_sg_better_tpn"].rule == (
        "better_than_all")
    n_ord = {s.method: s for s in claims["deeplift_lowest_n_ord"].stats}
    assert n_ord["deeplift"].median == 0.25 and n_ord["saliency"].median == 0.5
    assert n_ord["lrp"].median == synthetic.expected_median("n_ord", "lrp")
    assert (n_ord["lrp"].n, n_ord["lrp"].dropped) == (synthetic.n_images - 1, 1)  # NaN row dropped and counted
    assert "random" not in n_ord  # the Random baseline is not one of "the others"
    assert claims["deeplift_lowest_n_ord"].detail == "median N-Ord: DeepLIFT 0.25 < IG 0.375"
    tpn = claims["sm_ig_sg_better_tpn"]
    assert [(t.a, t.b) for t in tpn.tests] == [(a, b) for a in ("saliency", "integrated_gradients", "smoothgrad")
                                               for b in ("lrp", "guided_backprop")]
    assert all(t.a_lower for t in tpn.tests) and tpn.significant is True  # gaps >= 1/8: all pairs, after Holm
    assert len(tpn.adjusted_p) == 6 and all(a >= p for a, p in zip(tpn.adjusted_p, tpn.family_p))
    lrp_tpn = synthetic.expected_median("tpn", "lrp")  # 0.5 shifted by the dropped NaN image
    assert tpn.detail == f"median TPN: IG 0.2812 < LRP {lrp_tpn:.4g} (highest of SM, IG, SG vs lowest of the others)"
    assert len(claims["lrp_gb_better_tps"].tests) == 6
    assert claims["no_method_best_on_all"].values["winners"] == {
        "n_ord": "deeplift", "one_minus_s_ord": "gradcam", "tpn": "smoothgrad", "tps": "guided_backprop"}
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
            if t.b_criterion is None:  # between methods (within-method tests are checked in test_claims_stats)
                assert t == paired_test(table, t.criterion, t.a, t.b)
                n_tests += 1
    families = {c.id: len(c.tests) for c in claims}
    assert families == {
        "deeplift_lowest_n_ord": 6, "gradcam_lowest_one_minus_s_ord": 6, "sm_ig_sg_better_tpn": 6,
        "lrp_gb_better_tps": 6, "no_method_best_on_all": 0, "no_method_significantly_better_on_all": 24,
        "sm_better_necessity_than_sufficiency": 2, "ig_deeplift_better_n_ord_than_sm": 2,
        "ig_deeplift_not_better_tp_than_sm": 4, "smoothgrad_iqr_below_saliency": 0,
        "smoothgrad_better_tp_than_saliency": 2, "gradcam_poor_tps": 6, "gb_better_sufficiency_than_necessity": 2,
        "gb_good_sufficiency": 12, "lrp_good_sufficiency": 12, "no_frequent_winner_for_both": 0,
        "necessity_sufficiency_exclusive": 0}
    assert n_tests == sum(families.values()) - 4 and n_stats > 0


EXCLUSIVE = "necessity_sufficiency_exclusive"


@pytest.mark.parametrize("change, claim_id, also", [
    ({"n_ord__integrated_gradients": 0.125}, "deeplift_lowest_n_ord", ()),
    ({"n_ord__smoothgrad": 0.25}, "deeplift_lowest_n_ord", ()),  # a tie is not "lowest"
    ({"one_minus_s_ord__guided_backprop": 0.5}, "gradcam_lowest_one_minus_s_ord", ()),
    # IG (0.28) > LRP: one of six pairs fails; LRP (sufficiency) now also wins TPN on some images
    ({"tpn__lrp": 0.2}, "sm_ig_sg_better_tpn", (EXCLUSIVE,)),
    # GB (0.5625) > SG (0.5); SG (necessity) now also wins TPS on some images
    ({"tps__guided_backprop": 0.5625}, "lrp_gb_better_tps", (EXCLUSIVE,)),
    ({"n_ord__saliency": 0.875}, "sm_better_necessity_than_sufficiency", ()),  # SM last on N-Ord as on S-Ord
    ({"n_ord__integrated_gradients": 0.625}, "ig_deeplift_better_n_ord_than_sm", ()),  # IG worse than SM (0.5)
    ({"tps__integrated_gradients": 0.5}, "ig_deeplift_not_better_tp_than_sm", ()),  # IG 0.5 well below SM 0.75
    ({"tpn__smoothgrad": 0.3125}, "smoothgrad_better_tp_than_saliency", ()),  # SG worse than SM (0.1875) on TPN
    ({"tps__gradcam": 0.0}, "gradcam_poor_tps", ()),  # GradCAM now best on TPS
    # GB last on S-Ord too (and so no longer good on it)
    ({"one_minus_s_ord__guided_backprop": 1.625}, "gb_better_sufficiency_than_necessity", ("gb_good_sufficiency",)),
    ({"one_minus_s_ord__lrp": 1.4375}, "lrp_good_sufficiency", ()),  # LRP's S-Ord better than SM's only
])
def test_a_claim_fails_when_broken_by_construction(synthetic, change, claim_id, also):
    claims = _claims(synthetic.table(synthetic.with_changes(**change)))
    assert claims[claim_id].holds is False
    assert [c for c in claims if claims[c].holds is not True] == [c for c in CLAIM_IDS if c in {claim_id, *also}]


def test_the_failing_pairs_are_listed(synthetic):
    synthetic.base = synthetic.with_changes(tpn__lrp=0.2)
    claim = _claims(synthetic.table())["sm_ig_sg_better_tpn"]
    lrp = f"LRP {synthetic.expected_median('tpn', 'lrp'):.4g}"
    assert claim.detail == (f"median TPN: IG 0.2812 is not < {lrp} (highest of SM, IG, SG vs lowest of the others); "
                            f"1 of 6 pairs out of order: IG 0.2812 >= {lrp}")


def test_one_method_best_on_all_four_breaks_the_no_winner_claims(synthetic):
    base = synthetic.with_changes(n_ord__gradcam=0.0, tpn__gradcam=7 / 64, tps__gradcam=0.0)
    claims = _claims(synthetic.table(base))
    claim = claims["no_method_best_on_all"]
    assert claim.holds is False and set(claim.values["winners"].values()) == {"gradcam"}
    # best by median on all four, but not significantly better than all others on all four (TPN: GradCAM 7/64
    # +- 0.15 against SG 8/64 +- 0.15 is not significant)
    inferential = claims["no_method_significantly_better_on_all"]
    assert inferential.holds is True and inferential.values["closest"] == "gradcam"
    assert inferential.values["per_method"]["gradcam"]["tests"] == 24
    assert 0 < inferential.values["per_method"]["gradcam"]["significant"] < 24
    # far ahead on every criterion: significantly better than all, so both readings of C3 fail
    base = synthetic.with_changes(n_ord__gradcam=-1.0, tpn__gradcam=-1.0, tps__gradcam=-1.0,
                                  one_minus_s_ord__gradcam=0.0)
    claims = _claims(synthetic.table(base))
    inferential = claims["no_method_significantly_better_on_all"]
    assert inferential.holds is False and inferential.values["dominating"] == ["gradcam"]
    assert inferential.significant is None and len(inferential.tests) == 24 and max(inferential.adjusted_p) < 0.05
    assert inferential.detail == "GradCAM significantly better than every other method on every criterion"
    assert claims["no_method_best_on_all"].holds is False
    # GradCAM wins all four criteria on every image: a frequent winner of both necessity and sufficiency
    winners = claims["no_frequent_winner_for_both"]
    assert winners.holds is False and winners.values["both"]["gradcam"] == 1.0 and "frequent: GradCAM" in (
        winners.detail)


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
    assert claims["deeplift_lowest_n_ord"].detail == (
        "not testable: method(s) IG, SG, LRP, GB, GradCAM missing from the table")
    assert claims["no_method_best_on_all"].holds is True  # SM and DeepLIFT split the four criteria
    within = _claims(synthetic.table(methods=["saliency", "deeplift", "random"]), tp_claims="within")
    assert within["sm_ig_sg_better_tpn"].holds is None  # IG and SG are missing under either reading
    alone = _claims(synthetic.table(methods=["saliency", "random"]))
    for claim_id in ("no_method_best_on_all", "no_method_significantly_better_on_all", "no_frequent_winner_for_both"):
        assert alone[claim_id].holds is None and "fewer than two" in alone[claim_id].detail


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
    ({"others": ("deeplift", "saliency")}, "both a winner and an other"),
    ({"params": {"margin": 0.1}}, "takes no setting"),
    ({"rule": "tp_groups", "params": {"versus": "tps"}, "criteria": ("tpn", "tps")}, "takes 1 criterion"),
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


def test_a_method_without_values_makes_the_claim_not_testable(synthetic):
    # n = 0 (e.g. Grad-CAM's map empty on every image) is no evidence: NOT TESTABLE with the reason, never "fails"
    base = synthetic.with_changes(n_ord__gradcam=math.nan)
    claim = _claims(synthetic.table(base))["deeplift_lowest_n_ord"]
    assert claim.holds is None and claim.detail == (
        "not testable: GradCAM has 0 finite N-Ord value(s) (at least 10 images needed)")


def test_fewer_images_than_the_minimum_make_every_claim_not_testable(synthetic):
    few = synthetic.table().of_images([f"img_{i:02d}" for i in range(1, 10)])  # 9 images, all finite
    claims = {c.id: c for c in evaluate_claims(few, CLAIMS, resamples=20)}
    assert all(c.holds is None and "(at least 10 images needed)" in c.detail for c in claims.values())
    # one group per (count, criteria): the seven methods' 28 shortfalls read as one line
    assert claims["no_method_best_on_all"].detail == (
        "not testable: SM, IG, SG, DeepLIFT, LRP, GB, GradCAM have 9 finite N-Ord, 1 - S-Ord, TPN, TPS value(s) "
        "(at least 10 images needed)")
    ten = synthetic.table().of_images([f"img_{i:02d}" for i in range(1, 11)])
    # (two claims: the rank-based tests of the others fall back on scipy's slow permutation test at 10 images)
    assert all(c.holds is not None for c in evaluate_claims(ten, [CLAIMS[0], CLAIMS[-1]], resamples=20))


def test_nan_medians_never_hold(synthetic, monkeypatch):
    monkeypatch.setattr("repro.claims.rules.MIN_IMAGES", 0)  # the rule itself, below the report's minimum
    base = synthetic.with_changes(n_ord__gradcam=math.nan)
    claim = _claims(synthetic.table(base))["deeplift_lowest_n_ord"]
    assert claim.holds is False and "DeepLIFT 0.25 >= GradCAM nan" in claim.detail


def _not_better(table, margin):
    spec = ClaimSpec("c7", "...", "not_better", ("tpn", "tps"), winners=("integrated_gradients", "deeplift"),
                     others=("saliency",), params={"margin": margin})
    return evaluate_claims(table, [spec], resamples=200, seed=0)[0]


def test_not_better_reads_the_rank_biserial_against_its_margin(criteria_table, monkeypatch):
    monkeypatch.setattr("repro.claims.rules.MIN_IMAGES", 5)  # a hand-sized table below the report's minimum
    # IG - SM on TPN = (-1, 1, -2, 0, -4): r = 0.7 in IG's favour (the hand example of test_claims_stats);
    # DeepLIFT equals SM everywhere (no non-zero difference: no effect, r taken as 0); TPS all equal
    cells = {}
    for i, d in enumerate([-1.0, 1.0, -2.0, 0.0, -4.0]):
        cells[f"i{i}", "saliency"] = {"tpn": 5.0, "tps": 1.0}
        cells[f"i{i}", "integrated_gradients"] = {"tpn": 5.0 + d, "tps": 1.0}
        cells[f"i{i}", "deeplift"] = {"tpn": 5.0, "tps": 1.0}
    table = criteria_table(cells)
    claim = _not_better(table, 0.1)
    rows = {(r["criterion"], r["a"]): r for r in claim.values["comparisons"]}
    assert rows["tpn", "integrated_gradients"]["r_better"] == pytest.approx(0.7)
    assert rows["tpn", "deeplift"]["r_better"] == 0.0 and rows["tps", "integrated_gradients"]["r_better"] == 0.0
    assert claim.holds is False and claim.significant is False and "TPN IG vs SM +0.700" in claim.detail
    assert len(claim.tests) == 4 and claim.values["wilcoxon_better_none_significant"] is True  # n = 5: no p < 0.05
    # the verdict reads the one-sided 95% upper bound r + 1.645 sqrt(2 (2n + 1) / (3 n (n + 1))), n = 4 non-zero
    bound = 0.7 + 1.6448536269514722 * math.sqrt(2 * 9 / (3 * 4 * 5))
    assert rows["tpn", "integrated_gradients"]["r_better_bound"] == pytest.approx(bound)  # 1.601
    assert _not_better(table, 0.75).holds is False  # 0.7 is below 0.75, but its upper bound is not
    assert _not_better(table, 1.7).holds is True
    # the point estimate alone would pass: a claim of no difference needs its interval inside the margin
    assert rows["tps", "integrated_gradients"]["r_better_bound"] == 0.0  # no non-zero difference: no effect


def test_not_better_is_significant_when_every_bootstrap_bound_is_below_the_margin(synthetic):
    claim = _claims(synthetic.table())["ig_deeplift_not_better_tp_than_sm"]  # IG and DeepLIFT worse than SM
    assert claim.holds is True and claim.values["margin"] == 0.1
    assert all(r["r_better"] < 0 and r["r_better_upper"] >= r["r_better"] for r in claim.values["comparisons"])
    # DeepLIFT's TPN (0.375 +- 0.15) is worse than SM's (0.1875 +- 0.3) on almost every image: p tiny
    dl_tpn = next(r for r in claim.values["comparisons"] if (r["criterion"], r["a"]) == ("tpn", "deeplift"))
    assert dl_tpn["p_margin"] == pytest.approx(1 / 201) and dl_tpn["adjusted_p_margin"] <= 4 / 201
    far = synthetic.with_changes(tpn__integrated_gradients=0.75, tps__integrated_gradients=1.5,
                                 tps__deeplift=1.5, tpn__deeplift=0.75)
    assert _claims(synthetic.table(far))["ig_deeplift_not_better_tp_than_sm"].significant is True


def test_iqr_claim_reports_a_paired_bootstrap_of_each_difference(synthetic):
    claim = _claims(synthetic.table())["smoothgrad_iqr_below_saliency"]
    diff = claim.values["tpn_iqr_difference"]["smoothgrad-saliency"]
    assert diff["difference"] == 9.5 / 64 - 9.5 / 32 and diff["ci"][0] <= diff["difference"] <= diff["ci"][1]
    assert 0 < diff["p"] <= diff["adjusted_p"] <= 1
