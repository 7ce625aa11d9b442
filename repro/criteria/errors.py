"""How far a sampled criterion may be from exact mode: an error ESTIMATE and a conditional BOUND per criterion and
per (image, map).

A sampled curve (``steps=K`` or ``steps="adaptive"``) is evaluated at some pixel counts ``c_0 = 0 < c_1 < ... <
c_L = M`` and read linearly in between: in ``m`` for N-Ord and S-Ord (eq. 3 / 4 average over every count), in the
share ``k`` for TPN and TPS (:mod:`repro.criteria.scores`). Exact mode reads every count. For an interval ``[a, b]``
between evaluated counts (``n = b - a``; width ``h`` on the criterion's axis; chord slope ``s``; the slopes
``s_l``, ``s_r`` of the neighbouring intervals) with counts inside (``n >= 2``), the criterion's error gets:

* **estimate** (``*_err``; what ``steps="adaptive"`` drives below ``tol``): where ``s`` lies between ``s_l`` and
  ``s_r`` (the samples look convex or concave) the curve lies between the chord and the two neighbouring chords
  extended, a triangle of area ``h^2 |s_r - s| |s - s_l| / (2 |s_r - s_l|)``; such terms add up. Elsewhere (a turn,
  an inflection, a jump between samples) the term is ``h^2 max(|s - s_l|, |s - s_r|) / 4`` - the size of the
  interpolation error of a random walk whose increments change as the neighbouring slopes do - and such terms add
  in quadrature (the curves of a trained network are staircases: their interpolation errors have random signs).
  Every term is capped by the monotone worst case below. ``m``-axis terms are divided by ``M + 1``; ``k``-axis
  terms are summed over the top and bottom curves and divided by the criterion's normaliser ``r y0 + eps`` (``r``,
  ``r'``, ``y0``, ``y_b`` are read at evaluated counts, so they are exact).
* **bound** (``*_bound``): IF the curve is monotone between evaluated points (up to float32 rounding of the model's
  outputs, :data:`FLOAT32_SLACK`), its values inside lie between ``y_a`` and ``y_b``; the worst case is a step at
  one end of the interval (the monotone curves form a convex set, the error is convex in the curve, so it is largest
  at an extreme point: a step; of the steps, one next to an end). ``m`` axis: ``min((n - 1) |dy| / 2, (n - 1) |dg|)``
  for ``g`` the clip the criterion applies (N-Ord: ``max(., y_b)``; S-Ord: ``min(., cap)``; an interval whose two
  ends are clipped costs 0). ``k`` axis: ``(dk - min(d_first, d_last)) |dy| / 2`` with ``d_first``, ``d_last`` the
  shares of the first and last pixel of the interval. Summed over the intervals (and over the top and bottom curves,
  ``| |t - b| - |t' - b'| | <= |t - t'| + |b - b'|``). The bound is CLAIMED only where the evaluated points of every
  curve the criterion reads never turn next to an interval with counts inside (no evaluated point contradicts the
  hypothesis); elsewhere it is NaN. Nothing evaluated can prove the hypothesis: ``benchmarks/sampling.py`` counts
  how often a claimed bound is exceeded (a staircase curve can hide a dip between two samples that look monotone).

An interval of one count (``n = 1``) contributes 0 to both, so exact mode reports 0 everywhere. S-Ord's readings:
``s_ord`` (printed, cap ``R'_M``) and ``s_ord_baseline`` (the same minus a constant) share their numbers;
``s_ord_text`` (cap ``y0``) has its own.

Reference: Wang et al., "Interpreting Interpretations", eq. (3), (4), Definitions 4 and 6.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from repro.criteria import scores

ERROR_FIELDS: tuple[str, ...] = ("n_ord_err", "s_ord_err", "s_ord_text_err", "s_ord_baseline_err", "tpn_err",
                                 "tps_err")
"""The error estimates of :class:`~repro.criteria.result.CriteriaResult`, one per criterion (and S-Ord reading)."""
BOUND_FIELDS: tuple[str, ...] = ("n_ord_bound", "s_ord_bound", "s_ord_text_bound", "s_ord_baseline_bound",
                                 "tpn_bound", "tps_bound")
"""The bounds of :class:`~repro.criteria.result.CriteriaResult` if the curves are monotone between evaluated points
(NaN where the evaluated points contradict it)."""


class AxisTerms(NamedTuple):
    """Per interval of evaluated counts of one curve on one axis (see the module docstring): ``terms``, the
    estimate's term; ``shaped``, whether the samples around it fit a convex or concave curve (its term then adds
    linearly, the others in quadrature); ``box``, the worst case if the curve is monotone on the interval; and
    ``monotone``, whether the evaluated points never turn next to an interval with counts inside (the bound is
    claimed only then)."""

    terms: np.ndarray
    shaped: np.ndarray
    box: np.ndarray
    monotone: bool


def axis_terms(x: np.ndarray, y: np.ndarray, gap: np.ndarray, box: np.ndarray,
               clip: tuple[float, float] = (-np.inf, np.inf)) -> AxisTerms:
    """The error terms of a curve sampled at positions ``x`` (``m`` or ``k`` of the evaluated counts) with outputs
    ``y`` (see the module docstring).

    Args:
        x, y: ``(L,)``. gap: ``(L - 1,)`` bool, the interval has unevaluated counts inside.
        box: ``(L - 1,)`` the monotone worst case of each interval (already computed for the axis).
        clip: ``(lo, hi)``: the criterion reads ``clip(y, lo, hi)``; a sandwich entirely outside ``[lo, hi]`` costs 0.
    Returns:
        :class:`AxisTerms`, terms ``>= 0`` (0 where there is no gap).
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    n = x.size - 1
    if n < 1:
        return AxisTerms(np.zeros(0), np.zeros(0, bool), np.zeros(0), True)
    h = np.diff(x)
    dy = np.diff(y)
    flat = h <= 0  # two counts at the same share (scores below float resolution): a jump in k
    s = np.where(flat, 0.0, dy / np.where(flat, 1.0, h))
    left = np.concatenate([[np.nan], s[:-1]])
    right = np.concatenate([s[1:], [np.nan]])
    has_l, has_r = ~np.isnan(left), ~np.isnan(right)
    lf, rf = np.where(has_l, left, 0.0), np.where(has_r, right, 0.0)
    shaped = has_l & has_r & ~flat & (((lf <= s) & (s <= rf)) | ((lf >= s) & (s >= rf)))
    spread = np.abs(rf - lf)
    safe = np.where(spread > 0, spread, 1.0)
    # convex / concave: the curve lies between the chord and the two neighbouring chords extended (a triangle)
    sandwich = np.where(spread > 0, h * h * np.abs(rf - s) * np.abs(s - lf) / (2.0 * safe), 0.0)
    apex = y[:-1] + lf * np.where(spread > 0, h * np.abs(rf - s) / safe, 0.0)
    lo_y = np.minimum(np.minimum(y[:-1], y[1:]), apex)
    hi_y = np.maximum(np.maximum(y[:-1], y[1:]), apex)
    lo, hi = clip
    sandwich = np.where((hi_y <= lo) | (lo_y >= hi), 0.0, sandwich)
    # otherwise (a turn, an inflection, a jump): the change of slope against the neighbours, as for a random walk
    bend = np.maximum(np.where(has_l, np.abs(s - lf), 0.0), np.where(has_r, np.abs(s - rf), 0.0))
    bend = np.where(has_l | has_r, h * h * bend / 4.0, np.inf)
    terms = np.where(shaped, np.minimum(sandwich, box), np.minimum(bend, box))
    terms = np.where(gap & ~flat, np.maximum(terms, 0.0), np.where(gap, box, 0.0))
    sign = np.sign(dy)
    turn = np.zeros(n, bool)
    turn[1:] |= sign[1:] * sign[:-1] < 0
    turn[:-1] |= sign[:-1] * sign[1:] < 0
    monotone = not bool(np.any(turn & gap))
    return AxisTerms(terms, shaped & gap, np.where(gap, box, 0.0), monotone)


def m_box(counts: np.ndarray, y: np.ndarray, lo: float = -np.inf, hi: float = np.inf) -> np.ndarray:
    """Per interval of evaluated counts, the bound on ``sum |g(true) - g(interpolated)|`` over the counts inside,
    ``g = clip(., lo, hi)``, if the curve is monotone there: ``min((n - 1) |dy| / 2, (n - 1) |dg|)``."""
    inside = (np.diff(np.asarray(counts, np.int64)) - 1).astype(np.float64)
    y = np.asarray(y, np.float64)
    box = np.minimum(inside * np.abs(np.diff(y)) / 2.0, inside * np.abs(np.diff(np.clip(y, lo, hi))))
    return box + inside * _float32_slack(y)


def k_box(counts: np.ndarray, y: np.ndarray, k: np.ndarray) -> np.ndarray:
    """Per interval of evaluated counts, the bound on ``integral |true - chord| dk`` of a curve piecewise linear in
    ``k`` (the share axis ``(M + 1,)``) if it is monotone there: ``(dk - min(d_first, d_last)) |dy| / 2``."""
    counts = np.asarray(counts, np.int64)
    k = np.asarray(k, np.float64)
    if counts.size < 2:
        return np.zeros(0)
    a, b = counts[:-1], counts[1:]
    width = np.maximum(k[b] - k[a] - np.minimum(k[a + 1] - k[a], k[b] - k[b - 1]), 0.0)
    y = np.asarray(y, np.float64)
    return width * np.abs(np.diff(y)) / 2.0 + (k[b] - k[a]) * _float32_slack(y)


FLOAT32_SLACK = 4.0 * 2.0 ** -24
"""Model outputs are float32: a curve monotone up to its rounding can move by a few units in the last place against
its trend. The monotone worst case of an interval adds ``FLOAT32_SLACK * max(|y_a|, |y_b|)`` per unevaluated count
(``m`` axis) or per unit of ``k``."""


def _float32_slack(y: np.ndarray) -> np.ndarray:
    return FLOAT32_SLACK * np.maximum(np.abs(y[:-1]), np.abs(y[1:]))


def m_terms(counts: np.ndarray, y: np.ndarray, M: int, lo: float = -np.inf, hi: float = np.inf) -> AxisTerms:
    """The terms of an ``m``-axis criterion (N-Ord: ``lo = y_b``; S-Ord: ``hi`` = the cap), divided by ``M + 1``."""
    counts = np.asarray(counts, np.int64)
    t = axis_terms(counts, y, np.diff(counts) > 1, m_box(counts, y, lo, hi), (lo, hi))
    return AxisTerms(t.terms / (M + 1), t.shaped, t.box / (M + 1), t.monotone)


def k_terms(counts: np.ndarray, y: np.ndarray, k: np.ndarray, norm: float) -> AxisTerms:
    """The terms of a ``k``-axis curve (``y`` clipped at 0 as TPN/TPS read it), divided by ``norm``."""
    counts = np.asarray(counts, np.int64)
    t = axis_terms(np.asarray(k, np.float64)[counts], y, np.diff(counts) > 1, k_box(counts, y, k))
    return AxisTerms(t.terms / norm, t.shaped, t.box / norm, t.monotone)


def total(parts: list[tuple[int, AxisTerms]]) -> float:
    """A criterion's error estimate from its terms: the shaped terms summed, the others in quadrature."""
    shaped = sum(float(t.terms[t.shaped].sum()) for _, t in parts)
    other = sum(float(np.square(t.terms[~t.shaped]).sum()) for _, t in parts)
    return shaped + float(np.sqrt(other))


def bound(parts: list[tuple[int, AxisTerms]]) -> float:
    """A criterion's bound if its curves are monotone between evaluated points: the monotone worst cases summed;
    NaN where the evaluated points turn next to an interval with counts inside (no bound claimed)."""
    if not all(t.monotone for _, t in parts):
        return float("nan")
    return float(sum(t.box.sum() for _, t in parts))


def effective(parts: list[tuple[int, AxisTerms]]) -> list[tuple[int, np.ndarray]]:
    """Each interval's share of :func:`total` (shaped terms as they are, the others ``t^2 / sqrt(sum t^2)``), so
    that the shares sum to the total: what refinement ranks."""
    q = float(np.sqrt(sum(float(np.square(t.terms[~t.shaped]).sum()) for _, t in parts)))
    return [(c, np.where(t.shaped, t.terms, np.square(t.terms) / (q if q > 0 else 1.0))) for c, t in parts]


class PairErrors(NamedTuple):
    """The error estimates of one (image, map) pair under one score (see the module docstring)."""

    n_ord_err: float
    s_ord_err: float
    s_ord_text_err: float
    s_ord_baseline_err: float
    tpn_err: float
    tps_err: float
    n_ord_bound: float
    s_ord_bound: float
    s_ord_text_bound: float
    s_ord_baseline_bound: float
    tpn_bound: float
    tps_bound: float


class CurveSamples(NamedTuple):
    """The four evaluated curves of one pair: counts and outputs of remove-top, remove-bottom, add-top, add-bottom
    (top = along pi+, bottom = along reversed pi+)."""

    rt: tuple[np.ndarray, np.ndarray]
    rb: tuple[np.ndarray, np.ndarray]
    at: tuple[np.ndarray, np.ndarray]
    ab: tuple[np.ndarray, np.ndarray]


def interval_terms(M: int, k_top: np.ndarray, k_bot: np.ndarray, curves: CurveSamples, y0: float, yb: float,
                   eps: float = scores.EPS) -> dict[str, list[tuple[int, AxisTerms]]]:
    """Each criterion's error as per-interval terms: criterion -> ``[(curve index 0..3, AxisTerms)]``
    (:func:`total` of them is the criterion's error). TPN and TPS are left out when ``y0 <= 0`` (they are NaN)."""
    (c_rt, y_rt), (c_rb, y_rb), (c_at, y_at), (c_ab, y_ab) = curves
    terms: dict[str, list[tuple[int, AxisTerms]]] = {
        "n_ord": [(0, m_terms(c_rt, y_rt, M, lo=yb))],
        "s_ord": [(2, m_terms(c_at, y_at, M, hi=float(y_at[-1])))],
        "s_ord_text": [(2, m_terms(c_at, y_at, M, hi=y0))],
    }
    terms["s_ord_baseline"] = terms["s_ord"]
    if y0 > 0:
        pos = [np.maximum(np.asarray(v, np.float64), 0.0) for v in (y_rt, y_rb, y_at, y_ab)]
        tpn_norm = scores.necessity_ratio(yb, float(y_rt[-1]), eps) * y0 + eps
        tps_norm = scores.sufficiency_ratio(float(y_at[-1]), y0, eps) * y0 + eps
        terms["tpn"] = [(0, k_terms(c_rt, pos[0], k_top, tpn_norm)), (1, k_terms(c_rb, pos[1], k_bot, tpn_norm))]
        terms["tps"] = [(2, k_terms(c_at, pos[2], k_top, tps_norm)), (3, k_terms(c_ab, pos[3], k_bot, tps_norm))]
    return terms


def pair_errors(M: int, k_top: np.ndarray, k_bot: np.ndarray, curves: CurveSamples, y0: float, yb: float,
                eps: float = scores.EPS) -> PairErrors:
    """The error estimates and bounds of one pair (NaN when the criterion is NaN: ``M = 0``; TPN and TPS when
    ``y0 <= 0``; a bound is NaN too where it is not claimed)."""
    nan = float("nan")
    if M == 0:
        return PairErrors(*([nan] * 12))
    terms = interval_terms(M, k_top, k_bot, curves, y0, yb, eps)
    err = {name: total(parts) for name, parts in terms.items()}
    bnd = {name: bound(parts) for name, parts in terms.items()}
    names = ("n_ord", "s_ord", "s_ord_text", "s_ord_baseline", "tpn", "tps")
    return PairErrors(*(err.get(n, nan) for n in names), *(bnd.get(n, nan) for n in names))
