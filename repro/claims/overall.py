"""Rules over all methods at once (registered in :data:`repro.claims.rules.RULES`): no method best on all criteria,
and no frequent per-image winner of both necessity and sufficiency.

The pool is ``others`` when given, else every attribution method in the table (the Random baseline excluded).

* ``no_method_best_on_all`` (descriptive): the best method by median (:func:`repro.vocabulary.best_method`)
  differs between at least two of the criteria. It drops the word "significantly" of the sentence and holds as
  soon as two criteria have different leaders.
* ``no_method_significantly_better_on_all`` (inferential, "no evaluated method is significantly better than others
  on all criteria at the same time", L820-822): no method ``m`` beats every other method on every criterion with
  the one-sided Wilcoxon tests "``m`` better than ``o``", Holm-corrected over ``m``'s family of
  ``(k - 1) x criteria`` tests (24 for seven methods and four criteria). The claim fails when some method does.
  ``significant`` is ``None`` (the rule is itself the inferential reading); the tests of the method closest to
  beating all (most rejections) are reported with its effect sizes.
* ``no_frequent_winner_for_both`` (the conclusion, L949-951, and Figures 6 and 7): per-image winners
  (:mod:`repro.claims.winners`); a method is a "frequent winner for both" when the share of images where it wins a
  necessity criterion (N-Ord or TPN) and a sufficiency criterion (S-Ord or TPS) exceeds ``frequent`` (default
  ``1/k``, the share each of ``k`` methods would have of a single criterion's wins if wins were spread evenly;
  the paper gives no threshold). Reported beside each share: the share expected if winning necessity and winning
  sufficiency were independent. ``significant``: every method's share is below ``frequent`` by a one-sided exact
  binomial test, Holm over the ``k`` methods.
* ``necessity_sufficiency_exclusive`` (the conclusion, L953-956: "necessity and sufficiency are generally mutually
  exclusive and our analogues show the same"): on the images with a winner on every criterion, the share whose
  necessity winner (N-Ord, TPN) and sufficiency winner (S-Ord, TPS) are the same method, averaged over the four
  pairs, is BELOW the share expected if the two winners were independent (``sum_m p_a(m) p_b(m)`` from the win
  shares; :func:`repro.claims.winners.same_winner_shares`). Mutually exclusive criteria would make a method that
  wins one less likely to win the other on the same image. ``significant``: a permutation test (the sufficiency
  winners shuffled across images, jointly for S-Ord and TPS; ``resamples`` permutations, seeded), one-sided,
  ``p = (1 + #{permuted <= observed}) / (1 + B)`` below alpha.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from repro.claims.paired import ALPHA, holm
from repro.claims.rules import (
    ClaimSpec, Outcome, compared_methods, direction_word, holm_family, labels, names, rejected, rule,
)
from repro.claims.stats import StatsMemo
from repro.claims.winners import (
    FIGURE6_WINNERS, NECESSITY, SUFFICIENCY, four_winners, same_winner_shares, winner_codes, winner_frequencies,
)
from repro.vocabulary import CRITERION_LABELS, best_method, display_name


PoolRule = Callable[[ClaimSpec, StatsMemo, list[str]], Outcome]


def _over_pool(rule_fn: PoolRule) -> Callable[[ClaimSpec, StatsMemo], Outcome]:
    """A rule run over the compared methods (:func:`repro.claims.rules.compared_methods`: ``others`` when given,
    else the attribution methods of the table), not testable when fewer than two are present."""
    @functools.wraps(rule_fn)
    def run(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
        pool = compared_methods(spec, memo)
        if len(pool) < 2:
            return Outcome(None, "not testable: fewer than two attribution methods in the table")
        return rule_fn(spec, memo, pool)
    return run


def _pool_words(spec: ClaimSpec) -> str:
    return names(spec.others) if spec.others else "the paper's seven attribution methods present in the table"


def _describe_no_method_best_on_all(spec: ClaimSpec) -> str:
    directions = {direction_word(c) for c in spec.criteria}
    direction = (f"{directions.pop()} is better for each" if len(directions) == 1
                 else "; ".join(f"{CRITERION_LABELS[c]}: {direction_word(c)} is better" for c in spec.criteria))
    return (f"the method with the best median differs between at least two of {', '.join(labels(spec.criteria))} "
            f"({direction}; over {_pool_words(spec)})")


@rule("no_method_best_on_all", _describe_no_method_best_on_all, compares=False)
@_over_pool
def no_method_best_on_all(spec: ClaimSpec, memo: StatsMemo, pool: list[str]) -> Outcome:
    """The per-median winner (:func:`~repro.vocabulary.best_method`) is not the same method on every criterion."""
    stats, winners = [], {}
    for criterion in spec.criteria:
        by_method = memo.stats(criterion, pool)
        stats.extend(by_method.values())
        winners[criterion] = best_method({m: s.median for m, s in by_method.items()}, criterion, exclude=())
    if any(w is None for w in winners.values()):
        return Outcome(None, "not testable: a criterion has no finite value", stats=stats,
                       values={"winners": winners})
    detail = ", ".join(f"{CRITERION_LABELS[c]}: {display_name(w)}" for c, w in winners.items())
    return Outcome(len(set(winners.values())) > 1, f"best by median: {detail}", stats=stats,
                   values={"winners": winners})


def _describe_significantly_better(spec: ClaimSpec) -> str:
    return (f"no method beats every other on all of {', '.join(labels(spec.criteria))}: for each method, the "
            f"one-sided paired Wilcoxon tests 'better than each other method' on each criterion (Holm over that "
            f"method's tests, alpha {ALPHA}) are not all significant (over {_pool_words(spec)})")


@rule("no_method_significantly_better_on_all", _describe_significantly_better, compares=False)
@_over_pool
def no_method_significantly_better_on_all(spec: ClaimSpec, memo: StatsMemo, pool: list[str]) -> Outcome:
    """No method's 'better than every other on every criterion' tests are all significant after Holm."""
    per_method, dominating, closest = {}, [], None
    for m in pool:
        tests = [memo.paired_test(c, m, o) for c in spec.criteria for o in pool if o != m]
        raw, adjusted = holm_family(tests)
        n_rejected = sum(p < ALPHA for p in adjusted)
        effects = [t.effect_better for t in tests]
        per_method[m] = {"tests": len(tests), "significant": n_rejected,
                         "min_effect_better": min(effects) if effects else float("nan")}
        if rejected(adjusted):
            dominating.append(m)
        if closest is None or n_rejected > per_method[closest[0]]["significant"]:
            closest = (m, tests, raw, adjusted)
    m, tests, raw, adjusted = closest
    if dominating:
        detail = f"{names(dominating)} significantly better than every other method on every criterion"
    else:
        detail = (f"no method significantly better than all others on all {len(spec.criteria)} criteria; closest: "
                  f"{display_name(m)}, {per_method[m]['significant']} of {per_method[m]['tests']} tests significant")
    return Outcome(not dominating, detail, None, tests=tests, family_p=raw, adjusted_p=adjusted,
                   values={"per_method": per_method, "dominating": dominating, "closest": m})


def _describe_winners(spec: ClaimSpec) -> str:
    threshold = spec.params.get("frequent")
    share = f"{threshold:.3g}" if threshold is not None else "1/k (k = the number of compared methods)"
    return (f"per image, the winner of each of N-Ord, S-Ord, TPN, TPS (the best value, ties to the paper's order); "
            f"no method wins a necessity criterion (N-Ord or TPN) and a sufficiency criterion (S-Ord or TPS) on the "
            f"same image on more than a share {share} of the images (over {_pool_words(spec)})")


def frequent_threshold(spec: ClaimSpec, pool: list[str]) -> float:
    """The share above which a method is a "frequent winner for both": the record's ``frequent``, else ``1/k``."""
    return float(spec.params.get("frequent") or 1.0 / len(pool))


@rule("no_frequent_winner_for_both", _describe_winners, compares=False, params=("frequent",))
@_over_pool
def no_frequent_winner_for_both(spec: ClaimSpec, memo: StatsMemo, pool: list[str]) -> Outcome:
    """Each method's share of images won on both a necessity and a sufficiency criterion is at most ``frequent``."""
    from scipy import stats as sps

    freq = winner_frequencies(memo.table, pool)
    if freq.n_images == 0:
        return Outcome(None, "not testable: no image has a winner on every criterion")
    threshold = frequent_threshold(spec, pool)
    p = [sps.binomtest(freq.both_count[m], freq.n_images, threshold, alternative="less").pvalue for m in pool]
    adjusted = holm(p)
    frequent = [m for m in pool if freq.both[m] > threshold]
    ranked = sorted(pool, key=lambda m: -freq.both[m])
    detail = (f"share of {freq.n_images} images won on both (expected if independent): " + ", ".join(
        f"{display_name(m)} {freq.both[m]:.1%} ({freq.expected[m]:.1%})" for m in ranked)
        + f"; threshold {threshold:.1%}" + (f"; frequent: {names(frequent)}" if frequent else ""))
    values = {"threshold": threshold, "n_images": freq.n_images, "dropped": freq.dropped,
              "both": freq.both, "expected": freq.expected, "p_necessity": freq.p_necessity,
              "p_sufficiency": freq.p_sufficiency, "wins": freq.wins,
              "binomial_p": dict(zip(pool, p)), "adjusted_p": dict(zip(pool, adjusted)),
              "same_winner": freq.same_winner, "same_winner_expected": freq.same_winner_expected,
              "figure6_winners": FIGURE6_WINNERS, "figure6_images": len(freq.figure6_images)}
    return Outcome(not frequent, detail, rejected(adjusted), values=values)


def _describe_exclusive(spec: ClaimSpec) -> str:
    return (f"per image, the winner of each of N-Ord, S-Ord, TPN, TPS; the share of images whose necessity winner "
            f"(N-Ord or TPN) and sufficiency winner (S-Ord or TPS) are the same method, averaged over the four pairs, "
            f"is 0 or below the share expected if the two winners were independent (over {_pool_words(spec)})")


def exclusive_verdicts(codes: dict[str, np.ndarray], n_methods: int, idx: np.ndarray) -> np.ndarray:
    """The verdict of ``necessity_sufficiency_exclusive`` on each sample of ``idx``: 1.0 holds, 0.0 does not, NaN
    not testable (no image with four winners)."""
    observed, expected = same_winner_shares(codes, n_methods, idx)
    return np.where(np.isnan(observed), np.nan, ((observed < expected) | (observed == 0)).astype(np.float64))


@rule("necessity_sufficiency_exclusive", _describe_exclusive, compares=False)
@_over_pool
def necessity_sufficiency_exclusive(spec: ClaimSpec, memo: StatsMemo, pool: list[str]) -> Outcome:
    """The same method wins a necessity and a sufficiency criterion on fewer images than independence predicts."""
    codes = winner_codes(memo.table, pool)
    valid = four_winners(codes)  # permute among the images with four winners
    codes = {c: v[valid] for c, v in codes.items()}
    n = int(valid.sum())
    observed, expected = (float(v[0]) for v in same_winner_shares(codes, len(pool), np.arange(n)[None, :]))
    if np.isnan(observed):
        return Outcome(None, "not testable: no image has a winner on every criterion")
    holds = bool(exclusive_verdicts(codes, len(pool), np.arange(n)[None, :])[0])
    rng = np.random.default_rng(memo.seed)
    orders = np.stack([rng.permutation(n) for _ in range(memo.resamples)]) if n else np.zeros((0, 0), int)
    permuted = np.mean([np.mean(codes[a][None, :] == codes[b][orders], axis=1)  # sufficiency winners shuffled
                        for a in NECESSITY for b in SUFFICIENCY], axis=0)
    p = float((1 + np.sum(permuted <= observed)) / (1 + permuted.size))
    detail = (f"same method wins a necessity and a sufficiency criterion on {observed:.1%} of images (mean of the "
              f"four pairs) vs {expected:.1%} if independent; permutation p = {p:.3g}")
    freq = winner_frequencies(memo.table, pool)
    values = {"observed": observed, "expected": expected, "permutation_p": p, "permutations": memo.resamples,
              "pair_shares": freq.same_winner, "pair_expected": freq.same_winner_expected}
    return Outcome(holds, detail, p < ALPHA, values=values)
