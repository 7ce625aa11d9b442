"""The paper's claims test the paper's seven methods whatever else is registered: a ninth method, registered and
present in the table with the best value of every criterion on every image, changes no verdict, no tested
comparison and no statistic of any claim."""

from __future__ import annotations

import json

import numpy as np

from repro.claims import check_claims
from repro.claims.section42 import CLAIMS, MAJORITY_OF_SIX
from repro.results import write_results
from repro.vocabulary import LOWER_IS_BETTER, PAPER_METHODS

NINTH = "ninth_method"


def with_a_ninth_method(rows: list[dict]) -> list[dict]:
    """Every row, plus per image a row of :data:`NINTH` that beats every method on every criterion."""
    out = []
    for image_id in dict.fromkeys(r["image_id"] for r in rows):
        mine = [r for r in rows if r["image_id"] == image_id]
        out += mine
        best = dict(mine[0], method=NINTH, reason="")
        for name in ("n_ord", "one_minus_s_ord", "tpn", "tps", "s_ord", "s_ord_text", "s_ord_baseline"):
            values = [r[name] for r in mine if np.isfinite(r[name])]
            lower = LOWER_IS_BETTER.get(name, False)  # the S-Ord readings: higher is better
            best[name] = min(values) - 1.0 if lower else max(values) + 1.0
        best["s_ord"] = 1.0 - best["one_minus_s_ord"]
        out.append(best)
    return out


def test_the_paper_methods_are_appendix_iis_seven_and_the_majority_is_four_of_six():
    assert PAPER_METHODS == ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp", "guided_backprop",
                             "gradcam")
    assert MAJORITY_OF_SIX == 4
    assert all(set(c.winners) | set(c.others) <= set(PAPER_METHODS) for c in CLAIMS)


def test_a_ninth_registered_method_changes_no_claim(synthetic, tmp_path, monkeypatch):
    import repro.attributions
    import repro.vocabulary

    plain = synthetic.results_dir(tmp_path / "seven")
    ninth = synthetic.results_dir(tmp_path / "nine")
    write_results(ninth / "results.csv", with_a_ninth_method(synthetic.rows()))
    monkeypatch.setitem(repro.attributions.METHODS, NINTH, repro.attributions.METHODS["random"])
    monkeypatch.setattr(repro.vocabulary, "ATTRIBUTION_METHODS", (*repro.vocabulary.ATTRIBUTION_METHODS, NINTH))
    reports = [check_claims(d, resamples=200, toys=False) for d in (plain, ninth)]
    assert NINTH in reports[1].methods and NINTH not in reports[0].methods
    claims = [json.loads((d / "claims.json").read_text())["claims"] for d in (plain, ninth)]
    assert len(claims[0]) == len(CLAIMS)
    for before, after in zip(*claims):
        assert before == after, before["id"]
