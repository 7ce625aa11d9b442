"""Within-method rules: a method's necessity against its own sufficiency, and the proportionality claims of
Section 4.2 whose reading the ``tp_claims`` setting chooses (registered in :data:`repro.claims.rules.RULES`).

* ``rank_within`` (``params={"pairs": ((x, y), ...)}``): each winner stands better on criterion ``x`` than on
  criterion ``y`` ("performs not bad in necessity ... compared to sufficiency", L825-827; "shows better
  sufficiency ... compared to the necessity", L865-867). Raw values of two criteria are in different units and
  directions (N-Ord and the plotted ``1 - S-Ord`` differ by a shift of +1), so the verdict compares RANKS among
  the compared methods (``winners`` + ``others``; 1 = best, a tie shares the better rank): the rank of the
  method's median on ``x`` is strictly better than on ``y``. Family: for each (winner, pair) the one-sided
  Wilcoxon test, paired by image, of the method's per-image rank on ``x`` below its rank on ``y``;
  ``significant``: all rejected after Holm. Reported outside the family: the same method's raw values on the two
  criteria, TPN against TPS and N-Ord against ``-S-Ord`` (both class-score shortfalls, lower is better, under the
  ``printed`` and ``text`` S-Ord readings; never the +1-shifted ``1 - S-Ord``).
* ``tp_groups``: the sentence "Saliency Map, Integrated Gradient and Smooth Gradient are all showing slightly
  better proportionality for necessity while LRP and GB are showing slightly better proportionality for
  sufficiency" (L816-820), one record per half, resolved by the evaluation's ``tp_claims``:

  - ``"between"`` (default): ``better_than_all`` between the two groups the sentence contrasts, on the half's
    criterion: SM, IG, SG against LRP, GB on TPN, and LRP, GB against SM, IG, SG on TPS. Both halves compare the
    SAME two groups (6 pairs each): the sentence sets the two groups against each other and names no other method;
    comparing one half with all others would also require beating DeepLIFT and GradCAM, which neither half says.
  - ``"within"``: ``rank_within``: each named method stands better on its half's criterion than on the other
    proportionality criterion (SM, IG, SG: TPN rank better than TPS rank; LRP, GB: TPS rank better than TPN
    rank), ranks among all the attribution methods present.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from repro.claims.paired import LOWER_IS_BETTER_ALL
from repro.claims.rules import ClaimSpec, Outcome, holm_family, names, rejected, rule
from repro.claims.stats import StatsMemo
from repro.vocabulary import CRITERION_LABELS, PAPER_METHODS, display_name, ordered_methods

RAW: dict[str, str] = {"n_ord": "n_ord", "s_ord": "neg_s_ord", "one_minus_s_ord": "neg_s_ord", "tpn": "tpn",
                       "tps": "tps"}
"""Criterion -> the column its raw within-method comparison reads (lower is better for each)."""


def median_ranks(medians: Mapping[str, Any], criterion: str) -> dict[str, Any]:
    """Each method's rank by median, 1 = best; a tie shares the better rank (``1 +`` the number of methods
    strictly better); NaN for a NaN median. Element-wise when the medians are arrays (one per bootstrap sample,
    :mod:`repro.claims.stability`), a float for float medians."""
    lower = LOWER_IS_BETTER_ALL[criterion]
    out = {}
    for m, v in medians.items():
        better = sum((np.less if lower else np.greater)(medians[o], v).astype(float) for o in medians if o != m)
        rank = np.where(np.isnan(v), np.nan, 1.0 + np.asarray(better))
        out[m] = float(rank) if np.ndim(rank) == 0 else rank
    return out


def _pairs(spec: ClaimSpec) -> Sequence[tuple[str, str]]:
    return [tuple(p) for p in spec.params.get("pairs", ())]


def _describe_rank_within(spec: ClaimSpec) -> str:
    pool = len(spec.winners) + len(spec.others)
    pairs = ", and ".join(f"on {CRITERION_LABELS[x]} than on {CRITERION_LABELS[y]}" for x, y in _pairs(spec))
    who = names(spec.winners) + (" each rank" if len(spec.winners) > 1 else " ranks")
    return f"{who} better (by median, among {pool} methods) {pairs}"


@rule("rank_within", _describe_rank_within, compares=False, params=("pairs",))
def rank_within(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """Each winner's median rank is better on ``x`` than on ``y`` for each pair; per-image rank tests."""
    pool = ordered_methods([*spec.winners, *spec.others])
    if len(pool) < 2:
        return Outcome(None, "not testable: fewer than two methods to rank")
    criteria = list(spec.tested_criteria)
    stats, ranks = [], {}
    for c in criteria:
        by_method = memo.stats(c, pool)
        stats += [by_method[m] for m in spec.winners]
        ranks[c] = median_ranks({m: s.median for m, s in by_method.items()}, c)
    tests, extra, ok, parts = [], [], [], []
    for m in spec.winners:
        bits = []
        for x, y in _pairs(spec):
            rx, ry = ranks[x][m], ranks[y][m]
            ok.append(not math.isnan(rx) and not math.isnan(ry) and rx < ry)
            tests.append(memo.within_test(m, x, y, pool))
            extra.append(memo.within_test(m, RAW[x], RAW[y]))
            bits.append(f"{CRITERION_LABELS[x]} rank {rx:.0f} vs {CRITERION_LABELS[y]} rank {ry:.0f}")
        parts.append(f"{display_name(m)}: " + ", ".join(bits))
    raw, adjusted = holm_family(tests)
    values = {"median_ranks": {c: ranks[c] for c in criteria}, "pool": pool}
    return Outcome(all(ok), f"median ranks among {len(pool)}: " + "; ".join(parts), rejected(adjusted), stats,
                   tests, values, raw, adjusted, extra)


def _describe_tp_groups(spec: ClaimSpec) -> str:
    (criterion,) = spec.criteria
    versus = spec.params["versus"]
    return (f"tp_claims=between: the median {CRITERION_LABELS[criterion]} of each of {names(spec.winners)} is "
            f"better than that of each of {names(spec.others)}; tp_claims=within: each of {names(spec.winners)} "
            f"ranks better on {CRITERION_LABELS[criterion]} than on {CRITERION_LABELS[versus]}")


@rule("tp_groups", _describe_tp_groups, criteria=1, params=("versus",), resolves=True)
def tp_groups(spec: ClaimSpec, memo: StatsMemo) -> ClaimSpec:
    """The record ``spec`` stands for under ``memo.tp_claims`` (see the module docstring)."""
    common = {"id": spec.id, "paper": spec.paper, "winners": spec.winners, "lines": spec.lines,
              "ref": f"{spec.ref} (tp_claims={memo.tp_claims})".strip()}
    if memo.tp_claims == "between":
        return ClaimSpec(rule="better_than_all", criteria=spec.criteria, others=spec.others, **common)
    (criterion,) = spec.criteria
    pool = [m for m in PAPER_METHODS if m in memo.table.methods or m in spec.winners]
    return ClaimSpec(rule="rank_within", criteria=(criterion, spec.params["versus"]),
                     others=tuple(m for m in pool if m not in spec.winners),
                     params={"pairs": ((criterion, spec.params["versus"]),)}, **common)

