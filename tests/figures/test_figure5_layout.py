"""Figure 5's text is laid out so every piece is readable: no two visible texts overlap and none leaves the figure,
even when many methods have NaN rows in several criteria (the notes under the panels), the titles carry the
axis-cut and sampling notes, and the model-and-data footer is long (issue 23)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from repro.figures import figure5_figure, figure5_source
from repro.results import ResultsTable


def _crowded_rows(synthetic, estimates: bool) -> list[dict]:
    """The synthetic rows (LRP NaN on img_00 in every criterion) with NaN rows for seven methods in TPN (6 images
    each), five in TPS (12 each) and three more in N-Ord (2 each); with ``estimates`` also error estimates whose
    notes are the longest (below plot resolution) and one far outlier in TPN, so that its title says how many
    points are cut."""
    rows = synthetic.rows()
    for row in rows:
        i = int(row["image_id"][-2:])
        if row["method"] != "random" and i < 6:
            row["tpn"] = np.nan
        if row["method"] in ("saliency", "smoothgrad", "deeplift", "lrp", "gradcam") and i < 12:
            row["tps"] = np.nan
        if row["method"] in ("integrated_gradients", "guided_backprop", "gradcam") and i < 2:
            row["n_ord"] = np.nan
        if estimates:
            row.update(n_ord_err=3.2e-5, s_ord_err=3.2e-5, tpn_err=3.2e-5, tps_err=3.2e-5)
    if estimates:
        far = next(r for r in rows if r["method"] == "random" and int(r["image_id"][-2:]) == 10)
        far["tpn"] = 1234.5
    return rows


def _texts(fig, renderer):
    """The visible, non-empty text artists of ``fig`` with their window extents and, for tick labels, their axes."""
    from matplotlib.text import Text

    ticks = {}
    for k, ax in enumerate(fig.axes):
        for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
            ticks[id(label)] = k
    found = []
    for t in fig.findobj(Text):
        if t.get_visible() and t.get_text().strip():
            found.append((t, t.get_window_extent(renderer), ticks.get(id(t))))
    return found


def _draw(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


@pytest.mark.parametrize("estimates", [False, True], ids=["plain", "with-estimates-and-cut"])
def test_figure5_texts_do_not_overlap(synthetic, tmp_path, estimates):
    """Every pair of visible texts (titles, suptitle, y label, tick labels, NaN notes, footer) has disjoint window
    extents, except two tick labels of the same axes (rotated labels' boxes legitimately touch), and every text
    lies inside the figure."""
    rows = _crowded_rows(synthetic, estimates)
    run = synthetic.results_dir(tmp_path / "run", examples=0)
    table = ResultsTable.from_rows(rows)
    source = figure5_source(run, len(table.image_ids)) + ", read from /home/user/" + "a_long_folder_name/" * 6
    fig = figure5_figure(table, source)
    texts = _texts(fig, _draw(fig))
    drawn = [t.get_text() for t, _, _ in texts]
    notes = [text for text in drawn if text.startswith("NaN rows dropped")]
    assert len(notes) == 4  # every panel: LRP's synthetic NaN row (img_00) is NaN in every criterion
    assert fig.get_suptitle() in drawn and fig.get_supxlabel() in drawn and "score (lower is better)" in drawn
    assert all(ax.get_title() in drawn for ax in fig.axes)
    assert sum(axis is not None for _, _, axis in texts) >= 4 * 8 + 4 * 4  # 8 methods and >= 4 y ticks per panel
    assert ("value(s) above the axis" in fig.axes[2].get_title()) == estimates  # Random's far TPN is cut
    figure_box = fig.bbox
    for t, box, _ in texts:
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1, f"{t.get_text()!r} leaves the figure: {box}"
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1, f"{t.get_text()!r} leaves the figure: {box}"
    overlaps = [(a.get_text(), b.get_text()) for (a, box_a, axa), (b, box_b, axb) in itertools.combinations(texts, 2)
                if not (axa is not None and axa == axb) and box_a.overlaps(box_b)]
    assert overlaps == []


def test_figure5_nan_notes_count_every_dropped_row_of_their_panel(synthetic):
    """Each panel's note names each method with NaN rows once, with its count (wrapping changes no character
    but line breaks at the separators)."""
    from repro.figures.boxplots import NAN_NOTE_PREFIX

    table = ResultsTable.from_rows(_crowded_rows(synthetic, estimates=False))
    fig = figure5_figure(table)
    labels = [ax.get_xlabel() for ax in fig.axes]
    n_ord, s_ord, tpn, tps = (label.replace(",\n", ", ").replace(":\n", ": ") for label in labels)
    assert s_ord == NAN_NOTE_PREFIX + "LRP 1"  # the synthetic NaN row (img_00, LRP) is NaN in every criterion
    assert n_ord == NAN_NOTE_PREFIX + "IG 2, LRP 1, GB 2, GradCAM 2"
    # LRP's synthetic NaN row (img_00) is one of the 6 dropped for LRP, not an extra one
    assert tpn == NAN_NOTE_PREFIX + "SM 6, IG 6, SG 6, DeepLIFT 6, LRP 6, GB 6, GradCAM 6"
    assert tps == NAN_NOTE_PREFIX + "SM 12, SG 12, DeepLIFT 12, LRP 12, GradCAM 12"
    assert labels[2].count("\n") >= 1  # the long TPN note is wrapped


def test_text_width_is_what_the_canvas_draws():
    """The measured width (points) matches the window extent of the same text drawn on the Agg canvas within 1%."""
    from matplotlib.figure import Figure

    from repro.figures.drawing import text_width

    text = "NaN rows dropped: LRP 1"
    assert text_width(text, 7) == pytest.approx(88.93, abs=0.01)  # DejaVu Sans, shipped with matplotlib
    assert text_width("a\n" + text, 7) == text_width(text, 7)  # the widest line
    fig = Figure(figsize=(4, 1), dpi=100)
    drawn = fig.text(0.1, 0.5, text, fontsize=7)
    renderer = _draw(fig)
    assert drawn.get_window_extent(renderer).width * 72 / 100 == pytest.approx(text_width(text, 7), rel=0.01)


def test_fill_to_width_breaks_only_after_separators_within_the_width():
    """Greedy wrapping by measured width: each line, with the comma a break leaves, fits (unless a single item is
    wider); items are never split; joining the lines back gives the text."""
    from repro.figures.drawing import fill_to_width, text_width

    items = [f"M{i} {i}" for i in range(12)]
    width = text_width("M0 0, M1 1, M2 2,", 7) + 0.01
    assert width == pytest.approx(62.65, abs=0.01)
    text = fill_to_width(items, width, 7, sep=", ")
    lines = text.split("\n")
    assert lines == ["M0 0, M1 1, M2 2,", "M3 3, M4 4, M5 5,", "M6 6, M7 7, M8 8,", "M9 9, M10 10,", "M11 11"]
    assert all(text_width(line, 7) <= width for line in lines)
    assert text.replace(",\n", ", ") == ", ".join(items)
    assert fill_to_width("one two three".split(" "), text_width("one two", 7), 7) == "one two\nthree"
    assert fill_to_width(["a" * 50, "b"], 10, 7) == "a" * 50 + "\nb"  # a too-wide item keeps its own line
    assert fill_to_width([], 10, 7) == ""
