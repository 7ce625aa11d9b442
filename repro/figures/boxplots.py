"""Figure 5: boxplots of N-Ord, 1 - S-Ord, TPN and TPS per method over all images.

NaN rows are dropped and counted under each panel: one note per panel, ``NaN rows dropped: SM 6, IG 6, ...``
(:data:`NAN_NOTE_PREFIX`), wrapped after a method's count to the panel's share of the figure width
(:data:`PANEL_TEXT_SHARE`), so that the notes of many methods in neighbouring panels never run into each other.
When a few outliers lie far above every whisker (e.g. TPN divided by a tiny penalty r), the axis stops above the
whiskers (:func:`axis_top`) and the panel title gives how many points are cut and the maximum. The axis is scaled
to the attribution methods: values of the Random baseline above it are cut and counted the same way.

When the table holds the error estimates (:data:`repro.results.ESTIMATE_COLUMNS`), each panel's title ends with how
far its drawn values may be from exact mode (:func:`sampling_note`): the largest ``*_err`` estimate of that
criterion over the values drawn inside the axis, said to be below the plotted resolution when it is below
:data:`RESOLUTION` of the axis span. The note states an estimate, not a bound. Each title line is wrapped at its
spaces to the panel's share of the width like the NaN notes.

Under the panels, one line names the model and data the boxes rest on (:func:`figure5_source`: the run's
``config.json`` read through :func:`repro.claims.provenance.provenance`, TensorFlow-free), so a figure shown apart
from its run still says which network, weights and images it describes; it is wrapped at its spaces to
:data:`FOOTER_SHARE` of the figure width. Widths are measured in the figure's font
(:func:`repro.figures.drawing.fill_to_width`), not counted in characters.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from repro.figures.drawing import DPI, fill_to_width, new_figure, save
from repro.results import ResultsTable, estimate_columns, has_estimates
from repro.vocabulary import BASELINES, CRITERIA, CRITERION_LABELS, LOWER_IS_BETTER, display_name

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

RESOLUTION = 1e-3
"""A sampling error below this share of a panel's axis span is below the plotted resolution."""

SOURCE_PREFIX = "Model and data: "
"""How the line under Figure 5's panels begins (followed by :func:`figure5_source`)."""

NAN_NOTE_PREFIX = "NaN rows dropped: "
"""How a panel's note of its dropped NaN rows begins (followed by ``<method> <count>`` per method, ``", "``-joined)."""

PANEL_TEXT_SHARE = 0.7
"""A panel's note and title lines are at most this share of (figure width / number of panels) wide: a panel's axes
take about 0.75 of that after constrained layout, and text centred on a panel then stays clear of its neighbours'
and inside the figure."""

FOOTER_SHARE = 0.9
"""The model-and-data line under the panels is at most this share of the figure width wide."""

NOTE_FONTSIZE = 7.0
"""Font size of the NaN notes under the panels."""

FOOTER_FONTSIZE = 7.5
"""Font size of the model-and-data line."""


def figure5_source(results_dir: str | Path, num_images: int) -> str:
    """The model and data of the run in ``results_dir``, one line: :meth:`repro.claims.provenance.Provenance.short`
    of its ``config.json`` over ``num_images`` images (TensorFlow-free), or, without a ``config.json``, that they
    are not recorded."""
    from repro.claims.provenance import provenance
    from repro.io import read_json

    path = Path(results_dir) / "config.json"
    if not path.is_file():
        return f"not recorded (no config.json in {results_dir}); {num_images} images"
    return provenance(read_json(path), num_images).short()


def figure5(table: ResultsTable, out_dir: str | Path, dpi: int = DPI, source: str | None = None) -> list[Path]:
    """Figure 5: boxplots of N-Ord, 1 - S-Ord, TPN, TPS per method over all images (NaN rows dropped), saved as
    ``fig5_boxplots.png`` / ``.pdf`` (:func:`figure5_figure`; ``source`` as there)."""
    return save(figure5_figure(table, source), out_dir, "fig5_boxplots", dpi)


def figure5_figure(table: ResultsTable, source: str | None = None) -> "Figure":
    """The Figure 5 figure (see the module docstring), not saved.

    Args:
        table: the results, one row per (image, method).
        source: the model and data the table rests on (:func:`figure5_source`), written under the panels after
            :data:`SOURCE_PREFIX`; ``None`` writes no such line.
    """
    methods = table.methods
    fig = new_figure(13.0, 3.9)
    axes = fig.subplots(1, len(CRITERIA))
    panel_width = PANEL_TEXT_SHARE * fig.get_figwidth() * 72.0 / len(CRITERIA)  # points
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
        ax.set_xlabel(nan_note(methods, dropped, panel_width), fontsize=NOTE_FONTSIZE)
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
        note = panel_sampling_note(ax, table, criterion) if keep else None
        if note:
            title += f"\n{note}"
        fontsize = 11 if title.count("\n") == 0 else 9
        ax.set_title("\n".join(fill_to_width(line.split(" "), panel_width, fontsize) for line in title.split("\n")),
                     fontsize=fontsize)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel("score (lower is better)" if all(LOWER_IS_BETTER[c] for c in CRITERIA) else "score")
    fig.suptitle(f"Figure 5: criteria over {len(table.image_ids)} images (1 - S-Ord so that lower is better "
                 "everywhere)", fontsize=10)
    if source is not None:
        footer = fill_to_width((SOURCE_PREFIX + source).split(" "), FOOTER_SHARE * fig.get_figwidth() * 72.0,
                               FOOTER_FONTSIZE)
        fig.supxlabel(footer, fontsize=FOOTER_FONTSIZE, color="0.25")
    return fig


def nan_note(methods: Sequence[str], dropped: Sequence[int], width: float) -> str:
    """The note under a panel of how many NaN rows of each method were dropped: :data:`NAN_NOTE_PREFIX`, then
    ``<display name> <count>`` for each method with a count > 0 (in ``methods`` order), ``", "``-joined and broken
    after a comma into lines at most ``width`` points wide at :data:`NOTE_FONTSIZE`; ``""`` when nothing was
    dropped."""
    entries = [f"{display_name(m)} {d}" for m, d in zip(methods, dropped) if d]
    if not entries:
        return ""
    return fill_to_width([NAN_NOTE_PREFIX + entries[0], *entries[1:]], width, NOTE_FONTSIZE, sep=", ")


def panel_sampling_note(ax: "Axes", table: ResultsTable, criterion: str) -> str | None:
    """:func:`sampling_note` of the ``criterion`` panel ``ax`` (drawn, limits set): the estimates of the values
    inside the axis limits (points cut above the axis are counted in the title, not read here). ``None`` when
    ``table`` has no estimate columns."""
    if not has_estimates(table):
        return None
    low, high = ax.get_ylim()
    values = np.asarray(table.column(criterion), dtype=np.float64)
    errors = np.asarray(table.column(estimate_columns(criterion)[0]), dtype=np.float64)
    inside = np.isfinite(values) & (values >= low) & (values <= high)
    return sampling_note(errors[inside], high - low)


def sampling_note(errors: np.ndarray, span: float) -> str | None:
    """How far a panel's values may be from exact mode, from their error estimates and the axis span.

    Returns:
        ``None`` when no estimate is finite; ``"sampling error 0 (exact)"`` when the largest is 0 (every count
        evaluated); ``"sampling error est. <= X (below plot resolution)"`` when the largest is below
        :data:`RESOLUTION` ``* span`` (``X``: the largest rounded up to one significant digit); else
        ``"largest sampling error est. X"`` (two significant digits).
    """
    errors = np.asarray(errors, dtype=np.float64)
    errors = errors[np.isfinite(errors)]
    if not errors.size:
        return None
    largest = float(errors.max())
    if largest == 0.0:
        return "sampling error 0 (exact)"
    if largest < RESOLUTION * span:
        return f"sampling error est. <= {_round_up(largest):.0e} (below plot resolution)"
    return f"largest sampling error est. {largest:.2g}"


def _round_up(value: float) -> float:
    """``value > 0`` rounded up to one significant digit (3.2e-05 -> 4e-05, 3e-05 -> 3e-05)."""
    scale = 10.0 ** math.floor(math.log10(value))
    return math.ceil(round(value / scale, 9)) * scale


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
