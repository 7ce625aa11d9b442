"""Figures 2-7 from a synthetic results directory (repro/figures.py, repro figures)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest_results import make_results_dir, make_rows

from repro.errors import ReproError
from repro.figures import FIGURE_NAMES, _union_area, draw_all, example_paths, load_example, winners
from repro.results import ResultsTable


@pytest.fixture(scope="module")
def drawn(tmp_path_factory):
    out = make_results_dir(tmp_path_factory.mktemp("run"), examples=2, size=8)
    return out, draw_all(out, toy=False, dpi=40)


def test_every_figure_is_written_as_png_and_pdf(drawn):
    out, paths = drawn
    expected = {f"{name}.{ext}" for name in FIGURE_NAMES if name != "fig3_toy_aopc" for ext in ("png", "pdf")}
    assert {p.name for p in paths} == expected
    for p in paths:
        assert p.parent == out / "figures" and p.stat().st_size > 500
        head = p.read_bytes()[:8]
        assert head.startswith(b"\x89PNG") if p.suffix == ".png" else head.startswith(b"%PDF")
    assert not list((out / "figures").glob(".*.tmp"))


def test_figures_are_deterministic(drawn, tmp_path):
    from repro.figures import figure5
    from repro.results import read_results

    out, _ = drawn
    again = figure5(read_results(out / "results.csv"), tmp_path, dpi=40)
    for p in again:
        assert p.read_bytes() == (out / "figures" / p.name).read_bytes()


def _table(values: dict[str, dict[str, float]]) -> ResultsTable:
    rows = []
    for method, crit in values.items():
        rows.append({"image_id": "x", "method": method, "target": 0, "label": -1, "y0": 1.0, "yb": 0.0,
                     "num_positive": 5, "n_ord": crit.get("n_ord", math.nan), "s_ord": crit.get("s_ord", math.nan),
                     "one_minus_s_ord": 1 - crit.get("s_ord", math.nan), "tpn": crit.get("tpn", math.nan),
                     "tps": crit.get("tps", math.nan), "reason": ""})
    return ResultsTable.from_rows(rows)


def test_winners_lowest_n_ord_highest_s_ord_lowest_tpn_tps_nan_safe():
    table = _table({
        "saliency": {"n_ord": 0.4, "s_ord": -0.9, "tpn": 0.05, "tps": 0.3},
        "deeplift": {"n_ord": 0.1, "s_ord": -0.5, "tpn": 0.20, "tps": math.nan},
        "gradcam": {"n_ord": math.nan, "s_ord": -0.2, "tpn": 0.30, "tps": 0.2},
        "lrp": {"n_ord": 0.1, "s_ord": -0.3, "tpn": math.nan, "tps": 0.1},   # ties DeepLIFT on N-Ord
        "random": {"n_ord": 0.0, "s_ord": 0.0, "tpn": 0.0, "tps": 0.0},       # baseline: never a winner
    })
    # S-Ord: higher is better (Proposition 2), so GradCAM's -0.2 wins; the N-Ord tie goes to the paper's order.
    assert winners(table, "x") == {"n_ord": "deeplift", "s_ord": "gradcam", "tpn": "saliency", "tps": "lrp"}
    assert winners(table, "x", exclude=()) == {"n_ord": "random", "s_ord": "random", "tpn": "random",
                                              "tps": "random"}
    nan_only = _table({"saliency": {}, "lrp": {}})
    assert winners(nan_only, "x") == {"n_ord": None, "s_ord": None, "tpn": None, "tps": None}
    assert winners(table, "not-an-image") == {"n_ord": None, "s_ord": None, "tpn": None, "tps": None}


def test_winners_on_the_synthetic_table_match_brute_force():
    table = ResultsTable.from_rows(make_rows())
    for image_id in table.image_ids[:5]:
        rows = [r for r in table.rows() if r["image_id"] == image_id and r["method"] != "random"]
        finite = lambda c: [r for r in rows if not math.isnan(r[c])]  # noqa: E731
        expected = {"n_ord": min(finite("n_ord"), key=lambda r: r["n_ord"])["method"],
                    "s_ord": max(finite("s_ord"), key=lambda r: r["s_ord"])["method"],
                    "tpn": min(finite("tpn"), key=lambda r: r["tpn"])["method"],
                    "tps": min(finite("tps"), key=lambda r: r["tps"])["method"]}
        assert winners(table, image_id) == expected


def test_area_between_piecewise_linear_curves_is_exact():
    # top: (0,1) -> (1,0); bottom: (0,0) -> (1,1): they cross at k = 1/2, area = 2 * (1/2 * 1/2 * 1) = 1/2
    *_, area = _union_area((np.array([0.0, 1.0]), np.array([1.0, 0.0])), (np.array([0.0, 1.0]), np.array([0.0, 1.0])))
    assert area == pytest.approx(0.5)
    # linear-toy TPN curves of scores 10:1 (see repro.claims): breakpoints at k = 10/11 and 1/11, area 8/11
    top = (np.array([0, 10 / 11, 1]), np.array([3.0, 1.0, 0.0]))
    bottom = (np.array([0, 1 / 11, 1]), np.array([3.0, 2.0, 0.0]))
    assert _union_area(top, bottom)[-1] == pytest.approx(8 / 11)
    # a repeated x is a jump: top is 1 on [0, 1/2) and 0 after, bottom is 0; the area is 1/2 (np.interp on the
    # union grid would read one side of the jump only and give 1/4 or 3/4)
    jump = (np.array([0.0, 0.5, 0.5, 1.0]), np.array([1.0, 1.0, 0.0, 0.0]))
    grid, yt, yb, area = _union_area(jump, (np.array([0.0, 1.0]), np.zeros(2)))
    assert area == pytest.approx(0.5) and grid.tolist() == [0.0, 0.5, 1.0] and yb.tolist() == [0.0, 0.0, 0.0]


def test_shared_method_helpers():
    from repro.attributions import METHODS
    from repro.vocabulary import BASELINES, display_name, ordered_methods

    assert BASELINES == ("random",) and set(BASELINES) <= set(METHODS)
    assert display_name("deeplift") == "DeepLIFT" and display_name("my_method") == "my_method"
    assert ordered_methods(["zeta", "random", "lrp", "zeta", "saliency"]) == ["saliency", "lrp", "random", "zeta"]
    table = ResultsTable.from_rows(make_rows())
    assert table.methods == ordered_methods(table.column("method").tolist())


def test_load_example_reads_the_contract(tmp_path):
    out = make_results_dir(tmp_path, examples=2, size=8)
    paths = example_paths(out)
    assert [p.stem for p in paths] == ["img_00", "img_01"]
    ex = load_example(paths[0])
    assert ex.image.shape == (8, 8, 3) and ex.class_name == "class_0" and ex.target == 0
    assert set(ex.maps) == set(ex.curves) and len(ex.maps) == 8
    assert set(ex.curves["lrp"]) == {"necessity", "sufficiency", "tpn_top", "tpn_bottom", "tps_top", "tps_bottom"}
    bad = out / "examples" / "broken.npz"
    bad.write_bytes(b"nope")
    with pytest.raises(ReproError, match="broken.npz: cannot read example file"):
        load_example(bad)


def test_figure3_curves_are_example1(tmp_path):
    from repro.claims.toys import aopc, example1_deletion_curves
    from repro.figures import figure3

    curves = example1_deletion_curves()
    np.testing.assert_allclose(curves["A1"][1], [1, 1, 1, 0], atol=1e-7)
    np.testing.assert_allclose(curves["A2"][1], [1, 1, 1, 0], atol=1e-7)
    np.testing.assert_allclose(curves["A3"][1], [1, 1, 0, 0], atol=1e-7)
    np.testing.assert_allclose(aopc(curves["A3"][1]), [0, 0, 1 / 3, 1 / 2], atol=1e-7)
    paths = figure3(tmp_path, dpi=40)
    assert [p.name for p in paths] == ["fig3_toy_aopc.png", "fig3_toy_aopc.pdf"]
    assert all(p.stat().st_size > 500 for p in paths)


def test_figures_command_and_missing_results(tmp_path, capsys):
    from repro.cli import main

    out = make_results_dir(tmp_path / "run", examples=0)
    assert main(["figures", str(out), "--no-toy"]) == 0
    captured = capsys.readouterr()
    assert "skipping Figures 2, 4, 6, 7" in captured.err and "fig5_boxplots.png" in captured.out
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["fig5_boxplots.pdf", "fig5_boxplots.png"]
    assert main(["figures", str(tmp_path / "nowhere")]) == 2
    assert "results table not found" in capsys.readouterr().err


@pytest.mark.slow  # starts a Jupyter kernel: ~6 s idle, several times that on a loaded machine
def test_walkthrough_notebook_executes_headless(tmp_path):
    import nbformat

    from repro.claims import check_claims
    from repro.notebook import execute_notebook

    out = make_results_dir(tmp_path / "run", examples=2, size=8)
    draw_all(out, dpi=40)
    check_claims(out, resamples=50, toys=False)
    notebook = __import__("pathlib").Path(__file__).resolve().parent.parent / "notebooks" / "walkthrough.ipynb"
    executed = execute_notebook(notebook, out)
    assert executed == out / "walkthrough.ipynb"
    nb = nbformat.read(executed, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 6  # Figures 2-7
    text = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "Claims of Section 4.2, checked" in text and "| DeepLIFT |" in text
    assert str(out) in "".join(o.get("text", "") for o in outputs)  # REPRO_RESULTS reached the kernel


def test_notebook_runner_errors(tmp_path):
    from repro.notebook import execute_notebook, main

    with pytest.raises(ReproError, match="notebook not found"):
        execute_notebook(tmp_path / "none.ipynb", tmp_path)
    (tmp_path / "nb.ipynb").write_text("{}")
    with pytest.raises(ReproError, match="no results.csv"):
        execute_notebook(tmp_path / "nb.ipynb", tmp_path / "empty")
    assert main([str(tmp_path / "none.ipynb"), "--results", str(tmp_path)]) == 2


def test_boxplot_axis_cut_only_for_far_outliers():
    from repro.figures import _axis_top

    plain = np.array([0.0, 1, 2, 3, 4])
    assert _axis_top([plain]) is None
    # [0, 1, 2, 3, 100]: q1 = 1, q3 = 3, whisker = largest value <= 3 + 1.5 * 2 = 3; highest whisker 4 (plain);
    # 100 > 5 * (4 - 0), so the axis stops at 4 + 0.1 * 4
    assert _axis_top([plain, np.array([0.0, 1, 2, 3, 100])]) == pytest.approx(4.4)
