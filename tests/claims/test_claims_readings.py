"""repro.claims.across: every claim under each reading, built so that claims hold, fail or flip by construction;
and the two readings of tp_claims for the proportionality sentence of Section 4.2 (L816-820)."""

from __future__ import annotations

import pytest

from repro.claims import CLAIMS, evaluate_claims, readings_report

TP_IDS = ("sm_ig_sg_better_tpn", "lrp_gb_better_tps")


def _by_id(claims):
    return {c.id: c for c in claims}


def test_between_holds_and_within_fails_by_construction(synthetic):
    # SG's TPN 0.4375 is still below LRP's (0.5) and GB's, but SG now ranks 4th on TPN and 3rd on TPS
    table = synthetic.table(synthetic.with_changes(tpn__smoothgrad=0.4375))
    between = _by_id(evaluate_claims(table, resamples=20, seed=0, tp_claims="between"))
    within = _by_id(evaluate_claims(table, resamples=20, seed=0, tp_claims="within"))
    assert between["sm_ig_sg_better_tpn"].holds is True and within["sm_ig_sg_better_tpn"].holds is False
    assert within["sm_ig_sg_better_tpn"].values["median_ranks"]["tpn"]["smoothgrad"] == 4.0
    assert "SG: TPN rank 4 vs TPS rank 3" in within["sm_ig_sg_better_tpn"].detail
    assert within["lrp_gb_better_tps"].holds is True  # the other half is unaffected


def test_within_holds_and_between_fails_by_construction(synthetic):
    # IG's TPN 0.5625 is above LRP's (0.5): between fails; IG ranks 5th on TPN but 6th on TPS: within holds
    table = synthetic.table(synthetic.with_changes(tpn__integrated_gradients=0.5625,
                                                   tps__integrated_gradients=0.84375))
    between = _by_id(evaluate_claims(table, resamples=20, seed=0, tp_claims="between"))
    within = _by_id(evaluate_claims(table, resamples=20, seed=0, tp_claims="within"))
    assert between["sm_ig_sg_better_tpn"].holds is False and within["sm_ig_sg_better_tpn"].holds is True
    tests = within["sm_ig_sg_better_tpn"].tests  # per-image ranks, TPN against TPS, one per method
    assert [(t.a, t.criterion, t.b_criterion, t.ranks) for t in tests] == [
        (m, "tpn", "tps", True) for m in ("saliency", "integrated_gradients", "smoothgrad")]
    assert [t.b_criterion for t in within["sm_ig_sg_better_tpn"].extra_tests] == ["tps"] * 3  # raw values too


def test_both_halves_of_the_between_reading_compare_the_same_two_groups(synthetic):
    # DeepLIFT's TPS 0.0625 beats LRP and GB: under "between" neither half compares with DeepLIFT, so both hold
    table = synthetic.table(synthetic.with_changes(tps__deeplift=0.0625))
    claims = _by_id(evaluate_claims(table, resamples=20, seed=0))
    assert all(claims[i].holds for i in TP_IDS)
    assert {t.b for t in claims["lrp_gb_better_tps"].tests} == {"saliency", "integrated_gradients", "smoothgrad"}


def test_readings_table_robust_flipped_and_significance_only(synthetic):
    default = synthetic.table()
    flipped = synthetic.table(synthetic.with_changes(n_ord__integrated_gradients=0.125))  # IG best N-Ord
    synthetic.spread["deeplift"] = 1 / 2  # same medians, far noisier DeepLIFT: not significant any more
    noisy = synthetic.table()
    report = readings_report([("default", default, {"tp_claims": "between"}), ("tp_claims=within", default, {"tp_claims": "within"}),
                              ("score=probability", flipped, {"tp_claims": "between"}), ("noisy", noisy, {"tp_claims": "between"})],
                             resamples=20, seed=0)
    assert report.labels == ["default", "tp_claims=within", "score=probability", "noisy"]
    assert report.ids == [c.id for c in CLAIMS]
    assert report.verdicts("deeplift_lowest_n_ord") == [
        "holds and significant", "holds and significant", "does not hold", "holds"]
    assert report.flipped_by("deeplift_lowest_n_ord") == ["score=probability"]  # significance alone is no flip
    assert report.line("deeplift_lowest_n_ord") == (
        "holds and significant under default; flipped by score=probability (does not hold)")
    # the noisy DeepLIFT also makes GradCAM's lead over it on 1 - S-Ord not significant: robust, significance named
    assert report.robust("gradcam_lowest_one_minus_s_ord")
    assert report.line("gradcam_lowest_one_minus_s_ord") == (
        "robust: holds in every reading (4); significant only under default, tp_claims=within, score=probability")
    assert report.line("lrp_gb_better_tps") == "robust: holds in every reading (4); significant in every reading"
    assert report.line("no_method_best_on_all") == "robust: holds in every reading (4)"  # no inferential form
    md = report.to_markdown()
    assert "| claim | default | tp_claims=within | score=probability | noisy |" in md
    # each verdict with the share of bootstrap resamples that give it under that reading
    cells = report.cells("deeplift_lowest_n_ord")
    assert f"| `deeplift_lowest_n_ord` | {' | '.join(cells)} |" in md
    assert [c.rsplit(" (", 1)[0] for c in cells] == report.verdicts("deeplift_lowest_n_ord")
    assert all(c.endswith("%)") for c in cells)
    assert report.stability[0]["deeplift_lowest_n_ord"] >= 0.9  # gaps >= 1/8 against spreads of 1/64
    data = report.to_dict()
    entry = next(c for c in data["claims"] if c["id"] == "deeplift_lowest_n_ord")
    assert entry["holds"] == {"default": True, "tp_claims=within": True, "score=probability": False, "noisy": True}
    assert entry["robust"] is False and entry["flipped_by"] == ["score=probability"] and entry["lines"] == "L813-815"
    assert data["readings"][1] == {"label": "tp_claims=within", "tp_claims": "within", "relative_claims": "all",
                                   "num_images": 20}
    text = report.summary().splitlines()
    assert text[0] == "claims under 4 readings (default, tp_claims=within, score=probability, noisy):"
    assert text[-1].endswith("claims robust across the readings")


def test_a_claim_that_flips_with_tp_claims_in_the_report(synthetic):
    table = synthetic.table(synthetic.with_changes(tpn__smoothgrad=0.4375))
    report = readings_report([("default", table, {"tp_claims": "between"}), ("tp_claims=within", table, {"tp_claims": "within"})], resamples=20)
    assert report.flipped_by("sm_ig_sg_better_tpn") == ["tp_claims=within"]
    assert report.claims[0][0] is not report.claims[1][0]  # evaluated again, the statistics shared
    assert report.claims[0][0].stats[0] is report.claims[1][0].stats[0]


def test_views_are_checked(synthetic):
    table = synthetic.table()
    with pytest.raises(ValueError, match="at least one view"):
        readings_report([])
    with pytest.raises(ValueError, match="labels must be unique"):
        readings_report([("a", table, {"tp_claims": "between"}), ("a", table, {"tp_claims": "within"})])
    with pytest.raises(ValueError, match="tp_claims must be one of"):
        readings_report([("a", table, {"tp_claims": "across"})])
