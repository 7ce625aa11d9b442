"""Figure 5: boxplots of N-Ord, 1 - S-Ord, TPN and TPS per method over all images.

NaN rows are dropped and counted under each panel. When a few outliers lie far above every whisker (e.g. TPN
divided by a tiny penalty r), the axis stops above the whiskers (:func:`axis_top`) and the panel title gives how
many points are cut and the maximum. The axis is scaled to the attribution methods: values of the Random baseline
above it are cut and counted the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from repro.figures.drawing import DPI, new_figure, save
from repro.results import ResultsTable
from repro.vocabulary import BASELINES, CRITERIA, CRITERION_LABELS, LOWER_IS_BETTER, display_name


def figure5(table: ResultsTable, out_dir: str | Path, dpi: int = DPI) -> list[Path]:
    """Figure 5: boxplots of N-Ord, 1 - S-Ord, TPN, TPS per method over all images (NaN rows dropped)."""
    methods = table.methods
    fig = new_figure(13.0, 3.9)
    axes = fig.subplots(1, len(CRITERIA))
    for ax, criterion in zip(axes, CRITERIA):
        data, dropped = [], []
        for m in methods:
            v = np.asarray(table.filter(method=m).column(criterion), dtype=np.float64)
            data.append(v[np.isfinite(v)])
            dropped.append(int((~np.isfinite(v)).sum()))
        positions = np.arange(1, len(methods) + 1)
        keep = [i for i, d in enumerate(data) if d.size]
        if keep:  # a criterion with no finite value (e.g. TPN when every y0 <= 0) is an empty panel
            ax.boxplot([data[i] for i in keep], positions=positions[keep], widths=0.6, showfliers=True,
                       flierprops={"markersize": 2, "alpha": 0.4}, medianprops={"color": "tab:red"})
        ax.set_xticks(positions, [display_name(m) for m in methods], rotation=45, fontsize=8, ha="right",
                      rotation_mode="anchor")
        nan_note = ", ".join(f"{display_name(m)} {d}" for m, d in zip(methods, dropped) if d)
        if nan_note:
            ax.set_xlabel(f"NaN rows dropped: {nan_note}", fontsize=7)
        ax.set_xlim(0.4, len(methods) + 0.6)
        # the axis is scaled to the attribution methods; a baseline far above them (Random's TPN divided by a
        # penalty r near 0 under the logit score) is cut like an outlier and counted in the title
        compared = [data[i] for i in keep if methods[i] not in BASELINES] or [data[i] for i in keep]
        top = axis_top([data[i] for i in keep], scale=compared)
        title = CRITERION_LABELS[criterion]
        if top is not None:
            above = sum(int((d > top).sum()) for d in data)
            vmax = max(float(d.max()) for d in data if d.size)
            low = min(float(d.min()) for d in data if d.size)
            ax.set_ylim(low - 0.05 * (top - low), top)
            title += f"\n({above} value(s) above the axis, max {vmax:.3g})"
        ax.set_title(title, fontsize=11 if top is None else 9)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score (lower is better)" if all(LOWER_IS_BETTER[c] for c in CRITERIA) else "score")
    fig.suptitle(f"Figure 5: criteria over {len(table.image_ids)} images (1 - S-Ord so that lower is better "
                 "everywhere)", fontsize=10)
    return save(fig, out_dir, "fig5_boxplots", dpi)


def axis_top(data: Sequence[np.ndarray], factor: float = 5.0,
             scale: Sequence[np.ndarray] | None = None) -> float | None:
    """An upper axis limit when a few values would squash the boxes (e.g. TPN divided by a tiny penalty r):
    the highest upper whisker (the largest value <= q3 + 1.5 IQR) of the ``scale`` boxes (default: all of
    ``data``) plus 10%, if the maximum of ``data`` exceeds ``factor`` times that whisker range above the lowest
    value; ``None`` (automatic limits) otherwise."""
    if not data:
        return None
    scale = data if scale is None else scale
    whiskers = []
    for d in scale:
        q1, q3 = np.quantile(d, [0.25, 0.75])
        whiskers.append(float(d[d <= q3 + 1.5 * (q3 - q1)].max()))  # matplotlib's upper whisker
    low = min(float(d.min()) for d in data)
    high = max(whiskers)
    vmax = max(float(d.max()) for d in data)
    span = max(high - low, 1e-12)
    if vmax - low <= factor * span:
        return None
    return high + 0.1 * span
