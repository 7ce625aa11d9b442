"""The statistics behind every claim over a results table: medians with bootstrap CIs, paired tests by image,
per-image ranks, and the memo the claims of one evaluation share.

* :func:`method_stats`: one method's distribution of one criterion over images, rows whose criterion is NaN dropped
  and counted: the median, its percentile bootstrap 95% confidence interval (:func:`bootstrap_median_ci`: seeded,
  ``resamples`` draws of the images with replacement) and the quartiles (numpy's linear quantiles).
* :func:`paired_test`: the Wilcoxon signed-rank test of two methods on one criterion, paired by ``image_id``
  (:func:`repro.claims.paired.signed_rank`: two-sided and one-sided p, the rank-biserial effect size).
* :func:`per_image_ranks`: each method's rank among the compared methods on each image (1 = best, ties averaged),
  which makes a method's standing on two criteria comparable (within-method claims).
* :class:`StatsMemo`: the per-table cache the claims of one evaluation share, and the evaluation's settings
  (bootstrap ``resamples`` and ``seed``; the claim readings, e.g. ``tp_claims``, the reading of the proportionality
  claims). Every
  bootstrap is seeded with the same seed, so a cached entry is exactly what recomputing it would give.

Columns: the criteria of ``results.csv`` and the derived ``neg_s_ord`` (``-S-Ord``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from repro.claims.paired import ALPHA, LOWER_IS_BETTER_ALL, PairedTest, signed_rank
from repro.errors import ReproError
from repro.readings import CLAIM_READINGS, DEFAULTS, READINGS
from repro.results import ResultsTable

__all__ = ["ALPHA", "DEFAULT_RESAMPLES", "DEFAULT_SEED", "MethodStats", "StatsMemo", "bootstrap_iqr_ci",
           "bootstrap_median_ci", "finite_values", "method_stats", "paired_test", "per_image_ranks"]

DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0

Pivot = tuple[list[str], list[str], np.ndarray]
"""``ResultsTable.pivot(criterion)``: image ids, methods, ``(images, methods)`` values."""


@dataclass
class MethodStats:
    """One method's distribution of one criterion over images (NaN rows dropped)."""

    method: str
    criterion: str
    n: int
    dropped: int
    median: float
    ci_low: float
    ci_high: float
    q1: float
    q3: float

    @property
    def iqr(self) -> float:
        """Interquartile range ``q3 - q1`` (numpy's linear quantiles)."""
        return self.q3 - self.q1


def bootstrap_median_ci(values: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                        level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the median.

    Args:
        values: ``(n,)`` finite values (NaN already dropped).
        resamples: number of bootstrap samples of size ``n`` drawn with replacement.
        seed: seed of ``numpy.random.default_rng``; the same inputs give the same interval.
        level: coverage of the interval.
    Returns:
        ``(low, high)``; ``(nan, nan)`` for an empty input.
    Raises:
        ValueError: NaN in ``values`` or ``resamples < 1``.
    """
    return _bootstrap(values, lambda v, idx: np.median(v[idx], axis=1), resamples, seed, level)


def bootstrap_iqr_ci(values: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                     level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the interquartile range (see :func:`bootstrap_median_ci`)."""
    def iqr(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
        q1, q3 = np.quantile(values[idx], [0.25, 0.75], axis=1)
        return q3 - q1
    return _bootstrap(values, iqr, resamples, seed, level)



def _bootstrap(values: np.ndarray, statistic: Callable, resamples: int, seed: int,
               level: float) -> tuple[float, float]:
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        return math.nan, math.nan
    if np.isnan(values).any():
        raise ValueError("bootstrap input contains NaN; drop NaN rows first")
    if resamples < 1:
        raise ValueError(f"resamples must be >= 1, got {resamples}")
    rng = np.random.default_rng(seed)
    stats = np.empty(resamples)
    chunk = max(1, 2_000_000 // values.size)  # bound memory for the 9600-image table
    for start in range(0, resamples, chunk):
        stop = min(start + chunk, resamples)
        idx = rng.integers(0, values.size, size=(stop - start, values.size))
        stats[start:stop] = statistic(values, idx)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return float(low), float(high)


def _column(table: ResultsTable, criterion: str) -> np.ndarray:
    """A criterion column as floats; ``neg_s_ord`` is ``-s_ord``."""
    if criterion == "neg_s_ord":
        return -np.asarray(table.column("s_ord"), dtype=np.float64)
    return np.asarray(table.column(criterion), dtype=np.float64)


def finite_values(table: ResultsTable, criterion: str, method: str) -> tuple[np.ndarray, int]:
    """``method``'s finite values of ``criterion`` over images, in table order, and how many NaN rows were dropped."""
    values = _column(table.filter(method=method), criterion)
    finite = values[~np.isnan(values)]
    return finite, int(values.size - finite.size)


def method_stats(table: ResultsTable, criterion: str, method: str, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED) -> MethodStats:
    """Median (with bootstrap CI) and quartiles of ``criterion`` for ``method`` over images, NaN rows dropped."""
    finite, dropped = finite_values(table, criterion, method)
    if finite.size == 0:
        nan = math.nan
        return MethodStats(method, criterion, 0, dropped, nan, nan, nan, nan, nan)
    low, high = bootstrap_median_ci(finite, resamples, seed)
    q1, q3 = np.quantile(finite, [0.25, 0.75])
    return MethodStats(method, criterion, int(finite.size), dropped, float(np.median(finite)), low, high,
                       float(q1), float(q3))



def _pivot(table: ResultsTable, criterion: str) -> Pivot:
    if criterion == "neg_s_ord":
        ids, methods, matrix = table.pivot("s_ord")
        return ids, methods, -matrix
    return table.pivot(criterion)


def _pivot_column(pivot: Pivot, method: str) -> np.ndarray:
    _, methods, matrix = pivot
    if method not in methods:
        raise ReproError(f"method {method!r} is not in the results table (methods: {', '.join(methods)})")
    return matrix[:, methods.index(method)]


def paired_test(table: ResultsTable, criterion: str, a: str, b: str, pivot: Pivot | None = None) -> PairedTest:
    """Wilcoxon signed-rank test of methods ``a`` vs ``b`` on ``criterion``, paired by ``image_id``.

    Images lacking a finite value for either method are dropped and counted in ``dropped``. ``pivot``: the
    result of ``table.pivot(criterion)`` if already computed (it is rebuilt otherwise).

    Raises:
        ReproError: ``a`` or ``b`` is not in the table.
    """
    pivot = pivot if pivot is not None else _pivot(table, criterion)
    return signed_rank(_pivot_column(pivot, a), _pivot_column(pivot, b), a, b, criterion)


def per_image_ranks(pivot: Pivot, criterion: str, methods: Sequence[str]) -> np.ndarray:
    """``(images, len(methods))``: each method's rank among ``methods`` on each image, 1 = best in the criterion's
    direction, ties averaged; NaN where the method's value is NaN (it is not ranked on that image)."""
    from scipy import stats

    matrix = np.stack([_pivot_column(pivot, m) for m in methods], axis=1)
    oriented = matrix if LOWER_IS_BETTER_ALL[criterion] else -matrix
    if oriented.size == 0:
        return oriented
    return stats.rankdata(oriented, axis=1, nan_policy="omit")


class StatsMemo:
    """One table's :func:`method_stats`, pivots, per-image ranks and paired tests, each computed once and shared by
    the claims of one evaluation (same numbers as a direct call with the same settings).

    Args:
        table: the one-row-per-(image, method) table of one reading.
        resamples, seed: bootstrap settings.
        claim_readings: the readings of :data:`repro.readings.CLAIM_READINGS` (``tp_claims="within"``,
            ``relative_claims="most"``); the others keep their defaults.
    """

    def __init__(self, table: ResultsTable, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                 **claim_readings: str):
        unknown = set(claim_readings) - set(CLAIM_READINGS)
        if unknown:
            raise ValueError(f"unknown claim reading(s) {sorted(unknown)}; choose from {', '.join(CLAIM_READINGS)}")
        readings = {**{name: DEFAULTS[name] for name in CLAIM_READINGS}, **claim_readings}
        for name, value in readings.items():
            if value not in READINGS[name]:
                raise ValueError(f"{name} must be one of {', '.join(READINGS[name])}, got {value!r}")
        self.table, self.resamples, self.seed = table, resamples, seed
        self.claim_readings: dict[str, str] = readings
        self._stats: dict[tuple[str, str], MethodStats] = {}
        self._pivots: dict[str, Pivot] = {}
        self._ranks: dict[tuple[str, tuple[str, ...]], np.ndarray] = {}
        self._tests: dict[tuple, PairedTest] = {}

    @property
    def tp_claims(self) -> str:
        """The reading of the proportionality claims (:data:`repro.readings.READINGS`)."""
        return self.claim_readings["tp_claims"]

    @property
    def relative_claims(self) -> str:
        """The reading of "relatively better" (:data:`repro.readings.READINGS`)."""
        return self.claim_readings["relative_claims"]

    def with_claim_readings(self, **claim_readings: str) -> "StatsMemo":
        """A memo of the same table and bootstrap settings with other claim readings, sharing every cache (the
        numbers do not depend on how the claims read them)."""
        other = StatsMemo(self.table, self.resamples, self.seed, **{**self.claim_readings, **claim_readings})
        other._stats, other._pivots, other._ranks, other._tests = self._stats, self._pivots, self._ranks, self._tests
        return other

    def missing(self, methods: Sequence[str]) -> list[str]:
        """The methods of ``methods`` that have no row in the table, in the given order."""
        present = set(self.table.methods)
        return [m for m in methods if m not in present]

    def stats(self, criterion: str, methods: Sequence[str]) -> dict[str, MethodStats]:
        """method -> :class:`MethodStats` of ``criterion``, in the order of ``methods``."""
        out = {}
        for m in methods:
            if (criterion, m) not in self._stats:
                self._stats[criterion, m] = method_stats(self.table, criterion, m, self.resamples, self.seed)
            out[m] = self._stats[criterion, m]
        return out

    def pivot(self, criterion: str) -> Pivot:
        """``table.pivot(criterion)`` (``neg_s_ord``: of ``-s_ord``), cached."""
        if criterion not in self._pivots:
            self._pivots[criterion] = _pivot(self.table, criterion)
        return self._pivots[criterion]

    def values(self, criterion: str, method: str) -> np.ndarray:
        """``method``'s values of ``criterion`` by image (the pivot's column, NaN where missing)."""
        return _pivot_column(self.pivot(criterion), method)

    def ranks(self, criterion: str, method: str, pool: Sequence[str]) -> np.ndarray:
        """``method``'s per-image rank among ``pool`` on ``criterion`` (:func:`per_image_ranks`)."""
        key = (criterion, tuple(pool))
        if key not in self._ranks:
            self._ranks[key] = per_image_ranks(self.pivot(criterion), criterion, pool)
        return self._ranks[key][:, list(pool).index(method)]

    def paired_test(self, criterion: str, a: str, b: str) -> PairedTest:
        """:func:`paired_test` of ``a`` vs ``b`` on ``criterion`` over the cached pivot."""
        key = ("between", criterion, a, b)
        if key not in self._tests:
            self._tests[key] = paired_test(self.table, criterion, a, b, pivot=self.pivot(criterion))
        return self._tests[key]

    def within_test(self, method: str, criterion: str, b_criterion: str,
                    pool: Sequence[str] | None = None) -> PairedTest:
        """One method's ``criterion`` against its ``b_criterion``, paired by image: its values (``pool`` None; the
        two columns must point the same way) or its per-image ranks among ``pool``."""
        key = ("within", method, criterion, b_criterion, tuple(pool) if pool is not None else None)
        if key not in self._tests:
            if pool is None:
                if LOWER_IS_BETTER_ALL[criterion] != LOWER_IS_BETTER_ALL[b_criterion]:
                    raise ValueError(f"{criterion} and {b_criterion} point different ways; compare ranks or use "
                                     "neg_s_ord")
                xa, xb = self.values(criterion, method), self.values(b_criterion, method)
            else:
                xa, xb = self.ranks(criterion, method, pool), self.ranks(b_criterion, method, pool)
            self._tests[key] = signed_rank(xa, xb, method, method, criterion, b_criterion, ranks=pool is not None)
        return self._tests[key]
