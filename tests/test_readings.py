"""The readings as settings (repro/readings.py), the jobs a run computes for them (repro/config.py) and the view
of one reading (repro/results/views.py), on tables built so that every answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from repro.config import make_config
from repro.errors import ReproError
from repro.readings import DEFAULTS, MAP_READINGS, READINGS, Reading, one_at_a_time, parse_assignments
from repro.results import ResultsTable, available_readings, reading_view


def test_defaults_are_the_first_values_and_readings_validate():
    assert Reading().as_dict() == DEFAULTS == {name: values[0] for name, values in READINGS.items()}
    assert DEFAULTS["score"] == "logit" and DEFAULTS["guided_backprop"] == "x_input"
    with pytest.raises(ValueError, match="unknown value 'softmax' of reading 'score'"):
        Reading(score="softmax")
    r = Reading().changed(score="probability", s_ord="text")
    assert r.differences(Reading()) == {"score": "probability", "s_ord": "text"}
    assert r.label() == "score=probability, s_ord=text" and Reading().label() == "default"


def test_parse_assignments_and_one_at_a_time():
    assert parse_assignments(["score=probability", "s_ord=baseline"]) == {"score": "probability",
                                                                          "s_ord": "baseline"}
    for bad, message in (("score", "expected NAME=VALUE"), ("colour=red", "expected NAME=VALUE"),
                         ("s_ord=other", "s_ord is one of printed, text, baseline")):
        with pytest.raises(ValueError, match=message):
            parse_assignments([bad])
    readings = one_at_a_time(Reading())
    # the base, then one change of one setting at a time: sum over settings of (values - 1)
    assert readings[0] == Reading() and len(readings) == 1 + sum(len(v) - 1 for v in READINGS.values())
    assert all(len(r.differences(Reading())) == 1 for r in readings[1:])


def test_map_jobs_and_row_keys_follow_the_readings():
    cfg = make_config("embedded", quick=True, methods=["saliency", "guided_backprop", "gradcam"])
    assert cfg.readings == tuple(MAP_READINGS)  # the embedded profile computes every map reading
    jobs = [(tag, m) for tag, m, _ in cfg.map_jobs()]
    assert jobs == [("", "saliency"), ("", "guided_backprop"), ("", "gradcam"),
                    ("input_reference=input_minus_baseline", "saliency"),
                    ("input_reference=input_minus_baseline", "guided_backprop"),
                    ("guided_backprop=plain", "guided_backprop"),
                    ("target=label", "saliency"), ("target=label", "guided_backprop"), ("target=label", "gradcam"),
                    ("perturbation_baseline=zero", "saliency"), ("perturbation_baseline=zero", "guided_backprop"),
                    ("perturbation_baseline=zero", "gradcam")]  # lrp_rule: no job, LRP is not among the methods
    assert cfg.row_keys()[:2] == [("saliency", "", "logit"), ("saliency", "", "probability")]
    assert len(cfg.row_keys()) == 2 * len(jobs)
    assert cfg.method_overrides("guided_backprop") == {"variant": "x_input", "input_reference": "input"}
    plain = cfg.map_jobs()[5][2]
    assert cfg.method_overrides("guided_backprop", plain)["variant"] == "plain"
    assert make_config("paper", readings=()).map_jobs() == [("", m, Reading()) for m in make_config("paper").methods]
    with pytest.raises(ReproError, match="unknown map reading"):
        make_config(readings=("score",))
    with pytest.raises(ReproError, match="unknown s_ord 'wrong'"):
        make_config(s_ord="wrong")


def known_table() -> ResultsTable:
    """Two images, methods saliency and guided_backprop; every row's n_ord encodes its identity:
    100 * image + 10 * (method: 1 SM, 2 GB) + (reading: 0 own, 1 GB plain, 2 label) + 0.5 for probability."""
    rows = []
    for i in range(2):
        for method, code in (("saliency", 1), ("guided_backprop", 2)):
            for tag, t in (("", 0), ("guided_backprop=plain", 1), ("target=label", 2)):
                if tag == "guided_backprop=plain" and method != "guided_backprop":
                    continue
                for score, half in (("logit", 0.0), ("probability", 0.5)):
                    v = 100 * i + 10 * code + t + half
                    rows.append(dict(image_id=f"img{i}", method=method, reading=tag, score=score, target=1,
                                     label=1, y0=1.0, yb=0.0, num_positive=3, n_ord=v, s_ord=-v, one_minus_s_ord=1 + v,
                                     s_ord_text=-2 * v, s_ord_baseline=-3 * v, tpn=v, tps=v, reason="",
                                     s_ord_err=v / 8, s_ord_text_err=2 * v / 8, s_ord_bound=v / 4,
                                     s_ord_text_bound=2 * v / 4))
    return ResultsTable.from_rows(rows)


def test_reading_view_picks_exactly_the_rows_of_one_reading():
    table, base = known_table(), Reading()
    own = reading_view(table, base, base)
    assert own.column("n_ord").tolist() == [10, 20, 110, 120]
    prob = reading_view(table, base.changed(score="probability"), base)
    assert prob.column("n_ord").tolist() == [10.5, 20.5, 110.5, 120.5]
    plain = reading_view(table, base.changed(guided_backprop="plain"), base)
    assert plain.column("n_ord").tolist() == [10, 21, 110, 121]  # only GB takes the plain rows
    label = reading_view(table, base.changed(target="label"), base)
    assert label.column("n_ord").tolist() == [12, 22, 112, 122]  # every method takes the label rows
    text = reading_view(table, base.changed(s_ord="text"), base)
    assert text.column("s_ord").tolist() == [-20, -40, -220, -240]
    np.testing.assert_array_equal(text.column("one_minus_s_ord"), 1 - text.column("s_ord"))
    # the S-Ord reading's error estimate and bound come with it
    np.testing.assert_array_equal(text.column("s_ord_err"), -text.column("s_ord") / 8)
    np.testing.assert_array_equal(text.column("s_ord_bound"), -text.column("s_ord") / 4)
    np.testing.assert_array_equal(own.column("s_ord_err"), own.column("n_ord") / 8)
    assert own.pivot("n_ord")[2].shape == (2, 2)  # one row per (image, method): no duplicates


def test_reading_view_refuses_what_the_run_did_not_compute():
    table, base = known_table(), Reading()
    with pytest.raises(ReproError, match="input_reference=input_minus_baseline was not computed"):
        reading_view(table, base.changed(input_reference="input_minus_baseline"), base)
    with pytest.raises(ReproError, match="changes 2 map readings at once"):
        reading_view(table, base.changed(guided_backprop="plain", target="label"), base)


def lrp_and_baseline_table() -> ResultsTable:
    """Two images, methods saliency and lrp, the readings ``lrp_rule`` (LRP's rows only) and
    ``perturbation_baseline`` (every method's rows); n_ord = 100 * image + 10 * (1 SM, 2 LRP) + (0 own,
    1 lrp_rule=alpha2beta1, 2 perturbation_baseline=zero) + 0.5 for probability."""
    rows = []
    for i in range(2):
        for method, code in (("saliency", 1), ("lrp", 2)):
            for tag, t in (("", 0), ("lrp_rule=alpha2beta1", 1), ("perturbation_baseline=zero", 2)):
                if tag == "lrp_rule=alpha2beta1" and method != "lrp":
                    continue
                for score, half in (("logit", 0.0), ("probability", 0.5)):
                    v = 100 * i + 10 * code + t + half
                    rows.append(dict(image_id=f"img{i}", method=method, reading=tag, score=score, target=1, label=1,
                                     y0=1.0, yb=0.0, num_positive=3, n_ord=v, s_ord=-v, one_minus_s_ord=1 + v,
                                     s_ord_text=-2 * v, s_ord_baseline=-3 * v, tpn=v, tps=v, reason=""))
    return ResultsTable.from_rows(rows)


def test_lrp_rule_and_perturbation_baseline_are_views_of_their_own_rows():
    table, base = lrp_and_baseline_table(), Reading()
    assert MAP_READINGS["lrp_rule"] == ("lrp",) and MAP_READINGS["perturbation_baseline"] == ()
    assert reading_view(table, base, base).column("n_ord").tolist() == [10, 20, 110, 120]
    alpha_beta = reading_view(table, base.changed(lrp_rule="alpha2beta1"), base)
    assert alpha_beta.column("n_ord").tolist() == [10, 21, 110, 121]  # only LRP takes the alpha2beta1 rows
    zero = reading_view(table, base.changed(perturbation_baseline="zero", score="probability"), base)
    assert zero.column("n_ord").tolist() == [12.5, 22.5, 112.5, 122.5]  # every method takes the zero rows
    labels = [r.label() for r in available_readings(table, base)]
    assert [label for label in labels if label.partition("=")[0] in MAP_READINGS] == [
        "lrp_rule=alpha2beta1", "perturbation_baseline=zero"]
    with pytest.raises(ReproError, match="lrp_rule=alpha2beta1 was not computed; .* --readings lrp_rule"):
        reading_view(known_table(), base.changed(lrp_rule="alpha2beta1"), base)
    with pytest.raises(ReproError, match="changes 2 map readings at once"):
        reading_view(table, base.changed(lrp_rule="alpha2beta1", perturbation_baseline="zero"), base)


def test_available_readings_lists_what_the_table_holds():
    labels = [r.label() for r in available_readings(known_table(), Reading())]
    assert labels == ["default", "score=probability", "s_ord=text", "s_ord=baseline", "guided_backprop=plain",
                      "target=label", "tp_claims=within", "relative_claims=most"]  # claim readings: always
