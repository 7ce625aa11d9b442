"""repro.summary: the per-method table of medians, IQRs, counts and error estimates, on tables whose numbers are
known by construction (no model)."""

import math

import numpy as np
import pytest

from repro.results import RESULT_COLUMNS, ResultsTable, read_results, write_results
from repro.summary import SUMMARY_FIELDS, format_summary, summary_rows, summary_text


def _row(method: str, i: int, score: str = "logit", reading: str = "", **values) -> dict:
    """A results row of image ``i`` whose criteria, errors and bounds are 0 unless given."""
    row = {c: 0.0 for c in RESULT_COLUMNS}
    row.update(image_id=f"img:{i}", method=method, reading=reading, score=score, target=0, label=-1,
               num_positive=10, reason="")
    row.update(values)
    return row


@pytest.fixture
def rows():
    """saliency: N-Ord 1..5 (median 3, IQR 2), 1 - S-Ord 10, 20, 30, 40, 50 (median 30, IQR 20), TPN 1, 2, 3, 4 and
    one NaN (median 2.5, IQR 1.5), TPS all NaN; random: N-Ord 0, 0, 0, 0, 100 (median 0, IQR 0)."""
    out = []
    for i, v in enumerate([1.0, 2.0, 3.0, 4.0, 5.0]):
        out.append(_row("saliency", i, n_ord=v, one_minus_s_ord=10 * v, s_ord=1 - 10 * v,
                        tpn=math.nan if i == 4 else v, tps=math.nan, n_ord_err=v / 1000, s_ord_err=0.5,
                        tpn_err=math.nan if i == 4 else 0.25 * v, tps_err=math.nan))
        out.append(_row("random", i, n_ord=100.0 if i == 4 else 0.0))
    out += [_row("saliency", i, score="probability", n_ord=7.0) for i in range(5)]
    out += [_row("saliency", i, reading="guided_backprop=plain", n_ord=99.0) for i in range(5)]
    return out


def test_medians_iqrs_counts_and_errors_are_those_built_in(rows):
    got = {(r["score"], r["method"], r["criterion"]): r for r in summary_rows(rows)}
    assert list(got) == [("logit", m, c) for m in ("saliency", "random")
                         for c in ("n_ord", "one_minus_s_ord", "tpn", "tps")] + [
        ("probability", "saliency", c) for c in ("n_ord", "one_minus_s_ord", "tpn", "tps")]
    assert all(list(r) == list(SUMMARY_FIELDS) for r in got.values())
    n_ord = got["logit", "saliency", "n_ord"]
    assert (n_ord["median"], n_ord["q25"], n_ord["q75"], n_ord["iqr"], n_ord["n"], n_ord["nan"]) == (3, 2, 4, 2, 5, 0)
    assert n_ord["err"] == pytest.approx(0.003) and n_ord["name"] == "N-Ord"
    s = got["logit", "saliency", "one_minus_s_ord"]
    assert (s["median"], s["iqr"], s["err"], s["name"]) == (30, 20, 0.5, "1 - S-Ord")  # S-Ord's error estimate
    tpn = got["logit", "saliency", "tpn"]
    assert (tpn["median"], tpn["q25"], tpn["q75"], tpn["iqr"], tpn["n"], tpn["nan"]) == (2.5, 1.75, 3.25, 1.5, 4, 1)
    assert tpn["err"] == 0.625  # median of 0.25, 0.5, 0.75, 1.0 (the NaN row's estimate is not counted)
    tps = got["logit", "saliency", "tps"]
    assert (tps["n"], tps["nan"]) == (0, 5) and all(math.isnan(tps[k]) for k in ("median", "iqr", "err"))
    random = got["logit", "random", "n_ord"]
    assert (random["median"], random["iqr"], random["n"]) == (0, 0, 5)
    assert got["probability", "saliency", "n_ord"]["median"] == 7  # the other reading's 99 is not summarised


def test_the_table_prints_exactly_those_numbers(rows):
    assert summary_text(rows) == """\
score logit: median [IQR] over the images (linear quartiles)
method    N-Ord          1 - S-Ord    TPN           TPS
saliency  3 [2]          30 [20]      2.5 [1.5]     nan [nan]
random    0 [0]          0 [0]        0 [0]         0 [0]
n finite / NaN count / err (median of the sampling error estimates)
saliency  5 / 0 / 0.003  5 / 0 / 0.5  4 / 1 / 0.62  0 / 5 / nan
random    5 / 0 / 0      5 / 0 / 0    5 / 0 / 0     5 / 0 / 0

score probability: median [IQR] over the images (linear quartiles)
method    N-Ord      1 - S-Ord  TPN        TPS
saliency  7 [0]      0 [0]      0 [0]      0 [0]
n finite / NaN count / err (median of the sampling error estimates)
saliency  5 / 0 / 0  5 / 0 / 0  5 / 0 / 0  5 / 0 / 0"""


def test_a_results_csv_gives_the_same_summary_as_its_rows(rows, tmp_path):
    table = read_results(write_results(tmp_path / "results.csv", rows))
    assert summary_text(table) == summary_text(rows)
    assert summary_text(table, reading="guided_backprop=plain").splitlines()[2] == (
        "saliency  99 [0]     0 [0]      0 [0]      0 [0]")


def test_a_table_without_one_minus_s_ord_or_estimates_is_summarised_on_s_ord_without_err(rows):
    columns = {k: v for k, v in ResultsTable.from_rows(rows).columns.items()
               if k != "one_minus_s_ord" and not k.endswith(("_err", "_bound"))}
    got = summary_rows(ResultsTable(columns))
    s_ord = next(r for r in got if r["method"] == "saliency" and r["criterion"] == "s_ord")
    assert (s_ord["name"], s_ord["median"], s_ord["iqr"]) == ("S-Ord", -29, 20)
    assert all(math.isnan(r["err"]) for r in got)
    assert "S-Ord" in format_summary(got).splitlines()[1]


def test_methods_come_in_the_papers_order_and_an_empty_table_says_so():
    rows = [_row(m, 0) for m in ("my_method", "random", "gradcam", "saliency")]
    assert list(dict.fromkeys(r["method"] for r in summary_rows(rows))) == ["saliency", "gradcam", "random",
                                                                              "my_method"]
    assert summary_rows([]) == [] and summary_text([]) == "no result rows to summarise"
    assert summary_rows([_row("saliency", 0, reading="x=y")]) == []


def test_the_table_of_eight_methods_fits_in_100_columns():
    methods = ["saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp", "guided_backprop", "gradcam",
               "random"]
    rng = np.random.default_rng(0)
    rows = [_row(m, i, n_ord=rng.normal(), one_minus_s_ord=-rng.normal() * 10, tpn=rng.lognormal() * 1e9,
                 tps=rng.normal(), n_ord_err=1e-3 * rng.random(), s_ord_err=1e-3, tpn_err=12345.678, tps_err=1e-5)
            for m in methods for i in range(120)]
    lines = summary_text(rows).splitlines()
    assert len(lines) == 2 + 8 + 1 + 8 and max(map(len, lines)) <= 100
