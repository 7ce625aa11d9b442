"""Drawing helpers shared by the figures: a pyplot-free figure, deterministic saving, the map styles, panel labels.

* :func:`new_figure`: a constrained-layout matplotlib ``Figure`` (no pyplot state);
* :func:`save`: ``name.png`` (``dpi``) and ``name.pdf`` written atomically without timestamps, so the same figure
  gives the same bytes;
* map styles: :func:`show_image` (the input), :func:`show_signed` (a signed map on a diverging colormap centred at
  0), :func:`show_overlay` (the positive part as a heatmap over the dimmed grayscale input). Colour limits are the
  99.5th percentile of ``|score|`` (:func:`color_limit`), for display only: the stored maps are never normalised;
* labels read from the results table: :func:`input_title`, :func:`row_of`;
* text wrapped to a width in points, measured in the figures' font (:func:`text_width`, :func:`fill_to_width`), so
  a note under or over a panel stays inside that panel's share of the figure and never runs into its neighbour's.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from repro.io import atomic_write_bytes
from repro.results import Example, ResultsTable

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

DPI = 150
"""Resolution of the PNG files."""


def new_figure(width: float, height: float) -> "Figure":
    """A ``width`` x ``height`` inch figure at 100 dpi with constrained layout."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


def save(fig: "Figure", out_dir: str | Path, name: str, dpi: int = DPI) -> list[Path]:
    """Save ``fig`` as ``name.png`` (``dpi``) and ``name.pdf`` atomically, with no timestamps in the files."""
    out_dir = Path(out_dir)
    paths = []
    for ext, metadata in (("png", {"Software": None}), ("pdf", {"CreationDate": None, "Producer": None})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, dpi=dpi, metadata=metadata)
        paths.append(atomic_write_bytes(out_dir / f"{name}.{ext}", buffer.getvalue()))
    return paths


def text_width(text: str, fontsize: float) -> float:
    """The width in points of the widest line of ``text`` at ``fontsize`` in matplotlib's default font, measured
    from the glyphs (no figure or renderer needed; within about 1% of what the Agg canvas draws)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=fontsize)
    return max((text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] if line else 0.0)
               for line in text.split("\n"))


def fill_to_width(items: Sequence[str], width: float, fontsize: float, sep: str = " ") -> str:
    """``items`` joined with ``sep``, broken greedily into lines at most ``width`` points wide at ``fontsize``
    (:func:`text_width`).

    A line break replaces the trailing whitespace of ``sep`` (``", "`` breaks as ``",\\n"``, ``" "`` as ``"\\n"``),
    so ``result.replace(sep.rstrip() + "\\n", sep)`` gives back ``sep.join(items)``. Items are never split: an item
    wider than ``width`` keeps a line of its own. No items give ``""``.
    """
    lines: list[str] = []
    for item in items:  # measured with the separator's end a break would leave, so that every line fits
        if lines and text_width(lines[-1] + sep + item + sep.rstrip(), fontsize) <= width:
            lines[-1] += sep + item
        else:
            lines.append(item)
    return (sep.rstrip() + "\n").join(lines)


def color_limit(scores: np.ndarray) -> float:
    """The colour limit of a map: the 99.5th percentile of the finite ``|scores|`` (their maximum if that is 0;
    1 for an all-zero or empty map)."""
    a = np.abs(scores[np.isfinite(scores)])
    if a.size == 0:
        return 1.0
    v = float(np.percentile(a, 99.5))
    return v if v > 0 else (float(a.max()) or 1.0)


def grayscale(image: np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` RGB in [0, 255] -> ``(H, W)`` luma (ITU-R 601 weights) in [0, 1]."""
    return (np.asarray(image, np.float64) @ np.array([0.299, 0.587, 0.114])) / 255.0


def _no_ticks(ax: "Axes") -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def show_image(ax: "Axes", image: np.ndarray) -> None:
    """The input image (RGB in [0, 255]) without ticks."""
    ax.imshow(np.clip(np.asarray(image) / 255.0, 0, 1), interpolation="nearest")
    _no_ticks(ax)


def show_signed(ax: "Axes", scores: np.ndarray) -> "AxesImage":
    """A signed map, red > 0 > blue, symmetric limits :func:`color_limit`; returns the image for a colorbar."""
    lim = color_limit(scores)
    im = ax.imshow(scores, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    _no_ticks(ax)
    return im


def show_overlay(ax: "Axes", image: np.ndarray, scores: np.ndarray, cmap: str = "jet") -> None:
    """The positive part of ``scores`` as a heatmap over the dimmed grayscale input."""
    from matplotlib import colormaps

    ax.imshow(grayscale(image), cmap="gray", vmin=0, vmax=1, interpolation="nearest", alpha=0.6)
    lim = color_limit(np.clip(scores, 0, None))
    level = np.clip(scores / lim, 0, 1)
    rgba = colormaps[cmap](level)
    rgba[..., 3] = 0.85 * level
    ax.imshow(rgba, interpolation="nearest")
    _no_ticks(ax)


def row_of(table: ResultsTable | None, image_id: str, method: str) -> dict[str, Any] | None:
    """The results row of (``image_id``, ``method``); ``None`` without a table or such a row."""
    if table is None:
        return None
    rows = table.filter(image_id=image_id, method=method).rows()
    return rows[0] if rows else None


def input_title(ex: Example, table: ResultsTable | None) -> str:
    """The input panel's title: ``Input: <class name>``, then the target class and the table's ``y0`` of the image."""
    title = f"Input: {ex.class_name}" if ex.class_name else "Input"
    y0 = None
    if table is not None:
        rows = table.filter(image_id=ex.image_id)
        if len(rows):
            y0 = float(rows.column("y0")[0])
    return title + (f"\n(class {ex.target}, y0 = {y0:.3g})" if y0 is not None else f"\n(class {ex.target})")
