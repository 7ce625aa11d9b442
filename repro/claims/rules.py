"""Claims as data: a :class:`ClaimSpec` record per claim and a registry of rules that evaluate a record over a table.

A record (see :mod:`repro.claims.section42`) holds what the paper says and what is compared: the quoted
sentence and its lines, the criteria, the methods the claim is about (``winners``: claimed better, or for the
"not better" / "worse" rules the methods claimed not better / worse), the methods they are compared with
(``others``; by default every attribution method of :data:`~repro.vocabulary.PAPER_METHODS` not among the
winners, so a group is written once), the name of its rule and the rule's settings (``params``). The rule
evaluates the record (:func:`evaluate_claim`) and also writes the statement of what is tested from it
(:attr:`Rule.describe`), so the text cannot drift from the computation.

The rules live in :mod:`repro.claims.between` (methods against methods), :mod:`repro.claims.within` (a method's
necessity against its sufficiency, and the proportionality claims whose reading ``tp_claims`` chooses) and
:mod:`repro.claims.overall` (no method best on all, per-image winners).

Verdict and significance, the same for every rule:

* ``holds`` is decided by what the paper reads, the boxplots of Figure 5: medians (or IQRs, or effect sizes for a
  claim of no difference, or per-image winner shares);
* every paired comparison is a Wilcoxon signed-rank test by image, one-sided in the claimed direction, with the
  matched-pairs rank-biserial correlation beside its p-value (:mod:`repro.claims.paired`: ``r > 0`` means the
  first method is lower);
* multiple comparisons: Holm's step-down correction within each claim's family, the family being every test the
  claim makes (e.g. 6 pairs for "DeepLIFT is best on N-Ord", 4 for "IG and DeepLIFT are not better than SM on TPN
  and TPS"), alpha :data:`~repro.claims.paired.ALPHA` = 0.05; no correction across claims (each is a statement of
  its own). ``significant`` is True when the claimed pattern is supported by the Holm-adjusted tests (each rule
  says which), ``None`` for a rule with no inferential form.

A verdict needs data: a claim is NOT TESTABLE (``holds`` is ``None``, the reason in ``detail``) when one of its
methods is missing from the table, or has fewer than :data:`MIN_IMAGES` finite values on one of its criteria (e.g.
Grad-CAM's TPS where every map is empty: ``n = 0``). A new claim is a new
record; a new kind of claim is a function ``(spec, memo) -> Outcome`` registered with :func:`rule`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from repro.claims.paired import ALPHA, PairedTest, all_rejected, holm
from repro.claims.stats import DEFAULT_RESAMPLES, DEFAULT_SEED, MethodStats, StatsMemo
from repro.vocabulary import CRITERION_LABELS, LOWER_IS_BETTER, PAPER_METHODS, display_name

if TYPE_CHECKING:
    from repro.results import ResultsTable


MIN_IMAGES = 10
"""The fewest images with a finite value, per compared method and criterion, on which a claim is tested: below it
the claim is NOT TESTABLE. Why 10: a claim's family holds up to 24 one-sided tests (a method against six others on
four criteria), and with Holm at alpha 0.05 the first must reach 0.05 / 24 = 0.0021; the smallest p-value a
signed-rank test of ``n`` pairs can give is ``2^-n``, below 0.0021 from ``n = 9`` on. Ten images is the first round
number at which every family of the report can be significant at all."""


@dataclass
class Outcome:
    """What a rule finds: the verdict (``None``: not testable), a one-line detail and the numbers behind it.

    ``tests``: the claim's family of paired tests; ``family_p``: their one-sided p-values in the direction the
    family tests (same order), ``adjusted_p`` the same after Holm's correction; ``extra_tests``: tests reported
    beside the claim but outside its family (they decide nothing).
    """

    holds: bool | None
    detail: str
    significant: bool | None = None
    stats: list[MethodStats] = field(default_factory=list)
    tests: list[PairedTest] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    family_p: list[float] = field(default_factory=list)
    adjusted_p: list[float] = field(default_factory=list)
    extra_tests: list[PairedTest] = field(default_factory=list)


@dataclass(kw_only=True)
class Claim(Outcome):
    """A claim checked on one table: the record's ``id``, the paper's sentence and its lines, the tested statement,
    the outcome."""

    id: str
    paper: str
    statement: str
    lines: str = ""
    ref: str = ""
    rule: str = ""
    group: str = ""
    """The paper statement this claim tests (:attr:`ClaimSpec.group`)."""
    inferred: bool = False
    """A test the project infers, not a statement of the paper (:attr:`ClaimSpec.inferred`)."""


@dataclass(frozen=True)
class Rule:
    """A registered rule: ``evaluate(spec, memo)`` decides, ``describe(spec)`` says what is tested.

    ``criteria``: how many criteria a record of this rule names (``None``: one or more); ``compares``: whether it
    compares ``winners`` with ``others`` (both must then be non-empty); ``params``: the setting names a record may
    give; ``resolve``: for a rule that only chooses between readings (e.g. ``tp_claims``), the concrete record
    to evaluate instead, given the evaluation's settings (``evaluate`` is then not called).
    """

    name: str
    evaluate: Callable[["ClaimSpec", StatsMemo], Outcome]
    describe: Callable[["ClaimSpec"], str]
    criteria: int | None = None
    compares: bool = True
    params: frozenset[str] = frozenset()
    resolve: Callable[["ClaimSpec", StatsMemo], "ClaimSpec"] | None = None
    required: frozenset[str] = frozenset()
    """The settings of ``params`` a record must give."""


RULES: dict[str, Rule] = {}
"""Rule name -> :class:`Rule`, filled by :func:`rule`."""


def rule(name: str, describe: Callable[["ClaimSpec"], str], criteria: int | None = None, compares: bool = True,
         params: Sequence[str] = (), resolves: bool = False, required: Sequence[str] = ()) -> Callable:
    """Decorator registering ``evaluate(spec, memo) -> Outcome`` in :data:`RULES` under ``name``; with
    ``resolves`` the function is ``resolve(spec, memo) -> ClaimSpec`` (see :class:`Rule`)."""
    def register(fn: Callable) -> Callable:
        if name in RULES:
            raise ValueError(f"rule {name!r} is already registered")
        RULES[name] = Rule(name, _no_evaluate if resolves else fn, describe, criteria, compares, frozenset(params),
                           fn if resolves else None, frozenset(required))
        return fn
    return register


def _no_evaluate(spec: "ClaimSpec", memo: StatsMemo) -> Outcome:
    raise TypeError(f"rule {spec.rule!r} resolves to another rule; evaluate the record with evaluate_claim")


@dataclass(frozen=True)
class ClaimSpec:
    """One claim of the paper as data.

    Attributes:
        id: unique, stable identifier (the report's key).
        paper: the paper's sentence, quoted verbatim (hyphens of line breaks removed).
        rule: name of the rule in :data:`RULES` that evaluates it.
        criteria: result columns the claim is about (``"n_ord"``, ``"one_minus_s_ord"``, ...).
        winners: the methods the claim is about, in the paper's order.
        others: the methods they are compared with; ``None`` (default) means every attribution method not among
            ``winners`` (:data:`~repro.vocabulary.PAPER_METHODS`, the paper's seven, in its order), computed here.
        params: rule-specific settings (names declared by the rule).
        lines: where the sentence is in ``paper.txt`` (``"L813-815"``).
        ref: the claim's label in the claims inventory (``"C1a"``), and notes.
        group: the paper statement the record tests (default: its ``id``). A statement tested two ways (with and
            without "significantly") is two records of one group: the report counts statements, not records.
        inferred: the record is the project's inference from the text, not a statement of the paper; the report
            shows it apart and does not count it among the paper's statements.
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
    lines: str = ""
    ref: str = ""
    group: str = ""
    inferred: bool = False

    def __post_init__(self) -> None:
        if not self.group:
            object.__setattr__(self, "group", self.id)
        if self.others is None:
            object.__setattr__(self, "others", tuple(m for m in PAPER_METHODS if m not in self.winners))
        if self.rule not in RULES:
            raise ValueError(f"claim {self.id!r}: unknown rule {self.rule!r}; known: {', '.join(RULES)}")
        spec_rule = RULES[self.rule]
        unknown = [c for c in self.criteria if c not in LOWER_IS_BETTER]
        if not self.criteria or unknown:
            raise ValueError(f"claim {self.id!r}: criteria {self.criteria!r} must be known columns "
                             f"({', '.join(LOWER_IS_BETTER)})")
        if spec_rule.criteria is not None and len(self.criteria) != spec_rule.criteria:
            raise ValueError(f"claim {self.id!r}: rule {self.rule!r} takes {spec_rule.criteria} criterion/criteria")
        if spec_rule.required - set(self.params):
            raise ValueError(f"claim {self.id!r}: rule {self.rule!r} needs the setting(s) "
                             f"{', '.join(sorted(spec_rule.required - set(self.params)))}")
        if set(self.params) - spec_rule.params:
            raise ValueError(f"claim {self.id!r}: rule {self.rule!r} takes no setting(s) "
                             f"{', '.join(sorted(set(self.params) - spec_rule.params))}")
        if set(self.winners) & set(self.others):
            raise ValueError(f"claim {self.id!r}: a method is both a winner and an other")
        if spec_rule.compares and not (self.winners and self.others):
            raise ValueError(f"claim {self.id!r}: rule {self.rule!r} needs winners and others")

    @property
    def tested_criteria(self) -> tuple[str, ...]:
        """Every criterion the record reads: its ``criteria``, or the criteria of its ``pairs`` setting."""
        return tuple(dict.fromkeys(c for pair in self.params.get("pairs", ()) for c in pair)) or self.criteria

    @property
    def statement(self) -> str:
        """What is tested, in words, written by the rule from this record."""
        return RULES[self.rule].describe(self)


def evaluate_claim(spec: ClaimSpec, memo: StatsMemo) -> Claim:
    """Evaluate one record over ``memo.table`` with its rule (not testable when one of its methods is missing or
    has fewer than :data:`MIN_IMAGES` finite values on one of its criteria).

    A rule that chooses between readings (:attr:`Rule.resolve`) is first replaced by the record it resolves to
    under ``memo``'s settings; the claim's ``statement`` and ``rule`` are then that record's.
    """
    spec = resolved(spec, memo)
    outcome = _untestable(spec, memo) or RULES[spec.rule].evaluate(spec, memo)
    return Claim(**vars(outcome), id=spec.id, paper=spec.paper, statement=spec.statement, lines=spec.lines,
                 ref=spec.ref, rule=spec.rule, group=spec.group, inferred=spec.inferred)


def resolved(spec: ClaimSpec, memo: StatsMemo) -> ClaimSpec:
    """The record evaluated for ``spec`` under ``memo``'s claim readings (a rule that chooses between readings,
    :attr:`Rule.resolve`, replaced by the record it stands for)."""
    while RULES[spec.rule].resolve is not None:
        spec = RULES[spec.rule].resolve(spec, memo)
    return spec


def compared_methods(spec: ClaimSpec, memo: StatsMemo) -> list[str]:
    """The methods a record compares: its ``winners`` and ``others``, or for a rule over every method (``others``
    empty) the paper's methods (:data:`~repro.vocabulary.PAPER_METHODS`) present in the table; a method outside
    the paper's seven never enters a claim."""
    named = [*spec.winners, *spec.others]
    return named if spec.others else [*named, *(m for m in PAPER_METHODS
                                                if m in memo.table.methods and m not in named)]


def _untestable(spec: ClaimSpec, memo: StatsMemo) -> Outcome | None:
    """The not-testable outcome of a record whose methods are missing or have fewer than :data:`MIN_IMAGES`
    finite values on one of its criteria, else ``None``."""
    missing = memo.missing([*spec.winners, *spec.others])
    if missing:
        return Outcome(None, f"not testable: method(s) {names(missing)} missing from the table")
    stats = [s for c in spec.tested_criteria for s in memo.stats(c, compared_methods(spec, memo)).values()]
    short = [s for s in stats if s.n < MIN_IMAGES]
    if short:
        return Outcome(None, f"not testable: {too_few_values(short)} (at least {MIN_IMAGES} images needed)",
                       stats=stats)
    return None


def too_few_values(short: Sequence[MethodStats]) -> str:
    """Which methods have how many finite values of which criteria, grouped so a table of few images reads in one
    line: ``"GradCAM has 0 finite N-Ord value(s)"``, ``"SM, SG, GradCAM have 4 finite N-Ord, TPN value(s)"``."""
    by_method: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    for method in dict.fromkeys(s.method for s in short):
        mine = [s for s in short if s.method == method]
        for n in dict.fromkeys(s.n for s in mine):
            criteria = tuple(CRITERION_LABELS[s.criterion] for s in mine if s.n == n)
            by_method.setdefault((n, criteria), []).append(method)
    return "; ".join(f"{names(methods)} {'has' if len(methods) == 1 else 'have'} {n} finite {', '.join(criteria)} "
                     f"value(s)" for (n, criteria), methods in by_method.items())


def evaluate_claims(table: "ResultsTable", claims: Sequence[ClaimSpec] | None = None,
                    resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED, **claim_readings: str
                    ) -> list[Claim]:
    """Every record of ``claims`` (default: :data:`repro.claims.section42.CLAIMS`) over ``table``, sharing one
    :class:`~repro.claims.stats.StatsMemo`.

    Args:
        table: the one-row-per-(image, method) table of one reading.
        claim_readings: the readings of :data:`repro.readings.CLAIM_READINGS`: ``tp_claims`` (the proportionality
            claims of Section 4.2, ``"between"`` methods against methods or ``"within"`` each method's TPN rank
            against its TPS rank, :mod:`repro.claims.within`) and ``relative_claims`` ("relatively better":
            ``"all"`` or ``"most"``, :mod:`repro.claims.between`).
    Raises:
        ValueError: two records with the same id, or an unknown claim reading.
    """
    return evaluate_with(StatsMemo(table, resamples, seed, **claim_readings), claims)


def evaluate_with(memo: StatsMemo, claims: Sequence[ClaimSpec] | None = None) -> list[Claim]:
    """:func:`evaluate_claims` with a given memo (its table and settings), e.g. one shared by two readings of the
    same table (:meth:`~repro.claims.stats.StatsMemo.with_claim_readings`)."""
    if claims is None:
        from repro.claims.section42 import CLAIMS as claims
    ids = [c.id for c in claims]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate claim ids: {sorted({i for i in ids if ids.count(i) > 1})}")
    return [evaluate_claim(spec, memo) for spec in claims]


# ------------------------------------------------------------------------------------------ helpers of the rules

def holm_family(tests: Sequence[PairedTest], worse: bool = False) -> tuple[list[float], list[float]]:
    """The one-sided p-values of ``tests``, each in the claimed direction (``a`` better, or with ``worse`` ``a``
    worse), and the same Holm-adjusted: ``(family_p, adjusted_p)``."""
    raw = [t.p_worse if worse else t.p_better for t in tests]
    return raw, holm(raw)


def rejected(adjusted: Sequence[float], alpha: float = ALPHA) -> bool:
    """Every Holm-adjusted p-value of the family is below ``alpha``."""
    return all_rejected(adjusted, alpha)


def names(methods: Sequence[str]) -> str:
    return ", ".join(display_name(m) for m in methods)


def each(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else "each of " + ", ".join(items)


def direction_word(criterion: str, worse: bool = False) -> str:
    lower = LOWER_IS_BETTER[criterion] != worse
    return "lower" if lower else "higher"


def labels(criteria: Sequence[str]) -> list[str]:
    return [CRITERION_LABELS[c] for c in criteria]
