"""Claims of Section 4.2 over a constructed results table (repro/claims.py, repro check-claims)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from conftest_results import BASE, N_IMAGES, expected_median, make_results_dir, make_rows

from repro.claims import (
    ATTRIBUTION_METHODS, EXAMPLE1_DELETION, EXAMPLE1_S_ORD, aopc, bootstrap_iqr_ci, bootstrap_median_ci, check_claims,
    evaluate_claims, method_stats, paired_test,
)
from repro.cli import main as cli_main
from repro.results import ResultsTable


def _claims(base=None, methods=None):
    table = ResultsTable.from_rows(make_rows(base, methods))
    return {c.id: c for c in evaluate_claims(table, resamples=200)}


def _base(**changes):
    base = copy.deepcopy(BASE)
    for key, value in changes.items():
        criterion, method = key.split("__")
        base[criterion][method] = value
    return base


def test_every_claim_holds_by_construction_with_exact_medians():
    claims = _claims()
    assert {c: claims[c].holds for c in claims} == {c: True for c in claims}
    n_ord = {s.method: s for s in claims["deeplift_lowest_n_ord"].stats}
    assert n_ord["deeplift"].median == 0.25 and n_ord["saliency"].median == 0.5
    assert n_ord["lrp"].median == expected_median("n_ord", "lrp")
    assert (n_ord["lrp"].n, n_ord["lrp"].dropped) == (N_IMAGES - 1, 1)  # the NaN row is dropped and counted
    assert (n_ord["deeplift"].n, n_ord["deeplift"].dropped) == (N_IMAGES, 0)
    assert "random" not in n_ord  # the Random baseline is not one of "the others"
    tpn = claims["sm_ig_sg_lower_tpn_than_lrp_gb"]
    assert [(t.a, t.b) for t in tpn.tests] == [(a, b) for a in ("saliency", "integrated_gradients", "smoothgrad")
                                               for b in ("lrp", "guided_backprop")]
    assert all(t.a_lower for t in tpn.tests)
    assert len(claims["lrp_gb_lower_tps_than_others"].tests) == 10
    assert claims["no_method_best_on_all"].values["winners"] == {
        "n_ord": "deeplift", "one_minus_s_ord": "gradcam", "tpn": "saliency", "tps": "guided_backprop"}
    iqr = claims["smoothgrad_iqr_below_saliency"].values
    # IQR of arange(20) - 9.5 (numpy linear quantiles: 4.75 and 14.25) is 9.5; spreads 1/64 and 1/32.
    assert iqr["tpn_iqr"] == {"smoothgrad": 9.5 / 64, "saliency": 9.5 / 32}
    # pairs with LRP drop the image where LRP is NaN
    lrp_test = next(t for t in tpn.tests if t.b == "lrp")
    assert (lrp_test.n_pairs, lrp_test.dropped) == (N_IMAGES - 1, 1)


def test_bootstrap_ci_contains_median_and_is_seeded():
    values = np.random.default_rng(3).normal(size=101)
    low, high = bootstrap_median_ci(values, resamples=500, seed=1)
    assert low <= np.median(values) <= high
    assert (low, high) == bootstrap_median_ci(values, resamples=500, seed=1)
    assert bootstrap_median_ci(np.full(7, 2.5)) == (2.5, 2.5)
    assert bootstrap_iqr_ci(np.full(7, 2.5)) == (0.0, 0.0)
    assert all(math.isnan(v) for v in bootstrap_median_ci(np.array([])))
    with pytest.raises(ValueError, match="NaN"):
        bootstrap_median_ci(np.array([1.0, np.nan]))
    for claim in _claims().values():
        for s in claim.stats:
            assert s.ci_low <= s.median <= s.ci_high


def test_paired_test_exact_p_value_when_one_method_is_always_lower():
    # a < b on all n = 20 images with distinct |differences|: W+ = 0, and under H0 each of the 2^20 sign patterns
    # is equally likely, so the exact two-sided p is 2 * (1 / 2^20).
    a = np.arange(20, dtype=float)
    b = a + 1 + 0.1 * np.arange(20)
    rows = [{"image_id": f"i{i}", "method": m, "target": 0, "label": -1, "y0": 1.0, "yb": 0.0, "num_positive": 1,
             "n_ord": v, "s_ord": 0.0, "one_minus_s_ord": 1.0, "tpn": 0.0, "tps": 0.0, "reason": ""}
            for i in range(20) for m, v in (("saliency", a[i]), ("lrp", b[i]))]
    t = paired_test(ResultsTable.from_rows(rows), "n_ord", "saliency", "lrp")
    assert t.n_pairs == 20 and t.dropped == 0 and t.n_nonzero == 20
    assert t.statistic == 0.0 and t.p_value == pytest.approx(2 / 2**20, rel=1e-12)
    assert t.rank_sum_below == 210.0 and t.rank_sum_above == 0.0 and t.a_lower and t.significant_lower()
    rows[0]["n_ord"] = float("nan")  # image i0 of saliency: dropped, 19 pairs left
    t = paired_test(ResultsTable.from_rows(rows), "n_ord", "saliency", "lrp")
    assert (t.n_pairs, t.dropped) == (19, 1) and t.p_value == pytest.approx(2 / 2**19, rel=1e-12)
    same = paired_test(ResultsTable.from_rows(rows), "tpn", "saliency", "lrp")  # all differences zero
    assert same.n_nonzero == 0 and math.isnan(same.p_value) and not same.significant_lower()


def test_shared_stats_and_pivots_give_the_numbers_of_a_direct_computation():
    # evaluate_claims computes each (criterion, method) bootstrap and each criterion's pivot once and shares them
    # between claims; every claim must report exactly what method_stats / paired_test give on their own.
    table = ResultsTable.from_rows(make_rows())
    claims = evaluate_claims(table, resamples=200, seed=7)
    n_stats = n_tests = 0
    for claim in claims:
        for s in claim.stats:
            assert s == method_stats(table, s.criterion, s.method, resamples=200, seed=7)
            n_stats += 1
        for t in claim.tests:
            direct = paired_test(table, t.criterion, t.a, t.b)
            assert t == direct or (math.isnan(t.p_value) and math.isnan(direct.p_value))
            n_tests += 1
    assert (n_stats, n_tests) == (7 + 7 + 5 + 7 + 4 * 7 + 4, 1 * 6 + 1 * 6 + 3 * 2 + 2 * 5)
    assert ATTRIBUTION_METHODS == ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                                   "guided_backprop", "gradcam")


@pytest.mark.parametrize("change, claim_id", [
    ({"n_ord__lrp": 0.125}, "deeplift_lowest_n_ord"),
    ({"n_ord__saliency": 0.25}, "deeplift_lowest_n_ord"),  # a tie is not "lowest"
    ({"one_minus_s_ord__deeplift": 0.5}, "gradcam_lowest_one_minus_s_ord"),
    ({"tpn__lrp": 0.2}, "sm_ig_sg_lower_tpn_than_lrp_gb"),  # IG (0.25) > LRP: one of six pairs fails
    ({"tps__smoothgrad": 0.0}, "lrp_gb_lower_tps_than_others"),
])
def test_a_claim_fails_when_broken_by_construction(change, claim_id):
    claims = _claims(_base(**change))
    assert claims[claim_id].holds is False
    assert [c for c in claims if claims[c].holds is not True] == [claim_id]


def test_one_method_best_on_all_four_breaks_the_no_winner_claim():
    base = _base(n_ord__gradcam=0.0, tpn__gradcam=0.0, tps__gradcam=0.0)
    claims = _claims(base)
    assert claims["no_method_best_on_all"].holds is False
    assert set(claims["no_method_best_on_all"].values["winners"].values()) == {"gradcam"}


def test_iqr_claim_fails_when_smoothgrad_spreads_more(monkeypatch):
    import conftest_results

    monkeypatch.setitem(conftest_results.SPREAD, "smoothgrad", 1 / 16)
    assert _claims()["smoothgrad_iqr_below_saliency"].holds is False


def test_missing_methods_make_claims_untestable():
    claims = _claims(methods=["saliency", "deeplift", "random"])
    assert claims["deeplift_lowest_n_ord"].holds is None
    assert "not testable" in claims["deeplift_lowest_n_ord"].detail and "integrated_gradients" in \
        claims["deeplift_lowest_n_ord"].detail
    assert claims["no_method_best_on_all"].holds is True  # SM and DeepLIFT split the four criteria


def test_check_claims_writes_standard_json_and_markdown(tmp_path):
    out = make_results_dir(tmp_path / "run", examples=0)
    report = check_claims(out, resamples=100, toys=False)
    assert report.profile == "embedded" and report.failed == [] and report.exit_code == 0
    data = json.loads((out / "claims.json").read_text(), parse_constant=lambda c: pytest.fail(f"non-standard {c}"))
    assert data["failed"] == [] and len(data["claims"]) == 6
    text = (out / "claims.md").read_text()
    assert "DeepLIFT has shown relatively better Necessity Ordering" in text and "| DeepLIFT | 20 | 0 | 0.25 |" in text
    assert not list(out.glob(".*.tmp"))


def _cli(*args):
    return cli_main(["check-claims", *map(str, args), "--no-toys", "--resamples", "50"])


def test_command_exit_codes(tmp_path, capsys):
    good = make_results_dir(tmp_path / "good", profile="paper", examples=0)
    bad_embedded = make_results_dir(tmp_path / "bad_e", base=_base(n_ord__lrp=0.0), examples=0)
    bad_paper = make_results_dir(tmp_path / "bad_p", profile="paper", base=_base(n_ord__lrp=0.0), examples=0)
    assert _cli(good) == 0
    assert _cli(bad_embedded) == 0  # embedded: reported, not failed
    assert "use --strict to fail" in capsys.readouterr().out
    assert _cli(bad_embedded, "--strict") == 1
    assert _cli(bad_paper) == 1
    assert _cli(bad_paper, "--profile", "embedded") == 0
    assert _cli(tmp_path / "nowhere") == 2
    assert "results table not found" in capsys.readouterr().err


def test_toy_examples_through_the_engine():
    from repro.claims import toy_checks

    checks = {c.id: c for c in toy_checks()}
    curves = checks["example1_aopc_curves"].computed
    for name, expected in EXAMPLE1_DELETION.items():
        np.testing.assert_allclose(curves[name], expected, atol=1e-7)
    # AOPC (Samek et al.) after all three removals: A1 = A2 = 1/4, A3 = (0 + 0 + 1 + 1) / 4 = 1/2
    assert aopc(curves["A1"])[-1] == pytest.approx(0.25) and aopc(curves["A3"])[-1] == pytest.approx(0.5)
    assert all(c.holds for c in checks.values())
    for name, value in EXAMPLE1_S_ORD.items():
        assert checks["example1_s_ord"].computed[name] == pytest.approx(value, abs=1e-7)
    lin = checks["linear_toy_proportionality"].computed
    assert abs(lin["tpn_2_1"]) < 1e-6 and abs(lin["tps_2_1"]) < 1e-6
    assert lin["tpn_10_1"] == pytest.approx(8 / 33, abs=1e-6) and lin["tps_10_1"] == pytest.approx(8 / 33, abs=1e-6)
