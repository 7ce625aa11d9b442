"""Figures 2-7 of the paper from a results directory, as PNG and PDF (matplotlib, no pyplot state).

==========  ============================================================================================
Figure 2    the input and the eight attribution maps of one image (signed maps: diverging colormap centred
            at 0; Grad-CAM and Random, which are non-negative: a heatmap over the input, as the paper does
            for Grad-CAM)
Figure 3    Example 1: model output (dashed) and running AOPC (solid) while removing the features of
            x = (1, 1, 1) from M = max(x1, x2) along the full orderings of Table 1 (A1 = A2 = (1, 1, 1, 0),
            A3 = (1, 1, 0, 0)), computed through the criteria engine (:mod:`repro.claims.toys`)
Figure 4    TPN and TPS curves of one image for each method including Random: top-first vs bottom-first
            against the share k of positive attribution, the area between them shaded and reported divided by
            y0 (before the penalties r and r', as the paper's caption says)
Figure 5    boxplots of N-Ord, 1 - S-Ord, TPN and TPS per method over all images (NaN rows dropped and counted;
            when a few outliers lie far above every whisker, the axis stops above the whiskers and the panel
            title gives how many points are cut and the maximum; when the table has error estimates, the
            title ends with the largest sampling error estimate, or that it is below the plotted resolution);
            under the panels, the model and data of the run (its ``config.json``)
Figure 6    the winner of each criterion on one image: its map over the input, titled "Winner of N-Ord: X"
Figure 7    example images x methods, the TPN winner marked with a red check and the TPS winner with a blue one
==========  ============================================================================================

Winners (:func:`winners`): lowest N-Ord, highest S-Ord, lowest TPN, lowest TPS among the attribution methods
(the Random baseline excluded), NaN values skipped, ties to the earlier method in the paper's order: the one rule
of :func:`repro.vocabulary.best_method`.

Modules: :mod:`~repro.figures.maps` (Figures 2, 6, 7 and :func:`winners`), :mod:`~repro.figures.curves`
(Figures 3, 4), :mod:`~repro.figures.boxplots` (Figure 5), :mod:`~repro.figures.drawing` (the shared helpers:
figure, :func:`save`, map styles). Every name a caller needs is importable from :mod:`repro.figures`.

Display only: colour limits of a map are its 99.5th percentile of ``|score|`` (so a few extreme pixels do not
wash out the panel); the stored maps are never normalised.

Usage::

    paths = draw_all("results/embedded")        # OUT/figures/fig2_attributions.png, .pdf, ...

Reference: Wang et al., "Interpreting Interpretations: Organizing Attribution Methods by Criteria", Figures 2-7.
"""

from __future__ import annotations

import sys
from pathlib import Path

from repro.figures.boxplots import axis_top, figure5, figure5_figure, figure5_source, sampling_note
from repro.figures.curves import figure3, figure4, union_area
from repro.figures.drawing import DPI, save
from repro.figures.maps import NONNEGATIVE_STYLE, figure2, figure6, figure7, winners
from repro.results import example_paths, load_example, read_view, run_reading

FIGURE_NAMES = ("fig2_attributions", "fig3_toy_aopc", "fig4_proportionality", "fig5_boxplots", "fig6_winners",
                "fig7_winner_grid")
GRID_IMAGES = 6
"""Example images in Figure 7 by default."""

__all__ = [
    "DPI", "FIGURE_NAMES", "GRID_IMAGES", "NONNEGATIVE_STYLE", "axis_top", "draw_all", "figure2", "figure3",
    "figure4", "figure5", "figure5_figure", "figure5_source", "figure6", "figure7", "sampling_note", "save",
    "union_area", "winners",
]


def draw_all(results_dir: str | Path, max_grid_images: int = GRID_IMAGES, toy: bool = True,
             dpi: int = DPI, reading: dict[str, str] | None = None) -> list[Path]:
    """Draw every figure into ``results_dir/figures`` and return the written paths (PNG and PDF of each).

    Figures 2, 4, 6 use the first example image (in the table's order); Figure 7 up to ``max_grid_images``.
    ``toy=False`` skips Figure 3 (it runs the criteria engine, so it imports TensorFlow). ``dpi``: PNG resolution.
    Without example files, Figures 2, 4, 6 and 7 are skipped with a message on stderr.

    The table is read under the run's own reading (:func:`repro.results.read_view`). ``reading`` (e.g.
    ``{"score": "probability"}``) draws another reading's Figure 5 into ``figures/<setting>=<value>/``: the map
    figures show the run's own maps and curves, which example files hold for the own reading only.

    Raises:
        ReproError: missing or malformed ``results.csv``, or a reading the run did not compute.
    """
    results_dir = Path(results_dir)
    table, chosen = read_view(results_dir, **(reading or {}))
    own = run_reading(results_dir)
    source = figure5_source(results_dir, len(table.image_ids))
    if chosen != own:
        out = results_dir / "figures" / chosen.label(own).replace(", ", "_")
        return figure5(table, out, dpi=dpi, source=source)
    out = results_dir / "figures"
    paths: list[Path] = []
    examples = [load_example(p) for p in example_paths(results_dir, table)]
    if examples:
        first = examples[0]
        paths += figure2(first, out, table, dpi=dpi)
    else:
        print(f"[repro] {results_dir / 'examples'}: no example files; skipping Figures 2, 4, 6, 7", file=sys.stderr)
    if toy:
        paths += figure3(out, dpi=dpi)
    if examples:
        paths += figure4(examples[0], out, table, dpi=dpi)
    paths += figure5(table, out, dpi=dpi, source=source)
    if examples:
        paths += figure6(examples[0], table, out, dpi=dpi)
        paths += figure7(examples[:max_grid_images], table, out, dpi=dpi)
    return paths
