"""Figures 3 and 4: model-output curves.

* Figure 3: Example 1, the model output (dashed) and the running AOPC (solid) while removing the features of
  x = (1, 1, 1) from M = max(x1, x2) along the full orderings of Table 1 (A1 = A2 = (1, 1, 1, 0),
  A3 = (1, 1, 0, 0)), computed through the criteria engine by :mod:`repro.claims.toys`. The paper's caption says
  "A2 and A3 are overlapping with each other in this exmaple" (L245-246); the curves computed from Table 1 overlap
  for A1 and A2, as the text says (L248-253), so the figure carries a note (:data:`FIGURE3_CAPTION_NOTE`) that the
  caption should read A1 and A2;
* Figure 4: TPN and TPS curves of one image for each method including Random: top-first vs bottom-first against
  the share k of positive attribution, the area between them shaded (:func:`union_area`) and reported divided by
  y0, before the penalties r and r' (as the paper's caption says).
"""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from repro.claims.toys import EXAMPLE1_TABLE1, aopc, example1_deletion_curves
from repro.criteria.scores import area_between
from repro.figures.drawing import DPI, new_figure, row_of, save
from repro.results import Example, ResultsTable
from repro.vocabulary import display_name, ordered_methods

if TYPE_CHECKING:
    from matplotlib.figure import Figure


FIGURE3_CAPTION_NOTE = (
    "Note: the paper's caption says \"A2 and A3 are overlapping\"; it should read A1 and A2. The curves computed "
    "from Table 1 are A1 = A2 = (1, 1, 1, 0) and A3 = (1, 1, 0, 0), as the text says (\"A2 and A1 are considered "
    "as showing same level of relativity\").")
"""The note drawn under Figure 3 on its caption's "A2 and A3"."""


def figure3(out_dir: str | Path, dpi: int = DPI) -> list[Path]:
    """Figure 3: Example 1's deletion curves over the full orderings of Table 1, and their running AOPC."""
    return save(figure3_figure(), out_dir, "fig3_toy_aopc", dpi)


def figure3_figure() -> "Figure":
    """The Figure 3 drawing (see :func:`figure3`), with :data:`FIGURE3_CAPTION_NOTE` under the panels."""
    curves = example1_deletion_curves()
    fig = new_figure(9.0, 4.0)
    ax_out, ax_aopc = fig.subplots(1, 2)
    styles = {"A1": ("tab:blue", "o", 9), "A2": ("tab:orange", "s", 5), "A3": ("tab:green", "^", 7)}
    for name, (m, y) in curves.items():
        color, marker, size = styles.get(name, ("k", "o", 6))
        label = f"{name}: s = ({', '.join(_frac(v) for v in EXAMPLE1_TABLE1[name])})"
        ax_out.plot(m, y, "--", color=color, marker=marker, markersize=size, label=label, mfc="none" if
                    name == "A1" else color)
        ax_aopc.plot(m, aopc(y), "-", color=color, marker=marker, markersize=size, label=name,
                     mfc="none" if name == "A1" else color)
    ax_out.set(title="model output M(x) = max(x1, x2) (dashed)", xlabel="features set to 0 (full ordering)",
               ylabel="output", ylim=(-0.1, 1.15), xticks=[0, 1, 2, 3])
    ax_aopc.set(title="AOPC after each step (solid)", xlabel="features set to 0", ylabel="AOPC",
                ylim=(-0.05, 0.6), xticks=[0, 1, 2, 3])
    ax_out.legend(fontsize=8, loc="lower left")
    ax_aopc.legend(fontsize=8, loc="upper left")
    ax_aopc.annotate("A1 and A2 overlap", xy=(3, 0.25), xytext=(1.9, 0.1), fontsize=8,
                     arrowprops={"arrowstyle": "->", "lw": 0.8})
    fig.suptitle("Figure 3: Example 1, x = (1, 1, 1), zero perturbation: A1 = A2 = (1, 1, 1, 0), "
                 "A3 = (1, 1, 0, 0)", fontsize=10)
    fig.supxlabel(textwrap.fill(FIGURE3_CAPTION_NOTE, 130), fontsize=7.5, color="0.25")
    return fig


def _frac(v: float) -> str:
    return str(Fraction(v).limit_denominator(12))


def union_area(top: tuple[np.ndarray, np.ndarray],
               bottom: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Both curves on the union of their breakpoints, for ``fill_between``, and the exact area between them
    (:func:`repro.criteria.scores.area_between`, which also handles jumps at a repeated x).

    Returns:
        ``(grid, y_top, y_bottom, area)``.
    """
    grid = np.union1d(top[0], bottom[0])
    yt, yb = np.interp(grid, *top), np.interp(grid, *bottom)
    return grid, yt, yb, area_between(*top, *bottom)


def figure4(ex: Example, out_dir: str | Path, table: ResultsTable | None = None,
            methods: Sequence[str] | None = None, dpi: int = DPI) -> list[Path]:
    """Figure 4: TPN (removing) and TPS (adding) curves, top-first vs bottom-first, for each method."""
    methods = [m for m in (methods or ordered_methods(ex.curves)) if m in ex.curves]
    cols = len(methods)
    fig = new_figure(2.1 * cols + 0.6, 4.6)
    axes = np.asarray(fig.subplots(2, cols, sharex=True, sharey="row", squeeze=False))
    for j, m in enumerate(methods):
        row = row_of(table, ex.image_id, m)
        for i, (crit, label) in enumerate((("tpn", "TPN: removing"), ("tps", "TPS: adding"))):
            ax = axes[i, j]
            curves = ex.curves[m]
            top, bottom = curves.get(f"{crit}_top"), curves.get(f"{crit}_bottom")
            if top is None or bottom is None or len(top[0]) == 0:
                ax.text(0.5, 0.5, "no curve", ha="center", va="center", transform=ax.transAxes)
                continue
            grid, yt, yb, area = union_area(top, bottom)
            ax.fill_between(grid, yt, yb, color="tab:purple", alpha=0.3, lw=0)
            ax.plot(*top, "-", color="tab:red", lw=1.3, label="highest first")
            ax.plot(*bottom, "--", color="tab:blue", lw=1.3, label="lowest first")
            y0 = row["y0"] if row else (float(top[1][0]) if crit == "tpn" else float(bottom[1][-1]))
            text = f"area/y0 {area / y0:.3g}" if y0 > 0 else f"area {area:.3g}"
            if row is not None:
                value = f"{row[crit]:.3g}" if np.isfinite(row[crit]) else "NaN"
                text = f"{crit.upper()} {value}, {text}"
            ax.set_title((f"{display_name(m)}\n" if i == 0 else "") + text, fontsize=8)
            if j == 0:
                ax.set_ylabel(f"{label}\nclass score", fontsize=9)
            if i == 1:
                ax.set_xlabel("share k of positive attribution", fontsize=8)
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Figure 4: TPN and TPS curves of {ex.image_id} ({ex.class_name}); shaded: the area between the "
                 "curves, before the penalties r and r'", fontsize=10)
    return save(fig, out_dir, "fig4_proportionality", dpi)
