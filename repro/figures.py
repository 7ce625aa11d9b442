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
            title gives how many points are cut and the maximum)
Figure 6    the winner of each criterion on one image: its map over the input, titled "Winner of N-Ord: X"
Figure 7    example images x methods, the TPN winner marked with a red check and the TPS winner with a blue one
==========  ============================================================================================

Winners (:func:`winners`): lowest N-Ord, highest S-Ord, lowest TPN, lowest TPS among the attribution methods
(the Random baseline excluded), NaN values skipped, ties to the earlier method in the paper's order: the one rule
of :func:`repro.vocabulary.best_method`.

Display only: colour limits of a map are its 99.5th percentile of ``|score|`` (so a few extreme pixels do not
wash out the panel); the stored maps are never normalised.

Usage::

    paths = draw_all("results/embedded")        # OUT/figures/fig2_attributions.png, .pdf, ...

Reference: Wang et al., "Interpreting Interpretations: Organizing Attribution Methods by Criteria", Figures 2-7.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from repro.criteria.scores import area_between
from repro.errors import ReproError
from repro.io import atomic_write_bytes, load_array
from repro.results import Example, ResultsTable, example_paths, load_example, read_results
from repro.vocabulary import (
    BASELINES, CRITERIA, CRITERION_LABELS, WINNER_CRITERIA, best_method, display_name, ordered_methods,
)

FIGURE_NAMES = ("fig2_attributions", "fig3_toy_aopc", "fig4_proportionality", "fig5_boxplots", "fig6_winners",
                "fig7_winner_grid")
NONNEGATIVE_STYLE = ("gradcam", "random")
"""Methods drawn as a heatmap over the input in Figure 2 (their scores are >= 0)."""


# --------------------------------------------------------------------------------------------- data

def winners(table: ResultsTable, image_id: str, exclude: Sequence[str] = BASELINES) -> dict[str, str | None]:
    """The winning method of each criterion on one image (:func:`repro.vocabulary.best_method`).

    Returns:
        ``{"n_ord": m, "s_ord": m, "tpn": m, "tps": m}``; ``None`` where no method has a finite value.
    """
    rows = table.filter(image_id=image_id)
    return {criterion: best_method(dict(zip(rows.column("method"), rows.column(criterion))), criterion, exclude)
            for criterion in WINNER_CRITERIA}


# --------------------------------------------------------------------------------------------- drawing helpers

def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100, layout="constrained")


DPI = 150
"""Resolution of the PNG files."""


def save(fig, out_dir: str | Path, name: str, dpi: int = DPI) -> list[Path]:
    """Save ``fig`` as ``name.png`` (``dpi``) and ``name.pdf`` atomically, with no timestamps in the files."""
    out_dir = Path(out_dir)
    paths = []
    for ext, metadata in (("png", {"Software": None}), ("pdf", {"CreationDate": None, "Producer": None})):
        buffer = io.BytesIO()
        fig.savefig(buffer, format=ext, dpi=dpi, metadata=metadata)
        paths.append(atomic_write_bytes(out_dir / f"{name}.{ext}", buffer.getvalue()))
    return paths


def _limit(scores: np.ndarray) -> float:
    a = np.abs(scores[np.isfinite(scores)])
    if a.size == 0:
        return 1.0
    v = float(np.percentile(a, 99.5))
    return v if v > 0 else (float(a.max()) or 1.0)


def _gray(image: np.ndarray) -> np.ndarray:
    return (np.asarray(image, np.float64) @ np.array([0.299, 0.587, 0.114])) / 255.0


def _show_image(ax, image: np.ndarray) -> None:
    ax.imshow(np.clip(np.asarray(image) / 255.0, 0, 1), interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _show_signed(ax, scores: np.ndarray):
    lim = _limit(scores)
    im = ax.imshow(scores, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _show_overlay(ax, image: np.ndarray, scores: np.ndarray, cmap: str = "jet"):
    """The positive part of ``scores`` as a heatmap over the dimmed grayscale input."""
    from matplotlib import colormaps

    ax.imshow(_gray(image), cmap="gray", vmin=0, vmax=1, interpolation="nearest", alpha=0.6)
    lim = _limit(np.clip(scores, 0, None))
    level = np.clip(scores / lim, 0, 1)
    rgba = colormaps[cmap](level)
    rgba[..., 3] = 0.85 * level
    ax.imshow(rgba, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _row_of(table: ResultsTable | None, image_id: str, method: str) -> dict | None:
    if table is None:
        return None
    rows = table.filter(image_id=image_id, method=method).rows()
    return rows[0] if rows else None


def _input_title(ex: Example, table: ResultsTable | None) -> str:
    title = f"Input: {ex.class_name}" if ex.class_name else "Input"
    y0 = None
    if table is not None:
        rows = table.filter(image_id=ex.image_id)
        if len(rows):
            y0 = float(rows.column("y0")[0])
    return title + (f"\n(class {ex.target}, y0 = {y0:.3g})" if y0 is not None else f"\n(class {ex.target})")


# --------------------------------------------------------------------------------------------- figures

def figure2(ex: Example, out_dir: str | Path, table: ResultsTable | None = None,
            methods: Sequence[str] | None = None, dpi: int = DPI) -> list[Path]:
    """Figure 2: the input (a) and each method's map (b)-(i) for one image."""
    methods = [m for m in (methods or ordered_methods(ex.maps))]
    n = len(methods) + 1
    cols = min(n, 5)
    rows = -(-n // cols)
    fig = _figure(2.3 * cols, 2.5 * rows)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    _show_image(axes[0], ex.image)
    axes[0].set_title("(a) " + _input_title(ex, table), fontsize=9)
    for i, m in enumerate(methods, start=1):
        ax, scores = axes[i], ex.maps[m]
        if m in NONNEGATIVE_STYLE and np.nanmin(scores) >= 0:
            _show_overlay(ax, ex.image, scores)
        else:
            im = _show_signed(ax, scores)
            fig.colorbar(im, ax=ax, shrink=0.7, ticks=[])
        ax.set_title(f"({chr(ord('a') + i)}) {display_name(m)}", fontsize=10)
    for ax in axes[n:]:
        ax.set_axis_off()
    fig.suptitle(f"Figure 2: attribution maps of {ex.image_id} (red > 0 > blue; per-pixel score = channel sum)",
                 fontsize=10)
    return save(fig, out_dir, "fig2_attributions", dpi)


def figure3(out_dir: str | Path, dpi: int = DPI) -> list[Path]:
    """Figure 3: Example 1's deletion curves over the full orderings of Table 1, and their running AOPC."""
    from repro.claims.toys import EXAMPLE1_TABLE1, aopc, example1_deletion_curves

    curves = example1_deletion_curves()
    fig = _figure(9.0, 3.6)
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
    return save(fig, out_dir, "fig3_toy_aopc", dpi)


def _frac(v: float) -> str:
    from fractions import Fraction

    return str(Fraction(v).limit_denominator(12))


def _union_area(top: tuple[np.ndarray, np.ndarray], bottom: tuple[np.ndarray, np.ndarray]):
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
    fig = _figure(2.1 * cols + 0.6, 4.6)
    axes = np.asarray(fig.subplots(2, cols, sharex=True, sharey="row", squeeze=False))
    for j, m in enumerate(methods):
        row = _row_of(table, ex.image_id, m)
        for i, (crit, label) in enumerate((("tpn", "TPN: removing"), ("tps", "TPS: adding"))):
            ax = axes[i, j]
            curves = ex.curves[m]
            top, bottom = curves.get(f"{crit}_top"), curves.get(f"{crit}_bottom")
            if top is None or bottom is None or len(top[0]) == 0:
                ax.text(0.5, 0.5, "no curve", ha="center", va="center", transform=ax.transAxes)
                continue
            grid, yt, yb, area = _union_area(top, bottom)
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


def figure5(table: ResultsTable, out_dir: str | Path, dpi: int = DPI) -> list[Path]:
    """Figure 5: boxplots of N-Ord, 1 - S-Ord, TPN, TPS per method over all images (NaN rows dropped)."""
    methods = table.methods
    fig = _figure(13.0, 3.9)
    axes = fig.subplots(1, len(CRITERIA))
    for ax, criterion in zip(axes, CRITERIA):
        data, dropped = [], []
        for m in methods:
            v = np.asarray(table.filter(method=m).column(criterion), dtype=np.float64)
            data.append(v[np.isfinite(v)])
            dropped.append(int((~np.isfinite(v)).sum()))
        positions = np.arange(1, len(methods) + 1)
        keep = [i for i, d in enumerate(data) if d.size]
        ax.boxplot([data[i] for i in keep], positions=positions[keep], widths=0.6, showfliers=True,
                   flierprops={"markersize": 2, "alpha": 0.4}, medianprops={"color": "tab:red"})
        ax.set_xticks(positions, [display_name(m) for m in methods], rotation=45, fontsize=8, ha="right",
                      rotation_mode="anchor")
        nan_note = ", ".join(f"{display_name(m)} {d}" for m, d in zip(methods, dropped) if d)
        if nan_note:
            ax.set_xlabel(f"NaN rows dropped: {nan_note}", fontsize=7)
        ax.set_xlim(0.4, len(methods) + 0.6)
        top = _axis_top([data[i] for i in keep])
        title = CRITERION_LABELS[criterion]
        if top is not None:
            above = sum(int((d > top).sum()) for d in data)
            vmax = max(float(d.max()) for d in data if d.size)
            low = min(float(d.min()) for d in data if d.size)
            ax.set_ylim(low - 0.05 * (top - low), top)
            title += f"\n({above} outlier(s) above the axis, max {vmax:.3g})"
        ax.set_title(title, fontsize=11 if top is None else 9)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score (lower is better)")
    fig.suptitle(f"Figure 5: criteria over {len(table.image_ids)} images (1 - S-Ord so that lower is better "
                 "everywhere)", fontsize=10)
    return save(fig, out_dir, "fig5_boxplots", dpi)


def _axis_top(data: Sequence[np.ndarray], factor: float = 5.0) -> float | None:
    """An upper axis limit when a few outliers would squash the boxes (e.g. TPN divided by a tiny penalty r):
    the highest upper whisker (the largest value <= q3 + 1.5 IQR) plus 10%, if the maximum exceeds ``factor``
    times that whisker range above the lowest value; ``None`` (automatic limits) otherwise."""
    if not data:
        return None
    whiskers = []
    for d in data:
        q1, q3 = np.quantile(d, [0.25, 0.75])
        whiskers.append(float(d[d <= q3 + 1.5 * (q3 - q1)].max()))  # matplotlib's upper whisker
    low = min(float(d.min()) for d in data)
    high = max(whiskers)
    vmax = max(float(d.max()) for d in data)
    span = max(high - low, 1e-12)
    if vmax - low <= factor * span:
        return None
    return high + 0.1 * span


def figure6(ex: Example, table: ResultsTable, out_dir: str | Path, dpi: int = DPI) -> list[Path]:
    """Figure 6: the input and the map of the winner of each criterion over it."""
    win = winners(table, ex.image_id)
    fig = _figure(12.0, 3.0)
    axes = fig.subplots(1, 5)
    _show_image(axes[0], ex.image)
    axes[0].set_title(_input_title(ex, table), fontsize=9)
    for ax, (criterion, m) in zip(axes[1:], win.items()):
        label = CRITERION_LABELS[criterion]
        if m is None or m not in ex.maps:
            ax.set_axis_off()
            ax.set_title(f"Winner of {label}: none", fontsize=10)
            continue
        _show_overlay(ax, ex.image, ex.maps[m])
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
    fig = _figure(1.7 * cols, 1.8 * rows + 0.5)
    axes = np.asarray(fig.subplots(rows, cols, squeeze=False))
    for r, ex in enumerate(examples):
        win = winners(table, ex.image_id)
        _show_image(axes[r, 0], ex.image)
        axes[r, 0].set_ylabel(ex.class_name or ex.image_id, fontsize=8)
        for c, m in enumerate(methods, start=1):
            ax = axes[r, c]
            if m not in ex.maps:
                ax.set_axis_off()
                continue
            _show_overlay(ax, ex.image, ex.maps[m])
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


def draw_all(results_dir: str | Path, max_grid_images: int = 6, toy: bool = True, dpi: int = DPI) -> list[Path]:
    """Draw every figure into ``results_dir/figures`` and return the written paths (PNG and PDF of each).

    Figures 2, 4, 6 use the first example image (in the table's order); Figure 7 up to ``max_grid_images``.
    ``toy=False`` skips Figure 3 (it runs the criteria engine, so it imports TensorFlow). ``dpi``: PNG resolution.
    Without example files, Figures 2, 4, 6 and 7 are skipped with a message on stderr.

    Raises:
        ReproError: missing or malformed ``results.csv``.
    """
    results_dir = Path(results_dir)
    table = read_results(results_dir / "results.csv")
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
    paths += figure5(table, out, dpi=dpi)
    if examples:
        paths += figure6(examples[0], table, out, dpi=dpi)
        paths += figure7(examples[:max_grid_images], table, out, dpi=dpi)
    return paths
