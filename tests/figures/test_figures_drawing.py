"""Figures 2-7 drawn from a synthetic results directory (repro.figures, `repro figures`), and the numbers the
drawing computes (areas between curves, the boxplot axis cut, colour limits)."""

from __future__ import annotations

import numpy as np
import pytest

from repro.figures import FIGURE_NAMES, axis_top, draw_all, figure3, figure5, figure5_source, union_area
from repro.figures.drawing import color_limit, grayscale
from repro.results import read_results


@pytest.fixture(scope="module")
def drawn(synthetic_run):
    return synthetic_run, draw_all(synthetic_run, toy=False, dpi=40)


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
    out, _ = drawn
    table = read_results(out / "results.csv")  # drawn with the same model-and-data line as draw_all's
    again = figure5(table, tmp_path, dpi=40, source=figure5_source(out, len(table.image_ids)))
    for p in again:
        assert p.read_bytes() == (out / "figures" / p.name).read_bytes()


def test_figure3_is_drawn_from_the_toy_example(tmp_path):
    paths = figure3(tmp_path, dpi=40)
    assert [p.name for p in paths] == ["fig3_toy_aopc.png", "fig3_toy_aopc.pdf"]
    assert all(p.stat().st_size > 500 for p in paths)


def test_figure3_notes_that_the_caption_should_read_a1_and_a2():
    import numpy as np

    from repro.claims.toys import EXAMPLE1_DELETION
    from repro.figures.curves import FIGURE3_CAPTION_NOTE, figure3_figure

    fig = figure3_figure()
    assert fig.get_supxlabel().replace("\n", " ") == FIGURE3_CAPTION_NOTE
    assert "\"A2 and A3 are overlapping\"; it should read A1 and A2" in FIGURE3_CAPTION_NOTE
    ax_out = fig.axes[0]  # the dashed output curves drawn are the computed ones: A1 = A2 differs from A3
    drawn = {line.get_label().split(":")[0]: line.get_ydata() for line in ax_out.get_lines()}
    assert all(np.array_equal(drawn[n], EXAMPLE1_DELETION[n]) for n in ("A1", "A2", "A3"))
    assert np.array_equal(drawn["A1"], drawn["A2"]) and not np.array_equal(drawn["A2"], drawn["A3"])


def test_area_between_piecewise_linear_curves_is_exact():
    # top: (0,1) -> (1,0); bottom: (0,0) -> (1,1): they cross at k = 1/2, area = 2 * (1/2 * 1/2 * 1) = 1/2
    *_, area = union_area((np.array([0.0, 1.0]), np.array([1.0, 0.0])), (np.array([0.0, 1.0]), np.array([0.0, 1.0])))
    assert area == pytest.approx(0.5)
    # linear-toy TPN curves of scores 10:1 (see repro.claims.toys): breakpoints at k = 10/11 and 1/11, area 8/11
    top = (np.array([0, 10 / 11, 1]), np.array([3.0, 1.0, 0.0]))
    bottom = (np.array([0, 1 / 11, 1]), np.array([3.0, 2.0, 0.0]))
    assert union_area(top, bottom)[-1] == pytest.approx(8 / 11)
    # a repeated x is a jump: top is 1 on [0, 1/2) and 0 after, bottom is 0; the area is 1/2 (np.interp on the
    # union grid would read one side of the jump only and give 1/4 or 3/4)
    jump = (np.array([0.0, 0.5, 0.5, 1.0]), np.array([1.0, 1.0, 0.0, 0.0]))
    grid, yt, yb, area = union_area(jump, (np.array([0.0, 1.0]), np.zeros(2)))
    assert area == pytest.approx(0.5) and grid.tolist() == [0.0, 0.5, 1.0] and yb.tolist() == [0.0, 0.0, 0.0]


def test_boxplot_axis_cut_only_for_far_outliers():
    plain = np.array([0.0, 1, 2, 3, 4])
    assert axis_top([plain]) is None and axis_top([]) is None
    # [0, 1, 2, 3, 100]: q1 = 1, q3 = 3, whisker = largest value <= 3 + 1.5 * 2 = 3; highest whisker 4 (plain);
    # 100 > 5 * (4 - 0), so the axis stops at 4 + 0.1 * 4
    assert axis_top([plain, np.array([0.0, 1, 2, 3, 100])]) == pytest.approx(4.4)


def test_colour_limits_and_grayscale():
    # the 99.5th percentile of |0..200| (linear interpolation) is 199; an all-zero map keeps the limit 1
    assert color_limit(np.arange(-200.0, 1.0)) == pytest.approx(199.0)
    assert color_limit(np.zeros(4)) == 1.0 and color_limit(np.array([np.nan])) == 1.0
    # one pixel in 1000 is non-zero: the 99.5th percentile (position 994.005 of 0..999) is 0, so the maximum
    assert color_limit(np.array([0.0] * 999 + [-5.0])) == 5.0
    np.testing.assert_allclose(grayscale(np.full((1, 2, 3), 255.0)), [[1.0, 1.0]])


def test_figures_command_and_missing_results(synthetic, tmp_path, capsys):
    from repro.cli import main

    out = synthetic.results_dir(tmp_path / "run", examples=0)
    assert main(["figures", str(out), "--no-toy"]) == 0
    captured = capsys.readouterr()
    assert "skipping Figures 2, 4, 6, 7" in captured.err and "fig5_boxplots.png" in captured.out
    assert sorted(p.name for p in (out / "figures").iterdir()) == ["fig5_boxplots.pdf", "fig5_boxplots.png"]
    assert main(["figures", str(tmp_path / "nowhere")]) == 2
    assert "results table not found" in capsys.readouterr().err


def test_sampling_note_says_whether_the_error_is_below_the_plotted_resolution():
    from repro.figures import sampling_note
    from repro.figures.boxplots import RESOLUTION

    assert sampling_note(np.array([np.nan]), 1.0) is None  # no estimate: no note
    assert sampling_note(np.array([0.0, 0.0, np.nan]), 1.0) == "sampling error 0 (exact)"
    below = sampling_note(np.array([3.2e-5, 1e-6]), 1.0)
    assert below == "sampling error est. <= 4e-05 (below plot resolution)"  # rounded up, never down
    assert sampling_note(np.array([RESOLUTION * 2.0]), 2.0) == "largest sampling error est. 0.002"  # not below
    assert sampling_note(np.array([0.0123]), 1.0) == "largest sampling error est. 0.012"


def test_figure5_titles_carry_the_sampling_note_only_with_estimates(synthetic):
    from repro.figures import figure5_figure
    from repro.results import ResultsTable

    def titles(table) -> list[str]:  # the title's lines are wrapped to the panel's width: read them as one line
        return [ax.get_title().replace("\n", " ") for ax in figure5_figure(table).axes]

    assert not any("sampling error" in t for t in titles(synthetic.table()))  # no estimates in the table
    rows = synthetic.rows()
    for i, row in enumerate(rows):
        row.update(n_ord_err=1e-6, s_ord_err=0.0, tpn_err=0.05 if i == 3 else 0.0, tps_err=float("nan"))
    n_ord, s_ord, tpn, tps = titles(ResultsTable.from_rows(rows))
    assert n_ord == "N-Ord sampling error est. <= 1e-06 (below plot resolution)"
    assert s_ord == "1 - S-Ord sampling error 0 (exact)"  # 1 - S-Ord reads S-Ord's estimate
    assert tpn == "TPN largest sampling error est. 0.05"
    assert tps == "TPS"


def _figure_texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text().replace("\n", " ") for t in fig.findobj(Text)]


def test_figure5_names_the_model_and_data_it_rests_on(synthetic_run, tmp_path):
    """The unsaved Figure 5 carries one line read from the run's config.json (Provenance.short: profile,
    network, weights, image count, images), wrapped without changing a character; without config.json it says
    they are not recorded; without ``source`` there is no such line."""
    import json
    import subprocess
    import sys

    from repro.claims.provenance import provenance
    from repro.figures import figure5_figure
    from repro.figures.boxplots import SOURCE_PREFIX

    table = read_results(synthetic_run / "results.csv")
    n = len(table.image_ids)
    config = json.loads((synthetic_run / "config.json").read_text())
    expected = provenance(config, n).short()
    assert expected.startswith("embedded profile: the embedded CNN") and f"{n} images of" in expected
    source = figure5_source(synthetic_run, n)
    assert source == expected
    fig = figure5_figure(table, source)
    assert SOURCE_PREFIX + expected in _figure_texts(fig)
    assert fig.get_supxlabel().replace("\n", " ") == SOURCE_PREFIX + expected
    assert not any(t.startswith(SOURCE_PREFIX) for t in _figure_texts(figure5_figure(table)))
    assert figure5_source(tmp_path, n) == f"not recorded (no config.json in {tmp_path}); {n} images"
    code = (f"import sys; from repro.figures import figure5_source; figure5_source({str(synthetic_run)!r}, 3); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # read from config.json, no model loaded
