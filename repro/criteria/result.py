"""The result records of :mod:`repro.criteria.api`: :class:`Curve`, :class:`ImageCurves`, :class:`CriteriaResult`.

One :class:`CriteriaResult` holds the criteria of ``P`` (image, map) pairs under one score, arrays of shape
``(P,)``; row ``i`` explains image ``image_index[i]`` for class ``targets[i]``, and ``curves[i]`` holds the six
curves the four criteria of that row come from (raw model outputs, no clipping). A NaN criterion is never silent:
``reason[i]`` says why (:data:`REASON_NO_POSITIVE`, :data:`REASON_Y0`), and is ``""`` when all four are numbers.
``num_forwards`` is the count of model evaluations run by the whole call that produced the record (every pair and
score of it, shared evaluations counted once), so :meth:`CriteriaResult.subset` keeps it as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Sequence

import numpy as np

REASON_NO_POSITIVE = "M=0: no pixel has a positive attribution score; all four criteria are NaN"
REASON_Y0 = "y0<=0: the original output is not positive; TPN and TPS are NaN"

OUTPUT_SCORE = "output"
"""The score key of :func:`~repro.criteria.api.evaluate_scores` for a model with one output only (a plain callable,
a Keras model without a final softmax): its outputs as they are."""


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

    def __len__(self) -> int:
        return len(self.n_ord)

    def subset(self, idx: Sequence[int] | np.ndarray | slice) -> "CriteriaResult":
        """The rows ``idx`` (``num_forwards`` is kept as the whole call's count)."""
        rows = np.arange(len(self))[idx]
        kept = ("steps", "num_forwards", "score", "tol", "rounds")
        return CriteriaResult(**{
            f.name: getattr(self, f.name) if f.name in kept
            else [getattr(self, f.name)[i] for i in rows] if f.name in ("reason", "curves")
            else np.asarray(getattr(self, f.name))[rows]
            for f in fields(self)})
