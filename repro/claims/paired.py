"""Paired comparisons by image: the Wilcoxon signed-rank test, its effect size, Holm's correction.

* :func:`signed_rank`: two samples paired by image (two methods on one criterion, or one method on two criteria,
  or one method's per-image ranks on two criteria). Pairs where either value is NaN are dropped and counted; zero
  differences are discarded (scipy's ``zero_method="wilcox"``). It reports the two-sided p-value and both
  one-sided ones (``p_lower``: H1 ``a < b``; ``p_higher``: H1 ``a > b``).
* Effect size, the matched-pairs rank-biserial correlation (Kerby 2014)::

      r = (R_below - R_above) / (R_below + R_above)

  with ``R_below`` / ``R_above`` the sums of the ranks of ``|a - b|`` over the images where ``a`` is below /
  above ``b`` (zero differences discarded, so the denominator is ``n (n + 1) / 2`` for the ``n`` non-zero
  differences). **Sign convention: r > 0 means ``a`` tends to be lower than ``b``**; ``r = 1``: ``a`` is lower on
  every image with a difference. :attr:`PairedTest.effect_better` turns it into the claimed direction (positive:
  ``a`` better, whichever way the criterion points).
* :func:`holm`: Holm's step-down adjusted p-values. The claims use it within each claim's family of tests
  (:mod:`repro.claims.rules`): a family is every test one claim makes, alpha 0.05.
* :func:`bootstrap_rank_biserial`: the rank-biserial of resampled images; :func:`drawn_rank_sums` the signed-rank
  sums of any drawn samples (:mod:`repro.claims.stability`); :func:`rank_biserial_upper`: the one-sided upper
  confidence bound of ``r`` that decides a "no better" claim; :func:`signed_rank_p_lower`: vectorised p-values.

Which way is better comes from :data:`repro.vocabulary.LOWER_IS_BETTER`, extended with the derived column
``neg_s_ord`` (``-S-Ord``, lower is better: the class-score shortfall of eq. 4, in the units of N-Ord; never the
``+1``-shifted ``1 - S-Ord``) in :data:`LOWER_IS_BETTER_ALL`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from repro.vocabulary import CRITERION_LABELS, LOWER_IS_BETTER

ALPHA = 0.05
"""Significance level of every test, after Holm's correction within the claim's family."""

LOWER_IS_BETTER_ALL: dict[str, bool] = {**LOWER_IS_BETTER, "neg_s_ord": True}
""":data:`repro.vocabulary.LOWER_IS_BETTER` and the derived column ``neg_s_ord`` (``-S-Ord``)."""
LABELS: dict[str, str] = {**CRITERION_LABELS, "neg_s_ord": "-S-Ord"}
"""Criterion column (or derived column) -> label."""


@dataclass
class PairedTest:
    """Wilcoxon signed-rank test of sample ``a`` against sample ``b``, paired by image.

    Between methods: ``a`` and ``b`` are methods, both read on ``criterion``. Within a method: ``a == b`` is the
    method, ``a`` read on ``criterion`` and ``b`` on ``b_criterion``. ``ranks``: the samples are the method's
    per-image ranks among the compared methods (1 = best, so lower is better) instead of its values.

    ``rank_sum_below`` / ``rank_sum_above``: the signed-rank sums of the images where ``a`` is below / above
    ``b``. ``p_value`` is two-sided, ``p_lower`` / ``p_higher`` one-sided (NaN when every difference is 0).
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
    p_lower: float = math.nan
    p_higher: float = math.nan
    b_criterion: str | None = None
    ranks: bool = False

    @property
    def rank_biserial(self) -> float:
        """``(R_below - R_above) / (R_below + R_above)``: positive when ``a`` tends to be lower (NaN: no
        non-zero difference)."""
        total = self.rank_sum_below + self.rank_sum_above
        return (self.rank_sum_below - self.rank_sum_above) / total if total > 0 else math.nan

    @property
    def lower_is_better(self) -> bool:
        """Ranks: always; values: :data:`LOWER_IS_BETTER_ALL` of ``criterion`` (``b_criterion`` points the same way)."""
        return True if self.ranks else LOWER_IS_BETTER_ALL[self.criterion]

    @property
    def a_lower(self) -> bool:
        """The ranks say ``a`` is below ``b`` (more rank mass on the images where ``a < b``)."""
        return self.rank_sum_below > self.rank_sum_above

    @property
    def a_better(self) -> bool:
        """The ranks say ``a`` is better than ``b`` in the criterion's direction."""
        return self.a_lower if self.lower_is_better else self.rank_sum_above > self.rank_sum_below

    @property
    def effect_better(self) -> float:
        """The rank-biserial in the claimed direction: positive when ``a`` is better than ``b``."""
        return self.rank_biserial if self.lower_is_better else -self.rank_biserial

    @property
    def p_better(self) -> float:
        """One-sided p-value of H1 "``a`` better than ``b``"."""
        return self.p_lower if self.lower_is_better else self.p_higher

    @property
    def p_worse(self) -> float:
        """One-sided p-value of H1 "``a`` worse than ``b``"."""
        return self.p_higher if self.lower_is_better else self.p_lower

    def significant_lower(self, alpha: float = ALPHA) -> bool:
        """``a`` is lower than ``b``: one-sided p below ``alpha`` (uncorrected)."""
        return _below(self.p_lower, alpha)

    def significant_better(self, alpha: float = ALPHA) -> bool:
        """``a`` is better than ``b``: one-sided p below ``alpha`` (uncorrected)."""
        return _below(self.p_better, alpha)

    @property
    def label_a(self) -> str:
        return _side(self.a, self.criterion, self.ranks)

    @property
    def label_b(self) -> str:
        return _side(self.b, self.b_criterion or self.criterion, self.ranks)


def _side(method: str, criterion: str, ranks: bool) -> str:
    from repro.vocabulary import display_name

    return f"{display_name(method)} {LABELS.get(criterion, criterion)}" + (" rank" if ranks else "")


def _below(p: float, alpha: float) -> bool:
    return not math.isnan(p) and p < alpha


def signed_rank(xa: np.ndarray, xb: np.ndarray, a: str, b: str, criterion: str, b_criterion: str | None = None,
                ranks: bool = False) -> PairedTest:
    """Wilcoxon signed-rank test of ``xa`` against ``xb`` (same length, paired by position; NaN pairs dropped)."""
    from scipy import stats

    xa, xb = np.asarray(xa, dtype=np.float64), np.asarray(xb, dtype=np.float64)
    present = ~(np.isnan(xa) & np.isnan(xb))  # images where at least one of the two has a value
    both = ~np.isnan(xa) & ~np.isnan(xb)
    d = xa[both] - xb[both]
    nonzero = d[d != 0]
    rank = stats.rankdata(np.abs(nonzero)) if nonzero.size else np.zeros(0)
    below, above = float(rank[nonzero < 0].sum()), float(rank[nonzero > 0].sum())
    p = {"two-sided": math.nan, "less": math.nan, "greater": math.nan}
    statistic = math.nan
    if nonzero.size:
        for alternative in p:
            result = stats.wilcoxon(xa[both], xb[both], zero_method="wilcox", alternative=alternative)
            p[alternative] = float(result.pvalue)
            if alternative == "two-sided":
                statistic = float(result.statistic)
    return PairedTest(a, b, criterion, int(both.sum()), int(present.sum() - both.sum()), int(nonzero.size),
                      float(np.median(d)) if d.size else math.nan, below, above, statistic, p["two-sided"],
                      p["less"], p["greater"], b_criterion, ranks)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input order.

    With the ``m`` p-values sorted ascending, ``adj_(i) = max_{j <= i} min(1, (m - j + 1) p_(j))``; a hypothesis
    is rejected at level alpha when its adjusted p is below alpha. A NaN p-value (no non-zero difference) counts
    in ``m``, is treated as 1 and stays NaN.
    """
    p = np.array([1.0 if math.isnan(v) else float(v) for v in p_values])
    m = p.size
    out = np.empty(m)
    running = 0.0
    for rank, i in enumerate(np.argsort(p, kind="stable")):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return [math.nan if math.isnan(v) else float(a) for v, a in zip(p_values, out)]


def all_rejected(adjusted: Sequence[float], alpha: float = ALPHA) -> bool:
    """Every adjusted p-value is below ``alpha`` (False for an empty family)."""
    return bool(adjusted) and all(_below(p, alpha) for p in adjusted)


def draw_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """``(B, n)`` how many times each of ``n`` images is drawn in each sample of ``idx`` (``(B, m)`` indices)."""
    idx = np.asarray(idx)
    size = idx.shape[0]
    return np.bincount((idx + n * np.arange(size)[:, None]).ravel(), minlength=size * n).reshape(size, n).astype(
        np.float64)


def drawn_rank_sums(d: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The signed-rank statistics of the paired differences ``d`` in drawn samples: row ``k`` of ``counts``
    (:func:`draw_counts`, ``(B, n)``) says how often each image is drawn in sample ``k``. NaN differences (a value
    missing) and zero differences are discarded in each sample, as in :func:`signed_rank`.

    Ranks come from the draw counts over ``|d|`` sorted once: a tie group of ``g`` drawn values ending at
    position ``c`` of the sample has the average rank ``c - (g - 1) / 2`` (what ``rankdata`` gives).

    Returns:
        ``(R_below, R_above, n_nonzero, ties)``, each ``(B,)``: the rank sums of the differences below / above 0,
        how many non-zero differences, and the tie term ``sum (g^3 - g)`` over the tie groups of the sample.
    """
    d = np.asarray(d, dtype=np.float64)
    if d.size == 0:
        zeros = np.zeros(counts.shape[0])
        return zeros, zeros.copy(), zeros.copy(), zeros.copy()
    usable = ~np.isnan(d) & (d != 0)
    order = np.argsort(np.where(np.isnan(d), np.inf, np.abs(d)), kind="stable")
    order = order[usable[order]]  # only non-zero, finite differences are ranked
    ordered, magnitude = d[order], np.abs(d[order])
    if order.size == 0:
        zeros = np.zeros(counts.shape[0])
        return zeros, zeros.copy(), zeros.copy(), zeros.copy()
    starts = np.flatnonzero(np.r_[True, magnitude[1:] != magnitude[:-1]])  # tie groups of |d|
    drawn = counts[:, order]
    group = np.add.reduceat(drawn, starts, axis=1)
    rank = np.cumsum(group, axis=1) - (group - 1) / 2
    below = (rank * np.add.reduceat(drawn * (ordered < 0), starts, axis=1)).sum(axis=1)
    above = (rank * np.add.reduceat(drawn * (ordered > 0), starts, axis=1)).sum(axis=1)
    return below, above, group.sum(axis=1), (group ** 3 - group).sum(axis=1)


def bootstrap_rank_biserial(d: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The rank-biserial ``r`` of ``resamples`` bootstrap samples of the paired differences ``d`` (images drawn
    with replacement, :func:`drawn_rank_sums`; NaN: all zero in a sample)."""
    d = np.asarray(d, dtype=np.float64)
    out = np.full(resamples, math.nan)
    if d.size == 0:
        return out
    n = d.size
    rng = np.random.default_rng(seed)
    chunk = max(1, 2_000_000 // n)
    for start in range(0, resamples, chunk):
        stop = min(start + chunk, resamples)
        below, above, _, _ = drawn_rank_sums(d, draw_counts(rng.integers(0, n, size=(stop - start, n)), n))
        total = below + above
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start:stop] = np.where(total > 0, (below - above) / total, math.nan)
    return out


def rank_biserial_upper(r: np.ndarray | float, n: np.ndarray | float, level: float = 1 - ALPHA) -> np.ndarray:
    """One-sided upper confidence bound of a matched-pairs rank-biserial ``r`` over ``n`` non-zero differences:
    ``r + z_level * sqrt(2 (2n + 1) / (3 n (n + 1)))``, the normal approximation of the signed-rank statistic
    (``r = 1 - 2 R_above / S`` with ``S = n (n + 1) / 2`` and ``Var R_above = n (n + 1) (2n + 1) / 24`` under no
    effect). The null variance is the exact one where a "not better" decision is taken (``r`` near a small
    margin) and an overestimate for ``|r|`` near 1, so the bound is conservative. ``n = 0`` (no difference at
    all): ``r`` is taken as 0 and the bound is 0. Works element-wise on arrays."""
    from scipy.stats import norm

    r, n = np.asarray(r, dtype=np.float64), np.asarray(n, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(2 * (2 * n + 1) / (3 * n * (n + 1)))
    return np.where(n > 0, np.nan_to_num(r) + norm.ppf(level) * se, 0.0)


def signed_rank_p_lower(below: np.ndarray, above: np.ndarray, n: np.ndarray, ties: np.ndarray) -> np.ndarray:
    """One-sided p-value of H1 "``a`` below ``b``" from signed-rank sums (:func:`drawn_rank_sums`), normal
    approximation with the tie correction (scipy's ``method="approx"``, no continuity correction): ``z = (R_above
    - n (n + 1) / 4) / sd``, ``sd^2 = n (n + 1) (2n + 1) / 24 - ties / 48``, ``p = Phi(z)``; NaN where ``n = 0``."""
    from scipy.stats import norm

    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - ties / 48)
        z = (above - n * (n + 1) / 4) / sd
    return np.where(n > 0, norm.cdf(z), math.nan)


def bootstrap_p_at_least(samples: np.ndarray, bound: float) -> float:
    """Bootstrap p-value of H0 "the statistic is >= ``bound``": ``(1 + #{samples >= bound}) / (1 + B)`` over the
    ``B`` finite samples (1 when none is finite)."""
    samples = np.asarray(samples, dtype=np.float64)
    samples = samples[~np.isnan(samples)]
    return float((1 + np.sum(samples >= bound)) / (1 + samples.size)) if samples.size else 1.0
