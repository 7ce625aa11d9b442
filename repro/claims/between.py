"""Rules comparing methods with methods on the same criterion (registered in :data:`repro.claims.rules.RULES`).

* ``better_than_all``: on each criterion, every winner's median is better than every other method's. Family: the
  one-sided Wilcoxon tests "winner better than other" of every (winner, other, criterion); ``significant``: all
  rejected after Holm.
* ``most_pairs``: on each criterion, each winner's median is better (``worse=True``: worse) than that of at least
  ``at_least`` of the others ("good", "does poorly": better / worse than most methods). Family: every (winner,
  other, criterion) test in the claimed direction; ``significant``: on each criterion at least ``at_least`` of
  them rejected after Holm.
* ``not_better``: a claim of NO improvement ("they do not show significantly better proportionality"). With
  thousands of images any difference is significant, so the rule is an effect-size margin, decided as an
  equivalence (non-superiority) test, not on a point estimate: each winner's rank-biserial correlation in its
  favour against each other, ``r_better``, has its one-sided 95% upper confidence bound
  (:func:`repro.claims.paired.rank_biserial_upper`) below ``margin`` (default :data:`NO_DIFFERENCE_MARGIN` = 0.1,
  the conventional floor of a "small" correlation-type effect; ``r_better = 0.1`` means 55% vs 45% of the
  signed-rank mass). Only the upper side is bounded: the sentence denies an improvement, and a method clearly
  WORSE than Saliency is "not better" too; whether the interval also lies inside ``+-margin`` (two-sided
  equivalence, TOST) is reported beside it. ``significant``: for every comparison the bootstrap test of H0
  ``r_better >= margin`` (images resampled) rejects after Holm. Reported too: the one-sided Wilcoxon tests of
  "better" and whether none is significant after Holm (the literal "not significant" reading, which a large n
  makes fail on a negligible difference).
* ``relatively_better``: "relatively better" (C1a, C1b), resolved by the claim reading ``relative_claims``:
  ``"all"`` (default) reads it as ``better_than_all`` (better medians than each of the six others: "relatively"
  qualifies the size of the lead, not how many it leads); ``"most"`` as ``most_pairs`` with ``at_least`` others
  (the project's reading of "good"), the record's ``params["at_least"]``.
* ``iqr_below``: on each criterion, every winner's inter-quartile range is below every other's; each IQR's bootstrap
  CI is reported. Family: the paired bootstrap tests (images resampled jointly) of H0 ``IQR(winner) >= IQR(other)``;
  ``significant``: all rejected after Holm.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import numpy as np

from repro.claims.paired import (
    ALPHA, PairedTest, bootstrap_p_at_least, bootstrap_rank_biserial, holm, rank_biserial_upper,
)
from repro.claims.rules import (
    ClaimSpec, Outcome, direction_word, each, holm_family, labels, names, rejected, rule,
)
from repro.claims.stats import StatsMemo, bootstrap_iqr_ci, finite_values
from repro.vocabulary import CRITERION_LABELS, LOWER_IS_BETTER, best_method, display_name, is_better

NO_DIFFERENCE_MARGIN = 0.1
"""Default margin of ``not_better``: a rank-biserial ``r_better`` below it is a negligible improvement."""


def _describe_better_than_all(spec: ClaimSpec) -> str:
    parts = []
    for criterion in spec.criteria:
        label, word = CRITERION_LABELS[criterion], direction_word(criterion)
        if len(spec.winners) == 1:
            parts.append(f"the median {label} of {names(spec.winners)} is {word} than that of each of "
                         f"{names(spec.others)}")
        else:
            parts.append(f"for each of the {len(spec.winners) * len(spec.others)} pairs ({names(spec.winners)}) x "
                         f"({names(spec.others)}), the first method's median {label} is {word} than the second's")
    return "; and ".join(parts)


def _better_than_all_detail(criterion: str, spec: ClaimSpec, median: dict[str, float],
                            tests: Sequence[PairedTest], in_order: Sequence[bool]) -> str:
    holds = all(in_order) and not any(math.isnan(median[m]) for m in (*spec.winners, *spec.others))
    better, worse = ("<", ">=") if LOWER_IS_BETTER[criterion] else (">", "<=")
    worst = spec.winners[0]
    for m in spec.winners[1:]:
        if is_better(criterion, median[worst], median[m]):
            worst = m
    best_other = best_method({m: median[m] for m in spec.others}, criterion, exclude=())
    detail = f"median {CRITERION_LABELS[criterion]}: {display_name(worst)} {median[worst]:.4g} " + (
        f"{better if holds else 'is not ' + better} {display_name(best_other)} {median[best_other]:.4g}"
        if best_other is not None else "not comparable: no other method has a finite median")
    if len(spec.winners) > 1:
        order = ("highest", "lowest") if LOWER_IS_BETTER[criterion] else ("lowest", "highest")
        detail += f" ({order[0]} of {names(spec.winners)} vs {order[1]} of the others)"
    if not holds:
        failing = [f"{display_name(t.a)} {median[t.a]:.4g} {worse} {display_name(t.b)} {median[t.b]:.4g}"
                   for t, ok in zip(tests, in_order) if not ok]
        detail += f"; {len(failing)} of {len(tests)} pairs out of order: " + "; ".join(failing)
    return detail


@rule("better_than_all", _describe_better_than_all)
def better_than_all(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """Every winner's median is better than every other's on each criterion; one test per (winner, other)."""
    all_stats, all_tests, holds, parts = [], [], True, []
    for criterion in spec.criteria:
        stats = memo.stats(criterion, [*spec.winners, *spec.others])
        median = {m: s.median for m, s in stats.items()}
        tests = [memo.paired_test(criterion, a, b) for a in spec.winners for b in spec.others]
        in_order = [is_better(criterion, median[t.a], median[t.b]) for t in tests]
        holds &= all(in_order) and not any(math.isnan(v) for v in median.values())
        parts.append(_better_than_all_detail(criterion, spec, median, tests, in_order))
        all_stats += stats.values()
        all_tests += tests
    raw, adjusted = holm_family(all_tests)
    return Outcome(holds, "; ".join(parts), rejected(adjusted), all_stats, all_tests, family_p=raw,
                   adjusted_p=adjusted)


def _describe_most_pairs(spec: ClaimSpec) -> str:
    k, worse = spec.params.get("at_least", 1), spec.params.get("worse", False)
    quality = "worse" if worse else "better"
    return "; and ".join(
        f"the median {CRITERION_LABELS[c]} of {each([display_name(m) for m in spec.winners])} is {quality} "
        f"({direction_word(c, worse)}) than that of at least {k} of the {len(spec.others)} methods "
        f"{names(spec.others)}" for c in spec.criteria)


@rule("most_pairs", _describe_most_pairs, params=("at_least", "worse"))
def most_pairs(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """Each winner is better (or worse) by median than at least ``at_least`` others, on each criterion."""
    k, worse = int(spec.params.get("at_least", 1)), bool(spec.params.get("worse", False))
    all_stats, tests, counts, parts = [], [], {}, []
    for criterion in spec.criteria:
        stats = memo.stats(criterion, [*spec.winners, *spec.others])
        all_stats += stats.values()
        median = {m: s.median for m, s in stats.items()}
        for w in spec.winners:
            beaten = [o for o in spec.others if (is_better(criterion, median[o], median[w]) if worse
                                                 else is_better(criterion, median[w], median[o]))]
            counts[w, criterion] = len(beaten)
            tests += [memo.paired_test(criterion, w, o) for o in spec.others]
            word = direction_word(criterion, worse)
            parts.append(f"median {CRITERION_LABELS[criterion]}: {display_name(w)} {median[w]:.4g} is {word} than "
                         f"{len(beaten)} of {len(spec.others)} (at least {k} needed)"
                         + (f": {names(beaten)}" if beaten else ""))
    raw, adjusted = holm_family(tests, worse=worse)
    significant = all(
        sum(p < ALPHA for t, p in zip(tests, adjusted) if t.a == w and t.criterion == c) >= k
        for (w, c) in counts)
    holds = all(n >= k for n in counts.values())
    return Outcome(holds, "; ".join(parts), significant, all_stats, tests,
                   values={"beaten": {f"{w}|{c}": n for (w, c), n in counts.items()}, "worse": worse}, family_p=raw,
                   adjusted_p=adjusted)


def _describe_relatively_better(spec: ClaimSpec) -> str:
    most = _as_most_pairs(spec)
    return (f"relative_claims=all: {_describe_better_than_all(_as_better_than_all(spec))}; relative_claims=most: "
            f"{_describe_most_pairs(most)}")


def _as_better_than_all(spec: ClaimSpec, ref: str = "") -> ClaimSpec:
    return dataclasses.replace(spec, rule="better_than_all", params={}, ref=ref or spec.ref)


def _as_most_pairs(spec: ClaimSpec, ref: str = "") -> ClaimSpec:
    return dataclasses.replace(spec, rule="most_pairs", params={"at_least": spec.params["at_least"]},
                               ref=ref or spec.ref)


@rule("relatively_better", _describe_relatively_better, params=("at_least",), resolves=True, required=("at_least",))
def relatively_better(spec: ClaimSpec, memo: StatsMemo) -> ClaimSpec:
    """The record ``spec`` stands for under ``memo.relative_claims`` (see the module docstring)."""
    ref = f"{spec.ref} (relative_claims={memo.relative_claims})".strip()
    return _as_better_than_all(spec, ref) if memo.relative_claims == "all" else _as_most_pairs(spec, ref)


def _describe_not_better(spec: ClaimSpec) -> str:
    margin = spec.params.get("margin", NO_DIFFERENCE_MARGIN)
    return (f"on {each(labels(spec.criteria))}, {each([display_name(m) for m in spec.winners])} is not better than "
            f"{names(spec.others)} by more than a negligible effect: the one-sided 95% upper confidence bound of the "
            f"matched-pairs rank-biserial correlation in its favour is below {margin} for every comparison")


@rule("not_better", _describe_not_better, params=("margin",))
def not_better(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """No winner is better than any other by a rank-biserial of ``margin`` or more (see the module docstring)."""
    margin = float(spec.params.get("margin", NO_DIFFERENCE_MARGIN))
    tests, rows, margin_p = [], [], []
    for criterion in spec.criteria:
        for w in spec.winners:
            for o in spec.others:
                t = memo.paired_test(criterion, w, o)
                xa, xb = memo.values(criterion, w), memo.values(criterion, o)
                both = ~np.isnan(xa) & ~np.isnan(xb)
                boot = bootstrap_rank_biserial(xa[both] - xb[both], memo.resamples, memo.seed)
                boot_better = boot if LOWER_IS_BETTER[criterion] else -boot
                r = 0.0 if math.isnan(t.effect_better) else t.effect_better  # no non-zero difference: no effect
                finite = boot_better[~np.isnan(boot_better)]
                upper = float(np.quantile(finite, 1 - ALPHA)) if finite.size else 0.0
                tests.append(t)
                margin_p.append(bootstrap_p_at_least(np.nan_to_num(boot_better, nan=0.0), margin))
                bound = float(rank_biserial_upper(r, t.n_nonzero))
                lower = -float(rank_biserial_upper(-r, t.n_nonzero))
                rows.append({"criterion": criterion, "a": w, "b": o, "r_better": r, "r_better_upper": upper,
                             "r_better_bound": bound, "equivalent": bool(-margin < lower and bound < margin)})
    adjusted_margin = holm(margin_p)
    for row, p, adj in zip(rows, margin_p, adjusted_margin):
        row.update(p_margin=p, adjusted_p_margin=adj)
    raw, adjusted = holm_family(tests)
    holds = all(row["r_better_bound"] < margin for row in rows)
    detail = (f"rank-biserial in favour of {names(spec.winners)} [one-sided 95% upper bound] (margin {margin}): "
              + "; ".join(f"{CRITERION_LABELS[row['criterion']]} {display_name(row['a'])} vs "
                          f"{display_name(row['b'])} {row['r_better']:+.3f} [{row['r_better_bound']:+.3f}]"
                          for row in rows))
    values = {"margin": margin, "comparisons": rows,
              "wilcoxon_better_none_significant": not any(p < ALPHA for p in adjusted)}
    return Outcome(holds, detail, rejected(adjusted_margin), tests=tests, values=values, family_p=raw,
                   adjusted_p=adjusted)


def _describe_iqr_below(spec: ClaimSpec) -> str:
    winners, others = ([display_name(m) for m in group] for group in (spec.winners, spec.others))
    return (f"on {each(labels(spec.criteria))}, the IQR (q3 - q1 over images) of {each(winners)} is lower than "
            f"that of {each(others)}")


def _bootstrap_iqr_difference(xa: np.ndarray, xb: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """``IQR(a) - IQR(b)`` of ``resamples`` bootstrap samples of the images (paired: both drawn together)."""
    if xa.size == 0:
        return np.full(resamples, math.nan)
    rng = np.random.default_rng(seed)
    out = np.empty(resamples)
    chunk = max(1, 1_000_000 // xa.size)
    for start in range(0, resamples, chunk):
        stop = min(start + chunk, resamples)
        idx = rng.integers(0, xa.size, size=(stop - start, xa.size))
        qa, qb = (np.quantile(x[idx], [0.25, 0.75], axis=1) for x in (xa, xb))
        out[start:stop] = (qa[1] - qa[0]) - (qb[1] - qb[0])
    return out


@rule("iqr_below", _describe_iqr_below)
def iqr_below(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """On each criterion, every winner's IQR is below every other's; paired bootstrap tests of the differences."""
    methods = [*spec.winners, *spec.others]
    stats, values, in_order, parts, boot_p, keys = [], {}, [], [], [], []
    for criterion in spec.criteria:
        by_method = memo.stats(criterion, methods)
        stats.extend(by_method.values())
        iqr = {m: by_method[m].iqr for m in methods}
        for m in methods:
            finite, _ = finite_values(memo.table, criterion, m)
            values[f"{criterion}_iqr_ci_{m}"] = list(bootstrap_iqr_ci(finite, memo.resamples, memo.seed))
        values[f"{criterion}_iqr"] = iqr
        diffs = values.setdefault(f"{criterion}_iqr_difference", {})
        for w in spec.winners:
            for o in spec.others:
                in_order.append(iqr[w] < iqr[o])
                xa, xb = memo.values(criterion, w), memo.values(criterion, o)
                both = ~np.isnan(xa) & ~np.isnan(xb)
                boot = _bootstrap_iqr_difference(xa[both], xb[both], memo.resamples, memo.seed)
                finite = boot[~np.isnan(boot)]
                ci = [float(v) for v in np.quantile(finite, [0.025, 0.975])] if finite.size else [math.nan] * 2
                boot_p.append(bootstrap_p_at_least(boot, 0.0))
                diffs[f"{w}-{o}"] = {"difference": iqr[w] - iqr[o], "ci": ci, "p": boot_p[-1]}
                keys.append((criterion, f"{w}-{o}"))
        parts.append(f"{CRITERION_LABELS[criterion]} IQR "
                     + " vs ".join(", ".join(f"{display_name(m)} {iqr[m]:.4g}" for m in group)
                                   for group in (spec.winners, spec.others)))
    adjusted = holm(boot_p)
    for (criterion, key), adj in zip(keys, adjusted):
        values[f"{criterion}_iqr_difference"][key]["adjusted_p"] = adj
    return Outcome(all(in_order), "; ".join(parts), rejected(adjusted), stats=stats, values=values)
