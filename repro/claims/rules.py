"""Claims as data: a :class:`ClaimSpec` record per claim and a registry of rules that evaluate a record over a table.

A record (see :mod:`repro.claims.section42`) holds what the paper says and what is compared: the quoted
sentence, the criteria, the methods claimed better (``winners``), the methods they are compared with (``others``;
by default every attribution method of :data:`~repro.vocabulary.ATTRIBUTION_METHODS` not among the winners, so a
group is written once), the name of its rule and the rule's settings (``params``). The rule evaluates the record
(:func:`evaluate_claim`) and also writes the statement of what is tested from it (:attr:`Rule.describe`), so the
text cannot drift from the computation.

Rules (:data:`RULES`):

* ``better_than_all``: on one criterion, every winner's median is better than every other method's; the paired
  test of each (winner, other) pair is reported and ``significant`` means every pair has two-sided
  p < :data:`~repro.claims.stats.ALPHA` in the claimed direction.
* ``iqr_below``: on each criterion, every winner's inter-quartile range is below every other's (with bootstrap
  CIs of each IQR).
* ``no_method_best_on_all``: the best method by median (:func:`repro.vocabulary.best_method`) differs between at
  least two of the criteria, among ``others`` or, when ``others`` is empty, every non-baseline method present.

Reading of the paper: a verdict is decided by medians (or IQRs), as the boxplots of Figure 5 the paper reads; the
paired tests are reported beside it and do not decide it. Which way is better comes only from
:data:`repro.vocabulary.LOWER_IS_BETTER`. A claim whose methods are not all in the table is not testable
(``holds`` is ``None``).

A new claim is a new record; a new kind of claim (e.g. an equivalence within a margin given in ``params``) is a
function ``(spec, memo) -> Outcome`` registered with :func:`rule`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from repro.claims.stats import MethodStats, PairedTest, StatsMemo, bootstrap_iqr_ci, finite_values
from repro.results import ResultsTable
from repro.vocabulary import (
    ATTRIBUTION_METHODS, BASELINES, CRITERION_LABELS, LOWER_IS_BETTER, best_method, display_name, is_better,
)


@dataclass
class Outcome:
    """What a rule finds: the verdict (``None``: not testable), a one-line detail and the numbers behind it."""

    holds: bool | None
    detail: str
    significant: bool | None = None
    stats: list[MethodStats] = field(default_factory=list)
    tests: list[PairedTest] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(kw_only=True)
class Claim(Outcome):
    """A claim checked on one table: the record's ``id``, the paper's sentence, the tested statement, the outcome."""

    id: str
    paper: str
    statement: str


@dataclass(frozen=True)
class Rule:
    """A registered rule: ``evaluate(spec, memo)`` decides, ``describe(spec)`` says what is tested.

    ``criteria``: how many criteria a record of this rule names (``None``: one or more); ``compares``: whether it
    compares ``winners`` with ``others`` (both must then be non-empty); ``params``: the setting names a record may
    give.
    """

    name: str
    evaluate: Callable[["ClaimSpec", StatsMemo], Outcome]
    describe: Callable[["ClaimSpec"], str]
    criteria: int | None = None
    compares: bool = True
    params: frozenset[str] = frozenset()


RULES: dict[str, Rule] = {}
"""Rule name -> :class:`Rule`, filled by :func:`rule`."""


def rule(name: str, describe: Callable[["ClaimSpec"], str], criteria: int | None = None, compares: bool = True,
         params: Sequence[str] = ()) -> Callable:
    """Decorator registering ``evaluate(spec, memo) -> Outcome`` in :data:`RULES` under ``name``."""
    def register(evaluate: Callable[["ClaimSpec", StatsMemo], Outcome]) -> Callable:
        if name in RULES:
            raise ValueError(f"rule {name!r} is already registered")
        RULES[name] = Rule(name, evaluate, describe, criteria, compares, frozenset(params))
        return evaluate
    return register


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the paper as data.

    Attributes:
        id: unique, stable identifier (the report's key).
        paper: the paper's sentence, quoted.
        rule: name of the rule in :data:`RULES` that evaluates it.
        criteria: result columns the claim is about (``"n_ord"``, ``"one_minus_s_ord"``, ...).
        winners: the methods claimed better, in the paper's order.
        others: the methods they are compared with; ``None`` (default) means every attribution method not among
            ``winners`` (:data:`~repro.vocabulary.ATTRIBUTION_METHODS` order), computed here.
        params: rule-specific settings (names declared by the rule).
    Raises:
        ValueError: unknown rule or criterion, a criteria count or a setting the rule does not take, a method
            both among ``winners`` and ``others``, or an empty group where the rule compares groups.
    """

    id: str
    paper: str
    rule: str
    criteria: tuple[str, ...]
    winners: tuple[str, ...] = ()
    others: tuple[str, ...] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.others is None:
            object.__setattr__(self, "others", tuple(m for m in ATTRIBUTION_METHODS if m not in self.winners))
        if self.rule not in RULES:
            raise ValueError(f"claim {self.id!r}: unknown rule {self.rule!r}; known: {', '.join(RULES)}")
        spec_rule = RULES[self.rule]
        unknown = [c for c in self.criteria if c not in LOWER_IS_BETTER]
        if not self.criteria or unknown:
            raise ValueError(f"claim {self.id!r}: criteria {self.criteria!r} must be known columns "
                             f"({', '.join(LOWER_IS_BETTER)})")
        if spec_rule.criteria is not None and len(self.criteria) != spec_rule.criteria:
            raise ValueError(f"claim {self.id!r}: rule {self.rule!r} takes {spec_rule.criteria} criterion/criteria")
        if set(self.params) - spec_rule.params:
            raise ValueError(f"claim {self.id!r}: rule {self.rule!r} takes no setting(s) "
                             f"{', '.join(sorted(set(self.params) - spec_rule.params))}")
        if set(self.winners) & set(self.others):
            raise ValueError(f"claim {self.id!r}: a method is both a winner and an other")
        if spec_rule.compares and not (self.winners and self.others):
            raise ValueError(f"claim {self.id!r}: rule {self.rule!r} needs winners and others")

    @property
    def statement(self) -> str:
        """What is tested, in words, written by the rule from this record."""
        return RULES[self.rule].describe(self)


def evaluate_claim(spec: ClaimSpec, memo: StatsMemo) -> Claim:
    """Evaluate one record over ``memo.table`` with its rule (not testable when one of its methods is missing)."""
    missing = memo.missing([*spec.winners, *spec.others])
    if missing:
        outcome = Outcome(None, f"not testable: method(s) {', '.join(missing)} missing from the table")
    else:
        outcome = RULES[spec.rule].evaluate(spec, memo)
    return Claim(**vars(outcome), id=spec.id, paper=spec.paper, statement=spec.statement)


def evaluate_claims(table: ResultsTable, claims: Sequence[ClaimSpec], resamples: int, seed: int) -> list[Claim]:
    """Every record of ``claims`` over ``table``, sharing one :class:`~repro.claims.stats.StatsMemo`.

    Raises:
        ValueError: two records with the same id.
    """
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate claim ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    memo = StatsMemo(table, resamples, seed)
    return [evaluate_claim(spec, memo) for spec in claims]


# ------------------------------------------------------------------------------------------ wording helpers

def _names(methods: Sequence[str]) -> str:
    return ", ".join(display_name(m) for m in methods)


def _each(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else "each of " + ", ".join(items)


def _direction_word(criterion: str) -> str:
    return "lower" if LOWER_IS_BETTER[criterion] else "higher"


def _labels(criteria: Sequence[str]) -> list[str]:
    return [CRITERION_LABELS[c] for c in criteria]


# ------------------------------------------------------------------------------------------ rules

def _describe_better_than_all(spec: ClaimSpec) -> str:
    (criterion,) = spec.criteria
    label, word = CRITERION_LABELS[criterion], _direction_word(criterion)
    if len(spec.winners) == 1:
        return f"the median {label} of {_names(spec.winners)} is {word} than that of each of {_names(spec.others)}"
    return (f"for each of the {len(spec.winners) * len(spec.others)} pairs ({_names(spec.winners)}) x "
            f"({_names(spec.others)}), the first method's median {label} is {word} than the second's")


@rule("better_than_all", _describe_better_than_all, criteria=1)
def better_than_all(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """Every winner's median is better than every other's; one paired test per (winner, other) pair."""
    (criterion,) = spec.criteria
    stats = memo.stats(criterion, [*spec.winners, *spec.others])
    median = {m: s.median for m, s in stats.items()}
    tests = [memo.paired_test(criterion, a, b) for a in spec.winners for b in spec.others]
    in_order = [is_better(criterion, median[t.a], median[t.b]) for t in tests]
    holds = all(in_order) and not any(math.isnan(v) for v in median.values())
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
        detail += f" ({order[0]} of {_names(spec.winners)} vs {order[1]} of the others)"
    if not holds:
        failing = [f"{display_name(t.a)} {median[t.a]:.4g} {worse} {display_name(t.b)} {median[t.b]:.4g}"
                   for t, ok in zip(tests, in_order) if not ok]
        detail += f"; {len(failing)} of {len(tests)} pairs out of order: " + "; ".join(failing)
    return Outcome(holds, detail, all(t.significant_better() for t in tests), list(stats.values()), tests)


def _describe_iqr_below(spec: ClaimSpec) -> str:
    winners, others = ([display_name(m) for m in group] for group in (spec.winners, spec.others))
    return (f"on {_each(_labels(spec.criteria))}, the IQR (q3 - q1 over images) of {_each(winners)} is lower than "
            f"that of {_each(others)}")


@rule("iqr_below", _describe_iqr_below)
def iqr_below(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """On each criterion, every winner's IQR is below every other's; the IQRs' bootstrap CIs are reported."""
    methods = [*spec.winners, *spec.others]
    stats, values, in_order, parts = [], {}, [], []
    for criterion in spec.criteria:
        by_method = memo.stats(criterion, methods)
        stats.extend(by_method.values())
        iqr = {m: by_method[m].iqr for m in methods}
        for m in methods:
            finite, _ = finite_values(memo.table, criterion, m)
            values[f"{criterion}_iqr_ci_{m}"] = list(bootstrap_iqr_ci(finite, memo.resamples, memo.seed))
        values[f"{criterion}_iqr"] = iqr
        in_order += [iqr[w] < iqr[o] for w in spec.winners for o in spec.others]
        parts.append(f"{CRITERION_LABELS[criterion]} IQR "
                     + " vs ".join(", ".join(f"{display_name(m)} {iqr[m]:.4g}" for m in group)
                                   for group in (spec.winners, spec.others)))
    return Outcome(all(in_order), "; ".join(parts), stats=stats, values=values)


def _describe_no_method_best_on_all(spec: ClaimSpec) -> str:
    directions = {_direction_word(c) for c in spec.criteria}
    direction = (f"{directions.pop()} is better for each" if len(directions) == 1
                 else "; ".join(f"{CRITERION_LABELS[c]}: {_direction_word(c)} is better" for c in spec.criteria))
    pool = (_names(spec.others) if spec.others
            else f"the attribution methods present, {_names(BASELINES)} excluded")
    return (f"the method with the best median differs between at least two of {', '.join(_labels(spec.criteria))} "
            f"({direction}; over {pool})")


@rule("no_method_best_on_all", _describe_no_method_best_on_all, compares=False)
def no_method_best_on_all(spec: ClaimSpec, memo: StatsMemo) -> Outcome:
    """The per-median winner (:func:`~repro.vocabulary.best_method`) is not the same method on every criterion."""
    pool = list(spec.others) or [m for m in memo.table.methods if m not in BASELINES]
    if len(pool) < 2:
        return Outcome(None, "not testable: fewer than two attribution methods in the table")
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
