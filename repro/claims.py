"""The conclusions of Section 4.2 of the paper as testable statements over the results table.

Each :class:`Claim` quotes the paper, states exactly what is tested, and says whether it holds, with the
numbers: per method and criterion the median over images (rows whose criterion is NaN are dropped and counted),
a percentile bootstrap 95% confidence interval of the median (seeded, ``resamples`` draws of the images with
replacement), the quartiles, and for each pair of methods the claim compares a two-sided Wilcoxon signed-rank
test paired by ``image_id`` (images where either value is NaN are dropped and counted; zero differences are
discarded, scipy's ``zero_method="wilcox"``).

Reading of the paper (see also ``docs/criteria.md``):

* "holds" is decided by the medians, as the boxplots of Figure 5 the paper reads; the paired tests are reported
  beside it (``significant``: every comparison the claim rests on has two-sided p < 0.05 in the claimed
  direction), but do not decide it.
* Comparisons run over the seven attribution methods of Section 2.1; the Random baseline of Figure 4 is
  reported but is not one of "the others" (:data:`repro.attributions.BASELINES`).
* Lower is better for every criterion of Figure 5: N-Ord, 1 - S-Ord, TPN, TPS.

Besides the table claims, :func:`toy_checks` recomputes the paper's toy examples live through the criteria engine
(:func:`repro.criteria.evaluate`): Example 1 / Table 1 / Figure 3 and the linear model ``2 x1 + x2`` of
Section 3.5.

Usage::

    report = check_claims("results/embedded")          # writes claims.md and claims.json
    report.failed                                       # ids of claims that do not hold
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from repro.attributions import METHODS
from repro.errors import ReproError
from repro.io import atomic_write_json, atomic_write_text, read_json
from repro.results import ResultsTable, read_results
from repro.vocabulary import BASELINES, CRITERIA, CRITERION_LABELS, display_name

ALPHA = 0.05
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 0

SM, IG, SG, DL, LRP, GB, GC = ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                               "guided_backprop", "gradcam")
ATTRIBUTION_METHODS: tuple[str, ...] = tuple(m for m in METHODS if m not in BASELINES)
"""The seven attribution methods of Section 2.1, in the paper's order (SM, IG, SG, DeepLIFT, LRP, GB, GradCAM)."""


# ----------------------------------------------------------------------------------------------- statistics

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
        return self.rank_sum_below > self.rank_sum_above

    def significant_lower(self, alpha: float = ALPHA) -> bool:
        """``a`` is lower than ``b`` with two-sided p below ``alpha``."""
        return bool(self.a_lower and not math.isnan(self.p_value) and self.p_value < alpha)


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
    """
    return _bootstrap(values, np.median, resamples, seed, level)


def bootstrap_iqr_ci(values: np.ndarray, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                     level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the interquartile range (see :func:`bootstrap_median_ci`)."""
    def iqr(a, axis):
        q1, q3 = np.quantile(a, [0.25, 0.75], axis=axis)
        return q3 - q1
    return _bootstrap(values, iqr, resamples, seed, level)


def _bootstrap(values, statistic, resamples, seed, level) -> tuple[float, float]:
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


def method_stats(table: ResultsTable, criterion: str, method: str, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED) -> MethodStats:
    """Median (with bootstrap CI) and quartiles of ``criterion`` for ``method`` over images, NaN rows dropped."""
    values = np.asarray(table.filter(method=method).column(criterion), dtype=np.float64)
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        nan = math.nan
        return MethodStats(method, criterion, 0, int(values.size), nan, nan, nan, nan, nan)
    low, high = bootstrap_median_ci(finite, resamples, seed)
    q1, q3 = np.quantile(finite, [0.25, 0.75])
    return MethodStats(method, criterion, int(finite.size), int(values.size - finite.size), float(np.median(finite)),
                       low, high, float(q1), float(q3))


def paired_test(table: ResultsTable, criterion: str, a: str, b: str,
                pivot: tuple[list[str], list[str], np.ndarray] | None = None) -> PairedTest:
    """Two-sided Wilcoxon signed-rank test of methods ``a`` vs ``b`` on ``criterion``, paired by ``image_id``.

    Images lacking a finite value for either method are dropped and counted in ``dropped``. ``pivot``: the
    result of ``table.pivot(criterion)`` if already computed (it is rebuilt otherwise).
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


# ----------------------------------------------------------------------------------------------- claims

@dataclass
class Claim:
    """One testable statement. ``holds`` is ``None`` when it cannot be tested (a method is missing)."""

    id: str
    paper: str
    statement: str
    holds: bool | None
    detail: str
    significant: bool | None = None
    stats: list[MethodStats] = field(default_factory=list)
    tests: list[PairedTest] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class ToyCheck:
    """A toy-example number of the paper recomputed through the criteria engine."""

    id: str
    paper: str
    statement: str
    expected: Any
    computed: Any
    holds: bool


@dataclass
class ClaimsReport:
    """All claims and toy checks of one results directory."""

    results_dir: str
    profile: str
    num_rows: int
    num_images: int
    methods: list[str]
    resamples: int
    seed: int
    claims: list[Claim]
    toys: list[ToyCheck]
    strict: bool = False
    """Fail (``exit_code`` 1) on any failed claim whatever the profile."""

    @property
    def exit_code(self) -> int:
        """1 when a check fails on the paper profile (or with ``strict``), else 0: the embedded profile reports."""
        return 1 if self.failed and (self.profile == "paper" or self.strict) else 0

    def summary(self) -> str:
        """A few lines for the terminal: one per check and the overall verdict."""
        lines = [f"claims of Section 4.2 on {self.results_dir} (profile {self.profile}, {self.num_images} images):"]
        for c in self.claims:
            lines.append(f"  {_verdict(c.holds):14s} {c.id}: {c.detail}")
        for t in self.toys:
            lines.append(f"  {_verdict(t.holds):14s} {t.id} (toy example)")
        n = len(self.claims) + len(self.toys)
        failed = self.failed
        verdict = f"{n - len(failed)} of {n} checks hold"
        if failed and not self.exit_code:
            verdict += " (reported only: the embedded profile is not the paper's setting; use --strict to fail)"
        lines.append(verdict)
        return "\n".join(lines)

    @property
    def failed(self) -> list[str]:
        """Ids of claims and toy checks that do not hold or could not be tested."""
        return [c.id for c in self.claims if c.holds is not True] + [t.id for t in self.toys if not t.holds]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for claim, raw in zip(self.claims, d["claims"]):
            for s, rs in zip(claim.stats, raw["stats"]):
                rs["iqr"] = s.iqr
            for t, rt in zip(claim.tests, raw["tests"]):
                rt["a_lower"] = t.a_lower
        d["failed"] = self.failed
        return d

    def to_markdown(self) -> str:
        return _markdown(self)


class _Memo:
    """Per-table cache of :func:`method_stats` by ``(criterion, method)`` and of ``table.pivot`` by criterion,
    shared by the claims of one :func:`evaluate_claims` call (every claim bootstraps with the same seed, so a
    cached entry is exactly what recomputing it would give)."""

    def __init__(self, table: ResultsTable, resamples: int, seed: int):
        self.table, self.resamples, self.seed = table, resamples, seed
        self._stats: dict[tuple[str, str], MethodStats] = {}
        self._pivots: dict[str, tuple[list[str], list[str], np.ndarray]] = {}

    def stats(self, criterion: str, methods: Sequence[str]) -> dict[str, MethodStats]:
        out = {}
        for m in methods:
            if (criterion, m) not in self._stats:
                self._stats[criterion, m] = method_stats(self.table, criterion, m, self.resamples, self.seed)
            out[m] = self._stats[criterion, m]
        return out

    def paired_test(self, criterion: str, a: str, b: str) -> PairedTest:
        if criterion not in self._pivots:
            self._pivots[criterion] = self.table.pivot(criterion)
        return paired_test(self.table, criterion, a, b, pivot=self._pivots[criterion])


def _missing(table: ResultsTable, needed: Sequence[str]) -> list[str]:
    present = set(table.methods)
    return [m for m in needed if m not in present]


def _untestable(cid, paper, statement, missing) -> Claim:
    return Claim(cid, paper, statement, None, f"not testable: method(s) {', '.join(missing)} missing from the table")


def _lower_than_all(memo: _Memo, cid, paper, criterion, winners: Sequence[str], others: Sequence[str],
                    statement) -> Claim:
    """Claim: every method in ``winners`` has a lower median ``criterion`` than every method in ``others``."""
    missing = _missing(memo.table, [*winners, *others])
    if missing:
        return _untestable(cid, paper, statement, missing)
    stats = memo.stats(criterion, [*winners, *others])
    tests = [memo.paired_test(criterion, a, b) for a in winners for b in others]
    pairs = [(stats[t.a].median < stats[t.b].median) for t in tests]
    holds = all(pairs) and not any(math.isnan(stats[m].median) for m in stats)
    failing = [f"{display_name(t.a)} {stats[t.a].median:.4g} >= {display_name(t.b)} {stats[t.b].median:.4g}"
               for t, ok in zip(tests, pairs) if not ok]
    worst = max(winners, key=lambda m: stats[m].median)
    best_other = min(others, key=lambda m: stats[m].median)
    detail = (f"median {CRITERION_LABELS[criterion]}: {display_name(worst)} {stats[worst].median:.4g} "
              f"{'<' if holds else 'is not <'} {display_name(best_other)} {stats[best_other].median:.4g}"
              + ("" if len(winners) == 1
                 else f" (highest of {', '.join(map(display_name, winners))} vs lowest of the others)"))
    if not holds:
        detail += f"; {len(failing)} of {len(pairs)} pairs out of order: " + "; ".join(failing)
    return Claim(cid, paper, statement, holds, detail, all(t.significant_lower() for t in tests),
                 list(stats.values()), tests)


def evaluate_claims(table: ResultsTable, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED) -> list[Claim]:
    """The six claims of Section 4.2 over ``table`` (see the module docstring for the reading)."""
    memo = _Memo(table, resamples, seed)
    real = [m for m in table.methods if m not in BASELINES]

    def others(*exclude):
        return [m for m in ATTRIBUTION_METHODS if m not in exclude]

    claims = [
        _lower_than_all(
            memo, "deeplift_lowest_n_ord",
            "On the ImageNet and VGG model, DeepLIFT has shown relatively better Necessity Ordering",
            "n_ord", [DL], others(DL),
            "the median N-Ord of DeepLIFT is lower than the median N-Ord of each of SM, IG, SG, LRP, GB, GradCAM"),
        _lower_than_all(
            memo, "gradcam_lowest_one_minus_s_ord",
            "while GradCAM shows relatively better Sufficiency Ordering",
            "one_minus_s_ord", [GC], others(GC),
            "the median 1 - S-Ord of GradCAM is lower than that of each of SM, IG, SG, DeepLIFT, LRP, GB"),
        _lower_than_all(
            memo, "sm_ig_sg_lower_tpn_than_lrp_gb",
            "Saliency Map, Integrated Gradient and Smooth Gradient are all showing slightly better proportionality "
            "for necessity",
            "tpn", [SM, IG, SG], [LRP, GB],
            "for each of the 6 pairs (SM, IG, SG) x (LRP, GB), the first method's median TPN is lower than the "
            "second's"),
        _lower_than_all(
            memo, "lrp_gb_lower_tps_than_others",
            "while LRP and GB are showing slightly better proportionality for sufficiency",
            "tps", [LRP, GB], [SM, IG, SG, DL, GC],
            "for each of the 10 pairs (LRP, GB) x (SM, IG, SG, DeepLIFT, GradCAM), the first method's median TPS "
            "is lower than the second's"),
        _no_method_best_on_all(memo, real),
        _smoothgrad_iqr(memo),
    ]
    return claims


def _no_method_best_on_all(memo: _Memo, real: Sequence[str]) -> Claim:
    cid = "no_method_best_on_all"
    paper = "But clearly, no evaluated method is significantly better than others on all criteria at the same time."
    statement = ("the method with the lowest median differs between at least two of N-Ord, 1 - S-Ord, TPN, TPS "
                 "(over the attribution methods present, Random excluded)")
    if len(real) < 2:
        return Claim(cid, paper, statement, None, "not testable: fewer than two attribution methods in the table")
    stats, winners = [], {}
    for criterion in CRITERIA:
        by_method = memo.stats(criterion, real)
        stats.extend(by_method.values())
        finite = {m: s.median for m, s in by_method.items() if not math.isnan(s.median)}
        winners[criterion] = min(finite, key=lambda m: (finite[m], real.index(m))) if finite else None
    if any(w is None for w in winners.values()):
        return Claim(cid, paper, statement, None, "not testable: a criterion has no finite value",
                     stats=stats, values={"winners": winners})
    distinct = sorted(set(winners.values()), key=real.index)
    holds = len(distinct) > 1
    detail = ", ".join(f"{CRITERION_LABELS[c]}: {display_name(w)}" for c, w in winners.items())
    return Claim(cid, paper, statement, holds, f"best by median: {detail}", stats=stats,
                 values={"winners": winners})


def _smoothgrad_iqr(memo: _Memo) -> Claim:
    cid = "smoothgrad_iqr_below_saliency"
    paper = "Smooth Gradient shows lower inter-quartile range in both TPN and TPS compared to Saliency Map."
    statement = "IQR of SmoothGrad's TPN < IQR of Saliency's TPN, and the same for TPS (IQR = q3 - q1 over images)"
    table = memo.table
    missing = _missing(table, [SG, SM])
    if missing:
        return _untestable(cid, paper, statement, missing)
    stats, values, ok = [], {}, []
    for criterion in ("tpn", "tps"):
        s = memo.stats(criterion, [SG, SM])
        stats.extend(s.values())
        for m in (SG, SM):
            finite = table.filter(method=m).column(criterion)
            finite = finite[~np.isnan(finite)]
            values[f"{criterion}_iqr_ci_{m}"] = list(bootstrap_iqr_ci(finite, memo.resamples, memo.seed))
        ok.append(s[SG].iqr < s[SM].iqr)
        values[f"{criterion}_iqr"] = {SG: s[SG].iqr, SM: s[SM].iqr}
    holds = all(ok)
    detail = "; ".join(f"{c.upper()} IQR SG {values[f'{c}_iqr'][SG]:.4g} vs SM {values[f'{c}_iqr'][SM]:.4g}"
                       for c in ("tpn", "tps"))
    return Claim(cid, paper, statement, holds, detail, stats=stats, values=values)


# ----------------------------------------------------------------------------------------------- toy examples

EXAMPLE1_X = np.ones((1, 1, 3, 1), dtype=np.float32)
"""Example 1's input x1 = x2 = x3 = 1, as a ``(1, 1, 3, 1)`` image of three one-channel pixels."""

EXAMPLE1_TABLE1: dict[str, tuple[float, float, float]] = {
    "A1": (1 / 6, 1 / 3, 1 / 2), "A2": (2 / 3, 0.0, 1 / 3), "A3": (2 / 3, 1 / 3, 0.0),
}
"""Table 1: scores s1, s2, s3 of methods A1, A2, A3."""

EXAMPLE1_DELETION = {"A1": (1.0, 1.0, 1.0, 0.0), "A2": (1.0, 1.0, 1.0, 0.0), "A3": (1.0, 1.0, 0.0, 0.0)}
"""Figure 3 by hand: outputs after removing 0, 1, 2, 3 features along each method's full ordering."""

EXAMPLE1_S_ORD = {"A1": -1 / 2, "A2": -1 / 3, "A3": -1 / 3}
"""Eq. 4 by hand over pi+: A1 adds x3, x2, x1 (outputs 0, 0, 1, 1); A2 and A3 add x1 first (0, 1, 1)."""


def example1_model(x):
    """Example 1's model ``M(x) = max(x1, x2)`` on ``(B, 1, 3, 1)`` inputs -> ``(B, 1)`` (TensorFlow ops)."""
    import tensorflow as tf

    flat = tf.reshape(tf.cast(x, tf.float32), (-1, 3))
    return tf.reduce_max(flat[:, :2], axis=1, keepdims=True)


def linear_toy_model(x):
    """Section 3.5's toy model ``M(x1, x2) = 2 x1 + x2`` on ``(B, 1, 2, 1)`` inputs -> ``(B, 1)``."""
    import tensorflow as tf

    flat = tf.reshape(tf.cast(x, tf.float32), (-1, 2))
    return tf.reduce_sum(flat * tf.constant([2.0, 1.0]), axis=1, keepdims=True)


def _full_order_scores(scores: Sequence[float]) -> np.ndarray:
    """Positive scores with the same full ordering as ``scores`` (stable: earlier feature first on ties).

    The engine's curves run over pi+ (positive scores only); Figure 3 removes every feature, including A2's and
    A3's zero-scored one, so the order is re-expressed as positive ranks.
    """
    s = np.asarray(scores, dtype=np.float64)
    order = np.lexsort((np.arange(s.size), -s))  # descending score, then index
    ranked = np.empty(s.size)
    ranked[order] = np.arange(s.size, 0, -1, dtype=np.float64)
    return ranked


def example1_deletion_curves(steps: int | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Figure 3: for A1, A2, A3 the model output after removing 0..3 features along the full ordering.

    Returns:
        method -> ``(m, outputs)`` with ``m = 0, 1, 2, 3`` features removed, computed through
        :func:`repro.criteria.evaluate` (its N-Ord curve ``R_m``) on :func:`example1_model`.

    Reference: Wang et al., Example 1 and Figure 3.
    """
    from repro.criteria import evaluate

    names = list(EXAMPLE1_TABLE1)
    maps = np.stack([_full_order_scores(EXAMPLE1_TABLE1[n]) for n in names]).reshape(len(names), 1, 3)
    res = evaluate(example1_model, EXAMPLE1_X, maps, np.zeros((1, 3, 1), np.float32), np.zeros(1, np.int64),
                   steps=steps, image_index=np.zeros(len(names), np.int64))
    return {n: (np.asarray(c.necessity.m, dtype=np.float64), np.asarray(c.necessity.y, dtype=np.float64))
            for n, c in zip(names, res.curves)}


def aopc(outputs: np.ndarray) -> np.ndarray:
    """Running AOPC of Samek et al.: ``AOPC_L = 1/(L+1) sum_{k=0..L} (y_0 - y_k)`` for ``L = 0..len-1``."""
    outputs = np.asarray(outputs, dtype=np.float64)
    drops = outputs[0] - outputs
    return np.cumsum(drops) / np.arange(1, outputs.size + 1)


def example1_criteria():
    """The engine's criteria for Table 1's attributions on Example 1 (exact mode; S-Ord over pi+)."""
    from repro.criteria import evaluate

    names = list(EXAMPLE1_TABLE1)
    maps = np.array([EXAMPLE1_TABLE1[n] for n in names], dtype=np.float32).reshape(len(names), 1, 3)
    res = evaluate(example1_model, EXAMPLE1_X, maps, np.zeros((1, 3, 1), np.float32), np.zeros(1, np.int64),
                   steps=None, image_index=np.zeros(len(names), np.int64))
    return names, res


def linear_toy_criteria(scores: Sequence[tuple[float, float]]):
    """The engine's criteria for attributions ``scores`` of ``2 x1 + x2`` at ``x = (1, 1)`` (exact mode)."""
    from repro.criteria import evaluate

    maps = np.asarray(scores, dtype=np.float32).reshape(len(scores), 1, 2)
    return evaluate(linear_toy_model, np.ones((1, 1, 2, 1), np.float32), maps, np.zeros((1, 2, 1), np.float32),
                    np.zeros(1, np.int64), steps=None, image_index=np.zeros(len(scores), np.int64))


LINEAR_TOY_DISPROPORTIONAL_TPN = 8 / 33
"""TPN (and TPS) of scores 10:1 on ``2 x1 + x2`` at (1, 1), by hand: the top/bottom curves are linear in k between
the breakpoints k = 10/11 and 1/11, the area between them is 41/22 - 25/22 = 8/11, divided by r y0 = 3."""


def toy_checks(tol: float = 1e-6) -> list[ToyCheck]:
    """The paper's toy numbers, computed live through the criteria engine and compared with the math."""
    checks = []
    curves = example1_deletion_curves()
    computed = {n: [float(v) for v in y] for n, (_, y) in curves.items()}
    ok = all(np.allclose(computed[n], EXAMPLE1_DELETION[n], atol=tol) for n in EXAMPLE1_DELETION)
    checks.append(ToyCheck(
        "example1_aopc_curves",
        "A2 and A1 are considered as showing same level of relativity under the AOPC measurement (Figure 3)",
        "removing features along the full ordering of Table 1 from x = (1, 1, 1) in M = max(x1, x2): "
        "A1 = A2 = (1, 1, 1, 0), A3 = (1, 1, 0, 0); AOPC ranks A3 above A1 = A2",
        {n: list(v) for n, v in EXAMPLE1_DELETION.items()}, computed, bool(ok)))
    names, res = example1_criteria()
    s_ord = {n: float(v) for n, v in zip(names, res.s_ord)}
    checks.append(ToyCheck(
        "example1_s_ord",
        "A2 succeeds in placing the order of sufficient feature x1 in front of the non-sufficient feature x3",
        "S-Ord (eq. 4, over pi+) is -1/2 for A1 and -1/3 for A2 and A3",
        EXAMPLE1_S_ORD, s_ord, all(abs(s_ord[n] - EXAMPLE1_S_ORD[n]) < tol for n in names)))
    lin = linear_toy_criteria([(2.0, 1.0), (10.0, 1.0)])
    computed = {"tpn_2_1": float(lin.tpn[0]), "tps_2_1": float(lin.tps[0]), "tpn_10_1": float(lin.tpn[1]),
                "tps_10_1": float(lin.tps[1]), "n_ord_2_1": float(lin.n_ord[0]), "n_ord_10_1": float(lin.n_ord[1]),
                "s_ord_2_1": float(lin.s_ord[0]), "s_ord_10_1": float(lin.s_ord[1])}
    expected = {"tpn_2_1": 0.0, "tps_2_1": 0.0, "tpn_10_1": LINEAR_TOY_DISPROPORTIONAL_TPN,
                "tps_10_1": LINEAR_TOY_DISPROPORTIONAL_TPN, "n_ord_10_1": "= n_ord_2_1", "s_ord_10_1": "= s_ord_2_1"}
    ok = (abs(computed["tpn_2_1"]) < tol and abs(computed["tps_2_1"]) < tol
          and abs(computed["tpn_10_1"] - LINEAR_TOY_DISPROPORTIONAL_TPN) < tol
          and abs(computed["tps_10_1"] - LINEAR_TOY_DISPROPORTIONAL_TPN) < tol
          and computed["n_ord_2_1"] == computed["n_ord_10_1"] and computed["s_ord_2_1"] == computed["s_ord_10_1"])
    checks.append(ToyCheck(
        "linear_toy_proportionality",
        "With linear agreement, scores for x1 and x2 are more reasonable if their ratio is close to 2:1",
        "M = 2 x1 + x2 at x = (1, 1), zero baseline: scores 2:1 give TPN = TPS = 0; scores 10:1 (same order) "
        "give TPN = TPS = 8/33 with N-Ord and S-Ord unchanged",
        expected, computed, bool(ok)))
    return checks


# ----------------------------------------------------------------------------------------------- report

def check_claims(results_dir: str | Path, profile: str | None = None, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED, toys: bool = True, write: bool = True,
                 strict: bool = False) -> ClaimsReport:
    """Test every claim on ``results_dir/results.csv``; write ``claims.md`` and ``claims.json`` there atomically.

    Args:
        results_dir: a run directory (``results.csv``, ``config.json``).
        profile: ``"embedded"`` or ``"paper"``; ``None`` reads it from ``config.json`` (``"unknown"`` if absent).
        resamples, seed: bootstrap settings (recorded in the report).
        toys: also recompute the toy examples through the criteria engine (needs TensorFlow).
        write: write the two report files.
        strict: make :attr:`ClaimsReport.exit_code` non-zero on any failure, whatever the profile.
    Raises:
        ReproError: missing or malformed results table.
    """
    results_dir = Path(results_dir)
    table = read_results(results_dir / "results.csv")
    if profile is None:
        config_path = results_dir / "config.json"
        profile = str(read_json(config_path).get("profile", "unknown")) if config_path.exists() else "unknown"
    report = ClaimsReport(str(results_dir), profile, len(table), len(table.image_ids), table.methods, resamples,
                          seed, evaluate_claims(table, resamples, seed), toy_checks() if toys else [], strict)
    if write:
        atomic_write_json(results_dir / "claims.json", _finite_json(report.to_dict()))
        atomic_write_text(results_dir / "claims.md", report.to_markdown())
    return report


def _finite_json(obj):
    """Replace NaN/inf by ``None`` so the JSON is standard."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_json(v) for v in obj]
    return obj


def _fmt(v: float) -> str:
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4g}"


def _verdict(holds: bool | None) -> str:
    return {True: "HOLDS", False: "DOES NOT HOLD", None: "NOT TESTABLE"}[holds]


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of a GitHub markdown table (cells already formatted; ``str`` of anything else)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(map(str, r)) + " |" for r in rows]


def _markdown(report: ClaimsReport) -> str:
    lines = [
        "# Claims of Section 4.2, checked",
        "",
        f"Results: `{report.results_dir}` (profile **{report.profile}**), {report.num_rows} rows, "
        f"{report.num_images} images, methods: {', '.join(display_name(m) for m in report.methods)}.",
        f"Medians over images with NaN rows dropped; 95% CI: percentile bootstrap of the median, "
        f"{report.resamples} resamples, seed {report.seed}; paired test: two-sided Wilcoxon signed-rank by image. "
        "Lower is better for every criterion. Verdicts are decided by the medians; *significant* means every "
        f"comparison of the claim has p < {ALPHA} in the claimed direction.",
        "",
    ]
    lines += _md_table(["claim", "verdict", "significant", "detail"],
                       [[f"`{c.id}`", _verdict(c.holds), {None: "", True: "yes", False: "no"}[c.significant],
                         c.detail] for c in report.claims] +
                       [[f"`{t.id}` (toy)", _verdict(t.holds), "", t.statement] for t in report.toys])
    for c in report.claims:
        lines += ["", f"## `{c.id}`: {_verdict(c.holds)}", "", f"> {c.paper}", "", f"Tested: {c.statement}.", ""]
        if c.stats:
            lines += _md_table(
                ["criterion", "method", "n", "NaN dropped", "median", "95% CI", "q1", "q3", "IQR"],
                [[CRITERION_LABELS[s.criterion], display_name(s.method), s.n, s.dropped, _fmt(s.median),
                  f"[{_fmt(s.ci_low)}, {_fmt(s.ci_high)}]", _fmt(s.q1), _fmt(s.q3), _fmt(s.iqr)] for s in c.stats])
            lines.append("")
        if c.tests:
            lines += _md_table(
                ["criterion", "a", "b", "pairs", "dropped", "median(a - b)", "a lower", "W", "p"],
                [[CRITERION_LABELS[t.criterion], display_name(t.a), display_name(t.b), t.n_pairs, t.dropped,
                  _fmt(t.median_difference), "yes" if t.a_lower else "no", _fmt(t.statistic), f"{t.p_value:.3g}"]
                 for t in c.tests])
            lines.append("")
        lines.append(f"Result: {c.detail}.")
    if report.toys:
        lines += ["", "## Toy examples, recomputed through the criteria engine", ""]
        for t in report.toys:
            lines += [f"### `{t.id}`: {_verdict(t.holds)}", "", f"> {t.paper}", "", f"Tested: {t.statement}.", "",
                      f"- expected: `{t.expected}`", f"- computed: `{_round(t.computed)}`", ""]
    failed = report.failed
    lines += ["", f"**{len(failed)} of {len(report.claims) + len(report.toys)} checks do not hold"
              + (f": {', '.join(failed)}**" if failed else "**")]
    return "\n".join(lines) + "\n"


def _round(obj):
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_round(v) for v in obj]
    return obj
