"""How stable each verdict is: the claims re-decided on bootstrap samples of the images.

A verdict on 120 images may rest on a handful of them. For each claim, :func:`verdict_stability` draws
``resamples`` samples of the table's images with replacement (seeded) and re-decides the claim's verdict on each;
the **stability** is the share of samples whose verdict equals the verdict on the full table. Subsampling (the
m-out-of-n bootstrap: samples of ``m < n`` images drawn with replacement) gives, per claim, the **smallest number
of images** at which the verdict is the same in at least :data:`STABLE` of the samples, so a reader of a
120-image run can tell whether more images would be expected to change it.

Each rule re-decides its verdict on all samples at once (:data:`KERNELS`, numpy over ``(samples, images)``): the
same medians, IQRs, median ranks, rank-biserial bounds and per-image winners as the rule, with NaN values dropped
per method as the rule drops them. One rule decides on tests too slow to repeat thousands of times in their exact
form: ``no_method_significantly_better_on_all``, whose kernel uses the normal approximation of the signed-rank test
with the tie correction (:func:`repro.claims.paired.signed_rank_p_lower`) where scipy uses the exact distribution
(up to 50 pairs without ties) or a permutation test (ties, few pairs). On the full table every kernel gives the
rule's own verdict (tested).

Two verdicts are limited by power at small sizes, whatever the data: the inferential test of C3 cannot reject a
24-test Holm family at 10 images, so "holds" is certain there, and the no-difference bound of C7 is ``r + 0.59`` at
10 images, so "does not hold" is. Their "stable from" size says so rather than measuring the data (the report
notes it).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from repro.claims.overall import exclusive_verdicts, frequent_threshold
from repro.claims.paired import (
    ALPHA, LOWER_IS_BETTER_ALL, draw_counts, drawn_rank_sums, rank_biserial_upper, signed_rank_p_lower,
)
from repro.claims.rules import MIN_IMAGES, ClaimSpec, compared_methods, resolved
from repro.claims.stats import StatsMemo
from repro.claims.winners import NECESSITY, SUFFICIENCY, four_winners, winner_codes
from repro.claims.within import median_ranks
from repro.vocabulary import ordered_methods

STABLE = 0.95
"""A verdict is *stable* at a sample size when at least this share of the samples of that size give it."""


class Draws:
    """The images of ``memo.table`` at drawn positions: ``idx`` ``(B, m)``, row ``k`` one sample. Every statistic
    is computed for all ``B`` samples at once and cached."""

    def __init__(self, memo: StatsMemo, idx: np.ndarray):
        self.memo, self.idx = memo, np.asarray(idx)
        self._cache: dict[tuple, np.ndarray] = {}

    @property
    def size(self) -> int:
        return self.idx.shape[0]

    def _once(self, key: tuple, compute: Callable[[], np.ndarray]) -> np.ndarray:
        if key not in self._cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN samples give NaN, as the rules do
                self._cache[key] = compute()
        return self._cache[key]

    def values(self, criterion: str, method: str) -> np.ndarray:
        """``(B, m)`` the method's values of ``criterion`` at the drawn images (NaN where it has none)."""
        return self.memo.values(criterion, method)[self.idx]

    def _complete(self, criterion: str, method: str) -> bool:
        """No NaN in the method's column: the plain (much faster) numpy reductions give the NaN-aware result."""
        return not np.isnan(self.memo.values(criterion, method)).any()

    def median(self, criterion: str, method: str) -> np.ndarray:
        """``(B,)`` median over each sample's finite values."""
        reduce = np.median if self._complete(criterion, method) else np.nanmedian
        return self._once(("median", criterion, method), lambda: reduce(self.values(criterion, method), axis=1))

    def count(self, criterion: str, method: str) -> np.ndarray:
        """``(B,)`` how many finite values each sample holds."""
        return self._once(("count", criterion, method),
                          lambda: np.sum(~np.isnan(self.values(criterion, method)), axis=1).astype(np.float64))

    def iqr(self, criterion: str, method: str) -> np.ndarray:
        """``(B,)`` ``q3 - q1`` over each sample's finite values (numpy's linear quantiles, as the rules)."""
        def compute() -> np.ndarray:
            quantile = np.quantile if self._complete(criterion, method) else np.nanquantile
            q1, q3 = quantile(self.values(criterion, method), [0.25, 0.75], axis=1)
            return q3 - q1
        return self._once(("iqr", criterion, method), compute)

    def rank_sums(self, criterion: str, a: str, b: str) -> tuple[np.ndarray, ...]:
        """:func:`repro.claims.paired.drawn_rank_sums` of ``a - b`` on ``criterion``."""
        key, mirror = ("ranks", criterion, a, b), ("ranks", criterion, b, a)
        if key not in self._cache and mirror in self._cache:  # b - a: the rank sums below and above swap
            below, above, n, ties = self._cache[mirror]
            self._cache[key] = np.stack([above, below, n, ties])
        if key not in self._cache:
            d = self.memo.values(criterion, a) - self.memo.values(criterion, b)
            if ("counts",) not in self._cache:
                self._cache[("counts",)] = draw_counts(self.idx, d.size)
            self._cache[key] = np.stack(drawn_rank_sums(d, self._cache[("counts",)]))
        return tuple(self._cache[key])

    def effect_better(self, criterion: str, a: str, b: str) -> tuple[np.ndarray, np.ndarray]:
        """``(r_better, n_nonzero)``: the rank-biserial in ``a``'s favour (0 where no difference) and the number of
        non-zero differences of each sample."""
        below, above, n, _ = self.rank_sums(criterion, a, b)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(below + above > 0, (below - above) / (below + above), 0.0)
        return (r if LOWER_IS_BETTER_ALL[criterion] else -r), n


def _better(criterion: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a`` better than ``b`` element-wise in the criterion's direction (False where either is NaN)."""
    return np.less(a, b) if LOWER_IS_BETTER_ALL[criterion] else np.greater(a, b)


Kernel = Callable[[ClaimSpec, Draws], np.ndarray]
KERNELS: dict[str, Kernel] = {}
"""Rule name -> its verdict on every sample of a :class:`Draws`: ``(B,)`` 1.0 holds, 0.0 does not, NaN not
testable."""


def kernel(name: str) -> Callable[[Kernel], Kernel]:
    def register(fn: Kernel) -> Kernel:
        KERNELS[name] = fn
        return fn
    return register


def _every_pair(spec: ClaimSpec, draws: Draws, holds: Callable[[str, str, str], np.ndarray]) -> np.ndarray:
    """1.0 on the samples where ``holds(criterion, winner, other)`` for every criterion, winner and other of the
    record, else 0.0."""
    ok = np.ones(draws.size, dtype=bool)
    for c in spec.criteria:
        for w in spec.winners:
            for o in spec.others:
                ok &= holds(c, w, o)
    return ok.astype(np.float64)


@kernel("better_than_all")
def _better_than_all(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    return _every_pair(spec, draws, lambda c, w, o: _better(c, draws.median(c, w), draws.median(c, o)))


@kernel("most_pairs")
def _most_pairs(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    k, worse = int(spec.params.get("at_least", 1)), bool(spec.params.get("worse", False))
    ok = np.ones(draws.size, dtype=bool)
    for c in spec.criteria:
        for w in spec.winners:
            beaten = sum((_better(c, draws.median(c, o), draws.median(c, w)) if worse
                          else _better(c, draws.median(c, w), draws.median(c, o))).astype(int) for o in spec.others)
            ok &= beaten >= k
    return ok.astype(np.float64)


@kernel("not_better")
def _not_better(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    from repro.claims.between import NO_DIFFERENCE_MARGIN

    margin = float(spec.params.get("margin", NO_DIFFERENCE_MARGIN))
    return _every_pair(spec, draws, lambda c, w, o: rank_biserial_upper(*draws.effect_better(c, w, o)) < margin)


@kernel("iqr_below")
def _iqr_below(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    return _every_pair(spec, draws, lambda c, w, o: np.less(draws.iqr(c, w), draws.iqr(c, o)))


@kernel("rank_within")
def _rank_within(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    pool = ordered_methods([*spec.winners, *spec.others])
    if len(pool) < 2:
        return np.full(draws.size, math.nan)
    ranks = {c: median_ranks({m: draws.median(c, m) for m in pool}, c) for c in spec.tested_criteria}
    ok = np.ones(draws.size, dtype=bool)
    for m in spec.winners:
        for x, y in spec.params.get("pairs", ()):
            ok &= np.less(ranks[x][m], ranks[y][m])
    return ok.astype(np.float64)


def _best_index(draws: Draws, criterion: str, pool: Sequence[str]) -> np.ndarray:
    """``(B,)`` index into ``pool`` (paper order) of the best median, ties to the first; -1 where all are NaN."""
    med = np.stack([draws.median(criterion, m) for m in pool], axis=1)
    oriented = med if LOWER_IS_BETTER_ALL[criterion] else -med
    best = np.argmin(np.where(np.isnan(oriented), np.inf, oriented), axis=1)
    return np.where(np.all(np.isnan(med), axis=1), -1, best)


@kernel("no_method_best_on_all")
def _no_method_best_on_all(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    pool = ordered_methods(compared_methods(spec, draws.memo))
    if len(pool) < 2:
        return np.full(draws.size, math.nan)
    best = np.stack([_best_index(draws, c, pool) for c in spec.criteria], axis=1)
    differs = np.any(best != best[:, :1], axis=1)
    return np.where(np.any(best < 0, axis=1), np.nan, differs.astype(np.float64))


@kernel("no_method_significantly_better_on_all")
def _no_method_significantly_better(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    pool = compared_methods(spec, draws.memo)
    if len(pool) < 2:
        return np.full(draws.size, math.nan)
    dominated = np.zeros(draws.size, dtype=bool)
    for m in pool:
        p = []
        for c in spec.criteria:
            for o in pool:
                if o != m:
                    below, above, n, ties = draws.rank_sums(c, m, o)
                    p.append(signed_rank_p_lower(below, above, n, ties) if LOWER_IS_BETTER_ALL[c]
                             else signed_rank_p_lower(above, below, n, ties))
        p = np.sort(np.nan_to_num(np.stack(p, axis=1), nan=1.0), axis=1)
        # Holm rejects every hypothesis iff (m - i) p_(i) < alpha for every sorted position i
        dominated |= np.all(p * (p.shape[1] - np.arange(p.shape[1])) < ALPHA, axis=1)
    return (~dominated).astype(np.float64)


def _codes(draws: Draws, pool: Sequence[str]) -> dict[str, np.ndarray]:
    key = ("codes", tuple(pool))
    if key not in draws._cache:
        draws._cache[key] = winner_codes(draws.memo.table, pool)
    return draws._cache[key]


@kernel("no_frequent_winner_for_both")
def _no_frequent_winner(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    pool = compared_methods(spec, draws.memo)
    if len(pool) < 2:
        return np.full(draws.size, math.nan)
    codes = _codes(draws, pool)
    valid = four_winners(codes)[draws.idx]
    count = valid.sum(axis=1)
    threshold = frequent_threshold(spec, pool)
    ok = np.ones(draws.size, dtype=bool)
    for i in range(len(pool)):
        both = (np.any([codes[c] == i for c in NECESSITY], axis=0)
                & np.any([codes[c] == i for c in SUFFICIENCY], axis=0))[draws.idx] & valid
        ok &= both.sum(axis=1) <= threshold * count
    return np.where(count > 0, ok.astype(np.float64), np.nan)


@kernel("necessity_sufficiency_exclusive")
def _exclusive(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    pool = compared_methods(spec, draws.memo)
    if len(pool) < 2:
        return np.full(draws.size, math.nan)
    return exclusive_verdicts(_codes(draws, pool), len(pool), draws.idx)


def sample_verdicts(spec: ClaimSpec, draws: Draws) -> np.ndarray:
    """The claim's verdict on every sample of ``draws`` (1.0 / 0.0 / NaN), with the readings of ``draws.memo``:
    NaN on a sample where a compared method has fewer than :data:`~repro.claims.rules.MIN_IMAGES` finite values
    (the rule's own not-testable condition)."""
    spec = resolved(spec, draws.memo)
    if draws.memo.missing([*spec.winners, *spec.others]):
        return np.full(draws.size, math.nan)
    verdicts = KERNELS[spec.rule](spec, draws)
    short = np.zeros(draws.size, dtype=bool)
    for c in spec.tested_criteria:
        for m in compared_methods(spec, draws.memo):
            short |= draws.count(c, m) < MIN_IMAGES
    return np.where(short, np.nan, verdicts)


@dataclass
class Stability:
    """How often a claim's verdict survives resampling the images."""

    verdict: bool | None
    share: float
    """Share of the ``resamples`` bootstrap samples (all the images, drawn with replacement) whose verdict equals
    ``verdict`` (not testable on a sample counts as the same only when ``verdict`` is ``None``)."""
    resamples: int
    by_size: dict[int, float] = field(default_factory=dict)
    """Sample size -> the same share for samples of that many images (the m-out-of-n bootstrap)."""

    @property
    def smallest_stable(self) -> int | None:
        """The smallest sample size from which on every size tried is stable (share >= :data:`STABLE`); ``None``
        when even the full table is not."""
        sizes = sorted(self.by_size)
        stable = [n for i, n in enumerate(sizes) if all(self.by_size[k] >= STABLE for k in sizes[i:])]
        return stable[0] if stable else None


def subsample_sizes(n: int) -> list[int]:
    """The sample sizes tried: :data:`~repro.claims.rules.MIN_IMAGES` doubling while below ``n``, then ``n``."""
    sizes, m = [], MIN_IMAGES
    while m < n:
        sizes.append(m)
        m *= 2
    return [*sizes, n] if n else []


def _agreement(verdicts: np.ndarray, verdict: bool | None) -> float:
    same = np.isnan(verdicts) if verdict is None else verdicts == float(verdict)
    return float(np.mean(same)) if verdicts.size else math.nan


def verdict_stability(specs: Sequence[ClaimSpec], verdicts: dict[str, bool | None], memo: StatsMemo,
                      subsample: bool = False) -> dict[str, Stability]:
    """Claim id -> :class:`Stability` of its verdict (``verdicts``: the full table's) over ``memo.resamples``
    bootstrap samples; with ``subsample`` also over samples of each size of :func:`subsample_sizes`. The samples of
    each size are seeded with ``(memo.seed, size)``, so the full-size share is the same with or without
    subsampling, and every claim sees the same samples."""
    n = len(memo.table.image_ids)
    sizes = subsample_sizes(n) if subsample else [n]
    out = {spec.id: Stability(verdicts[spec.id], math.nan, memo.resamples) for spec in specs}
    for size in sizes:
        rng = np.random.default_rng([memo.seed, size])
        draws = Draws(memo, rng.integers(0, n, size=(memo.resamples, size)) if n else np.zeros((0, 0), int))
        for spec in specs:
            share = _agreement(sample_verdicts(spec, draws), verdicts[spec.id])
            if subsample:
                out[spec.id].by_size[size] = share
            if size == n:
                out[spec.id].share = share
    return out
