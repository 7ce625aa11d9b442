"""The four criteria from their curves: one function per equation of Section 3, plus the exact area between
two piecewise-linear curves.

* :func:`at_every_count`: a curve evaluated at some pixel counts, read at every count (linear in ``m``).
* :func:`n_ord` (eq. 3): ``mean_m max(R_m(x, pi+) - y_b, 0)``. Lower is better.
* :func:`s_ord` (eq. 4, as printed): ``mean_m min(R'_m(x_b, pi+), R'_M(x_b, pi+)) - y0``; two other readings
  (:data:`S_ORD_READINGS`) from the same curve. Higher is better.
* :func:`tpn` (Definition 4): ``integral_0^1 |top(k) - bottom(k)| dk / (r * y0)``,
  ``r = min((y_b + eps) / (R_M + eps), 1)``. Lower is better.
* :func:`tps` (Definition 6): same area for the adding curves, divided by ``r' * y0``,
  ``r' = min((R'_M + eps) / (y0 + eps), 1)``. Lower is better.

Footnote 2 ("we clip the scores below 0 and add a small positive number eps to the denominator") is read as:
model outputs entering TPN/TPS (curve values, y0, y_b) are clipped below at 0, and ``eps`` is added to the
denominators of ``r`` and ``r'`` and to the normaliser ``r * y0``, and also to the numerators of ``r`` and ``r'``:
that last part is a named choice beyond the footnote's words, :data:`EPS_IN_NUMERATOR` (its docstring gives the
reason and the literal alternative, which ``eps_in_numerator=False`` computes). ``y0 <= 0`` is not handled here: the
caller reports NaN (:mod:`repro.criteria.pairs`). See ``docs/criteria.md`` for every reading and its alternative.

The curves of TPN/TPS are piecewise linear in ``k`` through the evaluated points ``(k_m, R_m)``; top and bottom
curves have different breakpoints, and :func:`area_between` integrates ``|top - bottom|`` exactly, including sign
changes inside a segment.

Reference: Wang et al., "Interpreting Interpretations", eq. (3), (4), (6), (8) and footnote 2.
"""

from __future__ import annotations

import numpy as np

EPS: float = 1e-10
"""The footnote-2 epsilon (outputs are read in float64)."""

EPS_IN_NUMERATOR: bool = True
"""Whether ``eps`` is added to the numerators of ``r`` and ``r'`` as well as to their denominators (the default of
the ``eps_in_numerator`` argument of :func:`necessity_ratio`, :func:`sufficiency_ratio`, :func:`tpn`, :func:`tps`).

Footnote 2 says only "add a small positive number eps to the denominator". ``True`` (the project's reading) gives
``r = min((y_b + eps) / (R_M + eps), 1)`` and ``r' = min((R'_M + eps) / (y0 + eps), 1)``. Reason: Definition 4
says "r = 1 if removing all elements in pi+ drops the score to the baseline", and with eps on both sides that holds
for every ``y_b = R_M``, including ``y_b = R_M = 0`` (outputs clipped at 0, a logit that removing pi+ brings to 0 or
below, the toy models). The footnote's literal form (``False``), ``r = min(y_b / (R_M + eps), 1)`` and
``r' = min(R'_M / (y0 + eps), 1)``, gives ``r = 0 / eps = 0`` there, so ``TPN = area / (0 * y0 + eps) = area /
eps``, about ``1e10 * area``: the map that does drop the score to the baseline would get the largest penalty.

The two forms differ by ``eps / y_b`` (``r``) and ``eps / R'_M`` (``r'``) relative, i.e. nothing at float64
resolution of outputs far from 0; they differ in kind only when the clipped ``y_b`` (``r``) or ``R'_M`` (``r'``) is
~``eps`` or 0. For ``r'`` with ``R'_M = 0 < y0`` both are ~0: ``True`` gives ``TPS = area / (eps y0 / (y0 + eps) +
eps)``, about ``area / (2 eps)`` for ``y0 >> eps``, ``False`` gives ``area / eps``. The project keeps ``True``, with
which its results were computed."""


def at_every_count(counts: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    """A curve read at every pixel count ``0..M`` from its values at evaluated ``counts`` (increasing, from 0 to
    ``M``), linear in ``m`` in between; the identity in exact mode (``counts = 0..M``).

    Returns:
        float64 ``(M + 1,)``.
    """
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size == 0 or counts[0] != 0 or np.any(np.diff(counts) <= 0):
        raise ValueError(f"counts must increase from 0, got {counts[:5]}...")
    return np.interp(np.arange(counts[-1] + 1), counts, np.asarray(outputs, np.float64))


def n_ord(removal_outputs: np.ndarray, yb: float) -> float:
    """N-Ord, eq. (3).

    Args:
        removal_outputs: ``(L,)`` ``R_m(x, pi+)`` at the counts visited (``m = 0..M`` in exact mode).
        yb: baseline output ``f(x_b)``.
    """
    r = np.asarray(removal_outputs, dtype=np.float64)
    return float(np.mean(np.maximum(r - float(yb), 0.0)))


S_ORD_READINGS: tuple[str, ...] = ("printed", "text", "baseline")
"""The readings of eq. (4) (``docs/criteria.md``): ``printed`` ``min{R'_m, R'_M} - y0`` (the equation as printed,
the default), ``text`` ``min{R'_m, y0} - y0`` (the sentence under it: "we include min to clip scores above the
original output", ``y0``; also the mirror of eq. 3, which subtracts and clips at ``y_b``), ``baseline``
``min{R'_m, R'_M} - y_b`` (the printed cap, measured from the baseline output)."""


def s_ord(adding_outputs: np.ndarray, y0: float, reading: str = "printed", yb: float | None = None) -> float:
    """S-Ord, eq. (4): ``mean_m min(R'_m, cap) - ref`` under one of :data:`S_ORD_READINGS`.

    Args:
        adding_outputs: ``(L,)`` ``R'_m(x_b, pi+)`` at the counts visited, the last one being ``m = M``.
        y0: original output ``f(x)``.
        reading: ``"printed"`` (cap ``R'_M``, ref ``y0``), ``"text"`` (cap ``y0``, ref ``y0``) or ``"baseline"``
            (cap ``R'_M``, ref ``y_b``).
        yb: baseline output ``f(x_b)``; required for ``"baseline"``.
    """
    r = np.asarray(adding_outputs, dtype=np.float64)
    if reading == "printed":
        cap, ref = r[-1], float(y0)
    elif reading == "text":
        cap, ref = float(y0), float(y0)
    elif reading == "baseline":
        if yb is None:
            raise ValueError("the 'baseline' reading of S-Ord needs yb")
        cap, ref = r[-1], float(yb)
    else:
        raise ValueError(f"unknown S-Ord reading {reading!r}; choose one of {S_ORD_READINGS}")
    return float(np.mean(np.minimum(r, cap) - ref))


def necessity_ratio(yb: float, removed_all: float, eps: float = EPS,
                    eps_in_numerator: bool = EPS_IN_NUMERATOR) -> float:
    """``r = min((y_b + eps) / (R_M(x, pi+) + eps), 1)`` with outputs clipped below at 0 (Definition 4).

    ``eps_in_numerator=False``: footnote 2's literal ``min(y_b / (R_M + eps), 1)`` (:data:`EPS_IN_NUMERATOR`).
    """
    yb, rm = max(float(yb), 0.0), max(float(removed_all), 0.0)
    return min((yb + (eps if eps_in_numerator else 0.0)) / (rm + eps), 1.0)


def sufficiency_ratio(added_all: float, y0: float, eps: float = EPS,
                      eps_in_numerator: bool = EPS_IN_NUMERATOR) -> float:
    """``r' = min((R'_M(x_b, pi+) + eps) / (y0 + eps), 1)`` with outputs clipped below at 0 (Definition 6).

    ``eps_in_numerator=False``: footnote 2's literal ``min(R'_M / (y0 + eps), 1)`` (:data:`EPS_IN_NUMERATOR`).
    """
    rm, y0 = max(float(added_all), 0.0), max(float(y0), 0.0)
    return min((rm + (eps if eps_in_numerator else 0.0)) / (y0 + eps), 1.0)


def area_between(xa: np.ndarray, ya: np.ndarray, xb: np.ndarray, yb: np.ndarray) -> float:
    """Exact ``integral |a(x) - b(x)| dx`` of two piecewise-linear curves over their common ``[x_0, x_end]``.

    Each curve is given by its points, ``x`` non-decreasing; both must start and end at the same ``x``.
    A repeated ``x`` is a jump (the left piece ends at the first value, the right piece starts at the last).
    On each interval between consecutive breakpoints of either curve ``d = a - b`` is linear; if it changes sign
    at an interior point the two triangles are integrated separately: ``h * (d0^2 + d1^2) / (2 (|d0| + |d1|))``.

    Args:
        xa, ya: ``(La,)`` points of curve a. xb, yb: ``(Lb,)`` points of curve b.
    Returns:
        The area (float, >= 0). 0 for a degenerate interval.
    """
    xa, ya, xb, yb = (np.asarray(v, dtype=np.float64) for v in (xa, ya, xb, yb))
    for name, x, y in (("a", xa, ya), ("b", xb, yb)):
        if x.shape != y.shape or x.ndim != 1 or x.size == 0:
            raise ValueError(f"curve {name}: x {x.shape} and y {y.shape} must be equal non-empty 1-D shapes")
        if np.any(np.diff(x) < 0):
            raise ValueError(f"curve {name}: x must be non-decreasing")
    if xa[0] != xb[0] or xa[-1] != xb[-1]:
        raise ValueError(f"curves span different ranges: [{xa[0]}, {xa[-1]}] vs [{xb[0]}, {xb[-1]}]")
    knots = np.unique(np.concatenate([xa, xb]))
    if knots.size < 2:
        return 0.0
    lo, hi = knots[:-1], knots[1:]
    da0, da1 = _piece_ends(xa, ya, lo, hi)
    db0, db1 = _piece_ends(xb, yb, lo, hi)
    d0, d1, h = da0 - db0, da1 - db1, hi - lo
    same = d0 * d1 >= 0
    a0, a1 = np.abs(d0), np.abs(d1)
    denom = np.where(same, 1.0, a0 + a1)
    area = np.where(same, 0.5 * h * (a0 + a1), 0.5 * h * (d0 * d0 + d1 * d1) / denom)
    return float(area.sum())


def _piece_ends(x: np.ndarray, y: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values of a piecewise-linear curve at the right of ``lo`` and at the left of ``hi`` for intervals
    ``(lo, hi)`` that contain no breakpoint of the curve inside."""
    i = np.searchsorted(x, lo, side="right") - 1  # last point at or before lo: the piece starting at lo
    i = np.clip(i, 0, x.size - 2)
    x0, x1, y0, y1 = x[i], x[i + 1], y[i], y[i + 1]
    width = x1 - x0
    safe = np.where(width > 0, width, 1.0)
    slope = np.where(width > 0, (y1 - y0) / safe, 0.0)
    return y0 + slope * (lo - x0), y0 + slope * (hi - x0)


def tpn(top_k: np.ndarray, top_y: np.ndarray, bottom_k: np.ndarray, bottom_y: np.ndarray,
        y0: float, yb: float, eps: float = EPS, eps_in_numerator: bool = EPS_IN_NUMERATOR) -> float:
    """TPN, Definition 4: ``area(|top - bottom|) / (r * y0 + eps)``.

    Args:
        top_k, top_y: ``(L,)`` shares and outputs ``R_m(x, pi+)`` removing top-first (``k`` from 0 to 1).
        bottom_k, bottom_y: ``(L',)`` the same for the reversed ordering.
        y0, yb: ``f(x)`` and ``f(x_b)``. Outputs are clipped below at 0 (footnote 2).
        eps_in_numerator: ``r``'s form (:func:`necessity_ratio`, :data:`EPS_IN_NUMERATOR`).
    """
    top = np.maximum(np.asarray(top_y, np.float64), 0.0)
    bottom = np.maximum(np.asarray(bottom_y, np.float64), 0.0)
    area = area_between(top_k, top, bottom_k, bottom)
    r = necessity_ratio(yb, top[-1], eps, eps_in_numerator)
    return area / (r * max(float(y0), 0.0) + eps)


def tps(top_k: np.ndarray, top_y: np.ndarray, bottom_k: np.ndarray, bottom_y: np.ndarray,
        y0: float, eps: float = EPS, eps_in_numerator: bool = EPS_IN_NUMERATOR) -> float:
    """TPS, Definition 6: ``area(|top - bottom|) / (r' * y0 + eps)`` for the adding curves
    ``R'_m(x_b, pi+)`` (top) and ``R'_m(x_b, reversed pi+)`` (bottom); outputs clipped below at 0.
    ``eps_in_numerator``: ``r'``'s form (:func:`sufficiency_ratio`, :data:`EPS_IN_NUMERATOR`)."""
    top = np.maximum(np.asarray(top_y, np.float64), 0.0)
    bottom = np.maximum(np.asarray(bottom_y, np.float64), 0.0)
    area = area_between(top_k, top, bottom_k, bottom)
    r = sufficiency_ratio(top[-1], y0, eps, eps_in_numerator)
    return area / (r * max(float(y0), 0.0) + eps)


def criteria_of_curves(M: int, k_top: np.ndarray, k_bot: np.ndarray, rt: tuple[np.ndarray, np.ndarray],
                       rb: tuple[np.ndarray, np.ndarray], at: tuple[np.ndarray, np.ndarray],
                       ab: tuple[np.ndarray, np.ndarray], eps: float = EPS) -> dict[str, float]:
    """The criteria of one (image, map) pair from its four sampled curves, each ``(counts, outputs)``: removing
    along pi+ (``rt``) / reversed pi+ (``rb``), adding along pi+ (``at``) / reversed pi+ (``ab``); counts increase
    from 0 to ``M`` (``M > 0``). ``k_top`` / ``k_bot``: the share axes ``(M + 1,)``.

    Returns:
        ``n_ord``, ``s_ord``, ``s_ord_text``, ``s_ord_baseline`` and (``y0 > 0`` only) ``tpn``, ``tps``.
    """
    (m_rt, y_rt), (m_rb, y_rb), (m_at, y_at), (m_ab, y_ab) = rt, rb, at, ab
    y0, yb = float(y_rt[0]), float(y_at[0])
    out = {"n_ord": n_ord(at_every_count(m_rt, y_rt), yb)}
    adding = at_every_count(m_at, y_at)
    out["s_ord"] = s_ord(adding, y0)
    out["s_ord_text"] = s_ord(adding, y0, reading="text")
    out["s_ord_baseline"] = s_ord(adding, y0, reading="baseline", yb=yb)
    if y0 > 0:
        out["tpn"] = tpn(k_top[m_rt], y_rt, k_bot[m_rb], y_rb, y0, yb, eps)
        out["tps"] = tps(k_top[m_at], y_at, k_bot[m_ab], y_ab, y0, eps)
    return out
