"""How accurate can ANY sampler of the curves be for a given number of forwards? A floor from exact mode's curves.

The sampled criteria read a curve at some pixel counts and interpolate in between (:mod:`repro.criteria.errors`).
What a sampler cannot see is the curve between its points. Model each exact curve (clipped as its criterion reads
it: N-Ord ``max(R_m, y_b)``, S-Ord ``min(R'_m, R'_M)``) as a smooth trend plus independent increments of local
variance ``sigma^2(m)``:

* the trend: the moving average of the increments over :data:`WINDOW` counts; ``sigma^2``: the moving average of
  the squared detrended increments over the same window;
* the model is checked, not assumed: the lag-1, 2, 5 and 10 autocorrelations of the detrended increments
  (standardised by ``sigma``) are reported; near 0 means that no evaluated count predicts its neighbours beyond the
  trend (independent increments give about ``-1 / WINDOW`` at every lag, the detrending's own correlation).

Under that model, given the outputs at the evaluated counts, the curve inside an interval of ``n`` counts is a
random-walk bridge: its best estimate is the chord, and the error of the interval's sum has variance ``sigma^2 n^3 /
12``. Over placements of ``L`` intervals, ``sum_i sigma_i^2 n_i^3 / 12`` is smallest for interval lengths ``n(m)
proportional to sigma(m)^(-2/3)``, where it equals ``(sum_m sigma(m)^(2/3))^3 / (12 L^2)`` (Lagrange). Divided by
``M + 1`` (eq. 3 / 4 average over the counts) and by ``max(1, |exact|)`` this is the smallest root-mean-square
relative error of the criterion that any placement of ``L + 1`` points on that curve can have, adaptive or not: the
conditional variance of a Gaussian walk does not depend on the values observed, so choosing points from the values
gains nothing over this oracle that knows ``sigma`` in advance.

N-Ord reads the removing curve and S-Ord the adding curve (TPN and TPS read both and the two reversed curves too),
so a pair with ``B`` forwards in total has at most ``B / 2`` points on one of the two. The table states, per
budget of points on the criterion's own curve, the floor's quantiles over pairs, the share of pairs whose floor is
above a tolerance, and the probability (Gaussian errors at the floor, independent pairs) that EVERY pair stays
within the tolerance.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from benchmarks.harness import fmt, markdown_table

WINDOW = 31
"""Counts in the moving averages of the trend and of the local variance."""
LAGS: tuple[int, ...] = (1, 2, 5, 10)
"""Lags of the reported autocorrelations of the detrended increments."""
CURVES: dict[str, str] = {"n_ord": "necessity", "s_ord": "sufficiency"}
"""Criterion -> the :class:`repro.criteria.result.ImageCurves` curve it averages over ``m``."""


def moving_average(v: np.ndarray, window: int = WINDOW) -> np.ndarray:
    """Centred moving average of ``v`` over ``window`` (odd) samples, edges padded with the end values."""
    half = window // 2
    return np.convolve(np.pad(v, (half, half), mode="edge"), np.ones(window) / window, mode="valid")


def clipped_curve(criterion: str, curve: Any, yb: float) -> np.ndarray:
    """The exact curve as the criterion reads it: N-Ord ``max(y, y_b)``; S-Ord (printed) ``min(y, y_M)``."""
    y = np.asarray(curve.y, np.float64)
    return np.maximum(y, yb) if criterion == "n_ord" else np.minimum(y, y[-1])


def local_sigma2(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Detrended increments of ``y`` and their local variance ``sigma^2``, both ``(len(y) - 1,)``."""
    d = np.diff(y)
    r = d - moving_average(d)
    return r, moving_average(r * r)


def rms_floor(y: np.ndarray, intervals: int) -> float:
    """The smallest rms error of ``sum_m y(m)`` (an unnormalised eq. 3 / 4) over placements of ``intervals``
    intervals: ``sqrt((sum sigma^(2/3))^3 / (12 L^2))``."""
    _, s2 = local_sigma2(y)
    return math.sqrt(float(np.sum(np.cbrt(s2))) ** 3 / (12.0 * intervals ** 2))


def autocorrelations(exact_results: Mapping[str, Mapping[str, Any]],
                     min_counts: int = 8 * WINDOW) -> dict[int, np.ndarray]:
    """Lag -> the autocorrelation of the standardised detrended increments of every N-Ord / S-Ord curve with at
    least ``min_counts`` counts (constant curves skipped)."""
    out: dict[int, list[float]] = {lag: [] for lag in LAGS}
    for by_method in exact_results.values():
        for res in by_method.values():
            for cv in res.curves:
                for criterion, name in CURVES.items():
                    y = clipped_curve(criterion, getattr(cv, name), cv.yb)
                    if y.size < min_counts:
                        continue
                    r, s2 = local_sigma2(y)
                    z = r / np.sqrt(s2 + 1e-300)
                    for lag in LAGS:
                        a, b = z[:-lag], z[lag:]
                        if a.std() > 0 and b.std() > 0:
                            out[lag].append(float(np.corrcoef(a, b)[0, 1]))
    return {lag: np.asarray(v) for lag, v in out.items()}


def floors(exact_results: Mapping[str, Mapping[str, Any]], criterion: str, points: int) -> np.ndarray:
    """Per pair (all scores and methods) with ``M >= 2 points``, the relative rms floor of ``criterion`` with
    ``points`` evaluated counts on its curve (``points - 1`` intervals)."""
    out = []
    for by_method in exact_results.values():
        for res in by_method.values():
            for i, cv in enumerate(res.curves):
                M = cv.num_positive
                if M < 2 * points:
                    continue
                y = clipped_curve(criterion, getattr(cv, CURVES[criterion]), cv.yb)
                ref = float(getattr(res, criterion)[i])
                out.append(rms_floor(y, points - 1) / (M + 1) / max(1.0, abs(ref)))
    return np.asarray(out)


def all_within(floor: np.ndarray, tol: float) -> float:
    """Probability that every pair's error stays within ``tol`` if each is Gaussian with rms ``floor``."""
    exceed = np.array([math.erfc(tol / (f * math.sqrt(2.0))) if f > 0 else 0.0 for f in floor])
    return float(np.exp(np.sum(np.log1p(-np.minimum(exceed, 1.0)))))


def floor_section(exact_results: Mapping[str, Mapping[str, Any]], budgets: Sequence[int] = (62, 125, 250),
                  tol: float = 1e-3) -> str:
    """The markdown of the floor (see the module docstring): the autocorrelations, then per criterion and budget
    the floor's median / 90th percentile / largest, the share of pairs above ``tol`` and ``P(all within tol)``."""
    ac = autocorrelations(exact_results)
    ac_rows = [[lag, v.size, float(np.median(v)), float(np.quantile(v, 0.1)), float(np.quantile(v, 0.9))]
               for lag, v in ac.items() if v.size]
    rows = []
    for criterion in CURVES:
        for b in budgets:
            f = floors(exact_results, criterion, b)
            if not f.size:
                continue
            rows.append([criterion, b, f.size, float(np.median(f)), float(np.quantile(f, 0.9)), float(f.max()),
                         f"{np.mean(f > tol):.1%}", all_within(f, tol)])
    return "\n\n".join([
        "**The floor of any sampler** (`benchmarks/sampling_floor.py`, from exact mode's curves above, no forwards "
        "run): the detrended increments of the N-Ord and S-Ord curves are nearly uncorrelated (autocorrelation of "
        f"the increments minus their {WINDOW}-count moving average, standardised by their local rms):",
        markdown_table(["lag", "curves", "median", "10%", "90%"], ac_rows),
        "so between evaluated counts a curve is a random-walk bridge, and no placement of B points on a curve "
        "(adaptive or not, even one knowing each curve's local roughness in advance) has a smaller rms relative "
        "error than:",
        markdown_table(["criterion", "points on its curve (B)", "pairs", "median floor", "90% floor",
                        "largest floor", f"pairs with floor > {tol:g}", f"P(every pair within {tol:g})"], rows),
        f"N-Ord and S-Ord read different curves, so {2 * budgets[1]} forwards per pair leave one of them at most "
        f"{budgets[1]} points (and TPN / TPS need the reversed curves too): at the budget of issue "
        f"14 (<= 250 forwards per pair) a largest error <= {tol:g} over this set is out of reach for any sampler "
        f"of these curves; {fmt(budgets[-1])} points on ONE curve alone do not guarantee it either.",
    ])
