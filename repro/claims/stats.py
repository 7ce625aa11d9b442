"""The statistics behind every claim: per-method medians with bootstrap CIs, and paired signed-rank tests.

* :func:`method_stats`: one method's distribution of one criterion over images, rows whose criterion is NaN dropped
  and counted: the median, its percentile bootstrap 95% confidence interval (:func:`bootstrap_median_ci`: seeded,
  ``resamples`` draws of the images with replacement) and the quartiles (numpy's linear quantiles).
* :func:`paired_test`: a two-sided Wilcoxon signed-rank test of two methods paired by ``image_id`` (images where
  either value is NaN are dropped and counted; zero differences are discarded, scipy's ``zero_method="wilcox"``).
* :class:`StatsMemo`: the per-table cache the claims of one evaluation share. Every bootstrap is seeded with the
  same seed, so a cached entry is exactly what recomputing it would give.

Which way is better comes only from :data:`repro.vocabulary.LOWER_IS_BETTER`
(:meth:`PairedTest.significant_better`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from repro.errors import ReproError
from repro.results import ResultsTable
from repro.vocabulary import LOWER_IS_BETTER

ALPHA = 0.05
"""Two-sided significance level of the paired tests."""
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


@dataclass
class PairedTest:
    """Wilcoxon signed-rank test of ``a`` against ``b`` on one criterion, paired by image.

    ``rank_sum_below`` / ``rank_sum_above``: the signed-rank sums of the images where ``a`` is below / above ``b``
    (``a_lower`` when the first is larger). ``p_value`` is two-sided (NaN when every paired difference is 0).
    """

    a: str
    b: str
    criterion: str
    n_pairs: int
    dropped: int
    n_nonzero: int
    median_difference: float
    rank_sum_below: float
    rank_sum_above: float
    statistic: float
    p_value: float

    @property
    def a_lower(self) -> bool:
        """The ranks say ``a`` is below ``b`` (more rank mass on the images where ``a < b``)."""
        return self.rank_sum_below > self.rank_sum_above

    @property
    def a_better(self) -> bool:
        """The ranks say ``a`` is better than ``b`` in the criterion's direction (:data:`LOWER_IS_BETTER`)."""
        return self.a_lower if LOWER_IS_BETTER[self.criterion] else self.rank_sum_above > self.rank_sum_below

    def significant_lower(self, alpha: float = ALPHA) -> bool:
        """``a`` is lower than ``b`` with two-sided p below ``alpha``."""
        return bool(self.a_lower and self._significant(alpha))

    def significant_better(self, alpha: float = ALPHA) -> bool:
        """``a`` is better than ``b`` (:attr:`a_better`) with two-sided p below ``alpha``."""
        return bool(self.a_better and self._significant(alpha))

    def _significant(self, alpha: float) -> bool:
        return not math.isnan(self.p_value) and self.p_value < alpha


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
    return _bootstrap(values, np.median, resamples, seed, level)


def bootstrap_iqr_ci(values: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                     level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the interquartile range (see :func:`bootstrap_median_ci`)."""
    def iqr(a, axis):
        q1, q3 = np.quantile(a, [0.25, 0.75], axis=axis)
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
        stats[start:stop] = statistic(values[idx], axis=1)
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(stats, [tail, 1.0 - tail])
    return float(low), float(high)


def finite_values(table: ResultsTable, criterion: str, method: str) -> tuple[np.ndarray, int]:
    """``method``'s finite values of ``criterion`` over images, in table order, and how many NaN rows were dropped."""
    values = np.asarray(table.filter(method=method).column(criterion), dtype=np.float64)
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


def paired_test(table: ResultsTable, criterion: str, a: str, b: str, pivot: Pivot | None = None) -> PairedTest:
    """Two-sided Wilcoxon signed-rank test of methods ``a`` vs ``b`` on ``criterion``, paired by ``image_id``.

    Images lacking a finite value for either method are dropped and counted in ``dropped``. ``pivot``: the
    result of ``table.pivot(criterion)`` if already computed (it is rebuilt otherwise).

    Raises:
        ReproError: ``a`` or ``b`` is not in the table.
    """
    from scipy import stats

    _, methods, matrix = pivot if pivot is not None else table.pivot(criterion)
    for m in (a, b):
        if m not in methods:
            raise ReproError(f"method {m!r} is not in the results table (methods: {', '.join(methods)})")
    xa, xb = matrix[:, methods.index(a)], matrix[:, methods.index(b)]
    present = ~(np.isnan(xa) & np.isnan(xb))  # images where at least one of the two has a row
    both = ~np.isnan(xa) & ~np.isnan(xb)
    d = xa[both] - xb[both]
    nonzero = d[d != 0]
    ranks = stats.rankdata(np.abs(nonzero)) if nonzero.size else np.zeros(0)
    below, above = float(ranks[nonzero < 0].sum()), float(ranks[nonzero > 0].sum())
    if nonzero.size == 0:
        statistic, p_value = math.nan, math.nan
    else:
        result = stats.wilcoxon(xa[both], xb[both], zero_method="wilcox", alternative="two-sided")
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return PairedTest(a, b, criterion, int(both.sum()), int(present.sum() - both.sum()), int(nonzero.size),
                      float(np.median(d)) if d.size else math.nan, below, above, statistic, p_value)


class StatsMemo:
    """One table's :func:`method_stats` by ``(criterion, method)`` and ``table.pivot`` by criterion, each computed
    once and shared by the claims of one evaluation (same numbers as a direct call with the same settings)."""

    def __init__(self, table: ResultsTable, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED):
        self.table, self.resamples, self.seed = table, resamples, seed
        self._stats: dict[tuple[str, str], MethodStats] = {}
        self._pivots: dict[str, Pivot] = {}

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

    def paired_test(self, criterion: str, a: str, b: str) -> PairedTest:
        """:func:`paired_test` of ``a`` vs ``b`` on ``criterion`` over the cached pivot."""
        if criterion not in self._pivots:
            self._pivots[criterion] = self.table.pivot(criterion)
        return paired_test(self.table, criterion, a, b, pivot=self._pivots[criterion])
