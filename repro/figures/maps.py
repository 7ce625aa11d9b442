"""Figures 2, 6 and 7: attribution maps over the input, and the winners of the criteria on an image.

* Figure 2: the input and every method's map of one image; signed maps on a diverging colormap centred at 0,
  Grad-CAM and Random (non-negative, :data:`NONNEGATIVE_STYLE`) as a heatmap over the input, as the paper does for
  Grad-CAM;
* Figure 6: the winner of each criterion on one image, its map over the input;
* Figure 7: example images x methods, the TPN winner marked with a red check and the TPS winner with a blue one.

Winners (:func:`winners`) follow the one rule :func:`repro.vocabulary.best_method`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from repro.errors import ReproError
from repro.figures.drawing import DPI, input_title, new_figure, save, show_image, show_overlay, show_signed
from repro.results import Example, ResultsTable
from repro.vocabulary import BASELINES, CRITERION_LABELS, WINNER_CRITERIA, best_method, display_name, ordered_methods

NONNEGATIVE_STYLE = ("gradcam", "random")
"""Methods drawn as a heatmap over the input in Figure 2 (their scores are >= 0)."""


def winners(table: ResultsTable, image_id: str, exclude: Sequence[str] = BASELINES) -> dict[str, str | None]:
    """The winning method of each criterion on one image (:func:`repro.vocabulary.best_method`).

    Returns:
        ``{"n_ord": m, "s_ord": m, "tpn": m, "tps": m}``; ``None`` where no method has a finite value.
    """
    rows = table.filter(image_id=image_id)
    return {criterion: best_method(dict(zip(rows.column("method"), rows.column(criterion))), criterion, exclude)
            for criterion in WINNER_CRITERIA}


def figure2(ex: Example, out_dir: str | Path, table: ResultsTable | None = None,
            methods: Sequence[str] | None = None, dpi: int = DPI) -> list[Path]:
    """Figure 2: the input (a) and each method's map (b)-(i) for one image."""
    methods = [m for m in (methods or ordered_methods(ex.maps))]
    n = len(methods) + 1
    cols = min(n, 5)
    rows = -(-n // cols)
    fig = new_figure(2.3 * cols, 2.5 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    show_image(axes[0], ex.image)
    axes[0].set_title("(a) " + input_title(ex, table), fontsize=9)
    for i, m in enumerate(methods, start=1):
        ax, scores = axes[i], ex.maps[m]
        if m in NONNEGATIVE_STYLE and np.nanmin(scores) >= 0:
            show_overlay(ax, ex.image, scores)
        else:
            im = show_signed(ax, scores)
            fig.colorbar(im, ax=ax, shrink=0.7, ticks=[])
        ax.set_title(f"({chr(ord('a') + i)}) {display_name(m)}", fontsize=10)
    for ax in axes[n:]:
        ax.set_axis_off()
    fig.suptitle(f"Figure 2: attribution maps of {ex.image_id} (red > 0 > blue; per-pixel score = channel sum)",
                 fontsize=10)
    return save(fig, out_dir, "fig2_attributions", dpi)


def figure6(ex: Example, table: ResultsTable, out_dir: str | Path, dpi: int = DPI) -> list[Path]:
    """Figure 6: the input and the map of the winner of each criterion over it."""
    win = winners(table, ex.image_id)
    fig = new_figure(12.0, 3.0)
    axes = fig.subplots(1, 5)
    show_image(axes[0], ex.image)
    axes[0].set_title(input_title(ex, table), fontsize=9)
    for ax, (criterion, m) in zip(axes[1:], win.items()):
        label = CRITERION_LABELS[criterion]
        if m is None or m not in ex.maps:
            ax.set_axis_off()
            ax.set_title(f"Winner of {label}: none", fontsize=10)
            continue
        show_overlay(ax, ex.image, ex.maps[m])
        ax.set_title(f"Winner of {label}: {display_name(m)}", fontsize=10)
    fig.suptitle(f"Figure 6: the winner of each criterion on {ex.image_id} (positive scores over the input)",
                 fontsize=10)
    return save(fig, out_dir, "fig6_winners", dpi)


def figure7(examples: Sequence[Example], table: ResultsTable, out_dir: str | Path,
            methods: Sequence[str] | None = None, dpi: int = DPI) -> list[Path]:
    """Figure 7: images x methods; red check = TPN winner, blue check = TPS winner of that image."""
    if not examples:
        raise ReproError("figure 7 needs at least one example image")
    methods = list(methods or [m for m in ordered_methods(examples[0].maps) if m not in BASELINES])
    rows, cols = len(examples), len(methods) + 1
    fig = new_figure(1.7 * cols, 1.8 * rows + 0.5)
    axes = np.asarray(fig.subplots(rows, cols, squeeze=False))
    for r, ex in enumerate(examples):
        win = winners(table, ex.image_id)
        show_image(axes[r, 0], ex.image)
        axes[r, 0].set_ylabel(ex.class_name or ex.image_id, fontsize=8)
        for c, m in enumerate(methods, start=1):
            ax = axes[r, c]
            if m not in ex.maps:
                ax.set_axis_off()
                continue
            show_overlay(ax, ex.image, ex.maps[m])
            marks = [(color, crit) for crit, color in (("tpn", "red"), ("tps", "blue")) if win.get(crit) == m]
            for k, (color, crit) in enumerate(marks):
                ax.text(0.04 + 0.3 * k, 0.96, "\u2713", color=color, fontsize=16, fontweight="bold", ha="left",
                        va="top", transform=ax.transAxes,
                        bbox={"boxstyle": "round,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.8})
            if r == 0:
                ax.set_title(display_name(m), fontsize=10)
    axes[0, 0].set_title("Input", fontsize=10)
    fig.suptitle("Figure 7: red check = winner of TPN, blue check = winner of TPS (per image)", fontsize=10)
    return save(fig, out_dir, "fig7_winner_grid", dpi)
