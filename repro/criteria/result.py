"""The result records of :mod:`repro.criteria.api`: :class:`Curve`, :class:`ImageCurves`, :class:`CriteriaResult`.

One :class:`CriteriaResult` holds the criteria of ``P`` (image, map) pairs under one score, arrays of shape
``(P,)``; row ``i`` explains image ``image_index[i]`` for class ``targets[i]``, and ``curves[i]`` holds the six
curves the four criteria of that row come from (raw model outputs, no clipping). A NaN criterion is never silent:
``reason[i]`` says why (:data:`NAN_REASONS`: :data:`REASON_NO_POSITIVE`, :data:`REASON_Y0`). Nor is a finite TPN or
TPS whose penalty ratio is ~0 (:data:`RATIO_FLOOR`): ``reason[i]`` then names it (:data:`FLAG_REASONS`:
:data:`REASON_R_CLIPPED`, :data:`REASON_R_PRIME_CLIPPED`; both joined by :data:`REASON_SEPARATOR`) while the four
numbers stay what the definitions give. ``reason[i]`` is ``""`` when all four are numbers and neither ratio is ~0;
a non-empty reason therefore does NOT mean a NaN row (:func:`nan_reason` tells the two apart).
``num_forwards`` is the count of model evaluations run by the whole call that produced the record (every pair and
score of it, shared evaluations counted once), so :meth:`CriteriaResult.subset` keeps it as it is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Sequence

import numpy as np

REASON_NO_POSITIVE = "M=0: no pixel has a positive attribution score; all four criteria are NaN"
REASON_Y0 = "y0<=0: the original output is not positive; TPN and TPS are NaN"

RATIO_FLOOR: float = 1e-6
"""Below this the penalty ``r`` (``r'``) of a finite TPN (TPS) is flagged as ~0 (:data:`FLAG_REASONS`, whose texts
quote it).

TPN is ``area / (r y0 + eps)``, so ``r < 1e-6`` makes TPN more than ~``1e6`` times ``area / y0``, the value ``r = 1``
would give: the number then measures the penalty, not the curves. Where footnote 2's clipping sets the numerator
to 0 (a logit ``y_b <= 0``; ``R'_M <= 0`` for ``r'``), ``r = eps / (R_M + eps)`` (with
:data:`repro.criteria.scores.EPS_IN_NUMERATOR`; 0 under the literal form) is below ``1e-6`` for every ``R_M >= 1e-4
= 1e6 eps``: every such row is caught unless ``R_M`` is itself ~0 (then ``r`` is near 1 and nothing is inflated).
An unclipped ``r = y_b / R_M`` is flagged only if ``y_b`` is a millionth of ``R_M`` or less, which a probability
reaches only by underflow; a ratio above that (a probability ``y_b ~ 1e-5`` against ``R_M <= 1``) is an ordinary
value of the definition, not flagged."""

REASON_R_CLIPPED = "r<1e-6 (y_b clipped to 0, or ~0 next to R_M): TPN = area / (r y0 + eps), over ~1e6 x area / y0"
"""TPN is a number, but its penalty ``r`` (Definition 4, :func:`repro.criteria.scores.necessity_ratio`) is below
:data:`RATIO_FLOOR`: mostly a logit ``y_b <= 0`` clipped to 0 by footnote 2, so ``r = eps / (R_M + eps)``."""
REASON_R_PRIME_CLIPPED = ("r'<1e-6 (R'_M clipped to 0, or ~0 next to y0): TPS = area / (r' y0 + eps), "
                          "over ~1e6 x area / y0")
"""TPS is a number, but its penalty ``r'`` (Definition 6, :func:`repro.criteria.scores.sufficiency_ratio`) is below
:data:`RATIO_FLOOR`: mostly a logit ``R'_M <= 0`` (``x_b`` with pi+ added) clipped to 0 by footnote 2."""
NAN_REASONS: tuple[str, ...] = (REASON_NO_POSITIVE, REASON_Y0)
"""The reasons of NaN criteria; a row has at most one, alone."""
FLAG_REASONS: tuple[str, ...] = (REASON_R_CLIPPED, REASON_R_PRIME_CLIPPED)
"""The reasons of finite but degenerate values, in the order they are joined; the row's numbers are to be used."""
REASON_SEPARATOR = "; "
"""Joins several reasons of one row (only :data:`FLAG_REASONS` combine; none of them contains it)."""

OUTPUT_SCORE = "output"
"""The score key of :func:`~repro.criteria.api.evaluate_scores` for a model with one output only (a plain callable,
a Keras model without a final softmax): its outputs as they are."""


def pair_reason(num_positive: int, y0: float, r: float, r_prime: float) -> str:
    """The ``reason`` of one (image, map) pair: its NaN reason, else its flags joined by :data:`REASON_SEPARATOR`,
    else ``""``.

    Args:
        num_positive: ``M``. y0: ``f(x)`` (raw). r, r_prime: the penalties of TPN and TPS
            (:func:`repro.criteria.scores.necessity_ratio`, :func:`~repro.criteria.scores.sufficiency_ratio`).
    """
    if num_positive == 0:
        return REASON_NO_POSITIVE
    if not y0 > 0:
        return REASON_Y0
    flags = [reason for reason, ratio in zip(FLAG_REASONS, (r, r_prime)) if ratio < RATIO_FLOOR]
    return REASON_SEPARATOR.join(flags)


def nan_reason(reason: str) -> bool:
    """Whether a ``reason`` (of a :class:`CriteriaResult` or a ``results.csv`` row) says some criterion is NaN;
    ``False`` for ``""`` and for the flags of finite values (:data:`FLAG_REASONS`)."""
    return reason in NAN_REASONS


@dataclass(frozen=True)
class Curve:
    """One perturbation curve: ``x`` (m/M or share k), model outputs ``y``, at pixel counts ``m`` (all ``(L,)``)."""

    x: np.ndarray
    y: np.ndarray
    m: np.ndarray


@dataclass(frozen=True)
class ImageCurves:
    """The six curves of one (image, map), raw model outputs (no clipping).

    ``necessity``: ``R_m(x, pi+)``, removing top-first, ``x = m / M``. ``sufficiency``: ``R'_m(x_b, pi+)``, adding
    top-first, ``x = m / M``. ``tpn_top`` / ``tpn_bottom``: removing along pi+ / reversed pi+, ``x = k``.
    ``tps_top`` / ``tps_bottom``: adding along pi+ / reversed pi+, ``x = k``.
    """

    necessity: Curve
    sufficiency: Curve
    tpn_top: Curve
    tpn_bottom: Curve
    tps_top: Curve
    tps_bottom: Curve
    num_positive: int
    y0: float
    yb: float


@dataclass
class CriteriaResult:
    """Per-(image, map) criteria, shapes ``(P,)``; see :mod:`repro.criteria.api` for a usage recipe.

    ``s_ord`` is eq. 4 as printed (``min{R'_m, R'_M} - y0``); ``s_ord_text`` the sentence under it (``min{R'_m, y0}
    - y0``); ``s_ord_baseline`` ``min{R'_m, R'_M} - y_b`` (:data:`repro.criteria.scores.S_ORD_READINGS`), all from
    the same adding curve. ``score``: which class score the numbers read (``"probability"``, ``"logit"`` or
    :data:`OUTPUT_SCORE`).

    How far each number may be from exact mode (:mod:`repro.criteria.errors`; absolute, in the criterion's own
    units, float64; 0 in exact mode and for pairs with ``M <= K``; NaN where the criterion is NaN): the estimates
    ``n_ord_err``, ``s_ord_err``, ``s_ord_text_err``, ``s_ord_baseline_err`` (``= s_ord_err``), ``tpn_err``,
    ``tps_err`` (what ``steps="adaptive"`` drives below ``tol * max(1, |value|)``), and the bounds ``n_ord_bound``,
    ``s_ord_bound``, ``s_ord_text_bound``, ``s_ord_baseline_bound``, ``tpn_bound``, ``tps_bound``, valid IF the
    curves are monotone between evaluated points, claimed only where the evaluated points never turn next to an
    unevaluated gap (NaN otherwise). ``steps``: ``K``, ``None`` (exact) or ``"adaptive"`` (with ``tol`` and
    ``rounds``).
    """

    n_ord: np.ndarray
    s_ord: np.ndarray
    s_ord_text: np.ndarray
    s_ord_baseline: np.ndarray
    tpn: np.ndarray
    tps: np.ndarray
    y0: np.ndarray
    yb: np.ndarray
    num_positive: np.ndarray
    reason: list[str]
    curves: list[ImageCurves]
    image_index: np.ndarray
    targets: np.ndarray
    n_ord_err: np.ndarray
    s_ord_err: np.ndarray
    s_ord_text_err: np.ndarray
    s_ord_baseline_err: np.ndarray
    tpn_err: np.ndarray
    tps_err: np.ndarray
    n_ord_bound: np.ndarray
    s_ord_bound: np.ndarray
    s_ord_text_bound: np.ndarray
    s_ord_baseline_bound: np.ndarray
    tpn_bound: np.ndarray
    tps_bound: np.ndarray
    steps: int | str | None
    num_forwards: int = 0
    """Model evaluations run for the whole call (all pairs and scores; shared ones counted once)."""
    score: str = OUTPUT_SCORE
    tol: float | None = None
    """The tolerance of ``steps="adaptive"`` (``None`` otherwise)."""
    rounds: int = 1
    """Engine calls of the whole call (``steps="adaptive"``: the first grid plus the refinement rounds)."""
    settings: dict = field(default_factory=dict)
    """The settings that produced these numbers, as :func:`repro.criteria.evaluate` and its siblings set them:
    ``{"score", "steps", "tol", "eps", "batch_size"}``."""

    def __len__(self) -> int:
        return len(self.n_ord)

    def rows(self, method: str = "map", image_ids: str | Sequence[str] = "image",
             labels: int | Sequence[int] | np.ndarray = -1, *, reading: str = "") -> list[dict]:
        """One ``results.csv`` row per (image, map) pair, in order: the columns of
        :data:`repro.results.RESULT_COLUMNS` (error estimates and bounds included), each built by
        :func:`repro.results.result_row`, the one place a row is built; ``score`` is :attr:`score`.

        Args:
            method: the ``method`` column. image_ids: a prefix, ``image_id`` being ``f"{prefix}:{k}"`` for row
                ``i`` explaining image ``k = image_index[i]`` (default ``"image:0"``, ... as ``repro evaluate``
                with its images file's stem), or one id per image, indexed by ``k``. labels: one label for all
                rows (default -1: unknown) or one per image, indexed by ``k``. reading: the ``reading`` column
                (``""``: the run's own settings).
        """
        from repro.results import result_row

        out = []
        for i, k in enumerate(int(k) for k in np.asarray(self.image_index)):
            image_id = f"{image_ids}:{k}" if isinstance(image_ids, str) else image_ids[k]
            label = labels if isinstance(labels, (int, np.integer)) else labels[k]
            out.append(result_row(image_id, method, int(label), self, i, score=self.score, reading=reading))
        return out

    def write_csv(self, path: str | os.PathLike, method: str = "map", image_ids: str | Sequence[str] = "image",
                  labels: int | Sequence[int] | np.ndarray = -1, *, reading: str = "") -> Path:
        """Write :meth:`rows` (same arguments) as a ``results.csv`` table that ``repro check-claims``, ``repro
        figures`` and :func:`repro.results.read_results` read (:func:`repro.results.write_results`: atomic, floats
        read back bit for bit). Returns the path."""
        from repro.results import write_results

        return write_results(path, self.rows(method, image_ids, labels, reading=reading))

    def subset(self, idx: Sequence[int] | np.ndarray | slice) -> "CriteriaResult":
        """The rows ``idx`` (``num_forwards`` is kept as the whole call's count)."""
        rows = np.arange(len(self))[idx]
        kept = ("steps", "num_forwards", "score", "tol", "rounds", "settings")
        return CriteriaResult(**{
            f.name: getattr(self, f.name) if f.name in kept
            else [getattr(self, f.name)[i] for i in rows] if f.name in ("reason", "curves")
            else np.asarray(getattr(self, f.name))[rows]
            for f in fields(self)})
