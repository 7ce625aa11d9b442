"""The claims report of a results directory: :func:`check_claims` writes ``claims.md`` and ``claims.json``.

:class:`ClaimsReport` holds every claim of :data:`repro.claims.section42.CLAIMS` evaluated on one reading's table,
the claims that cannot be tested (:data:`~repro.claims.section42.NOT_TESTABLE`, with the reason), unless skipped
the toy examples recomputed through the criteria engine (:mod:`repro.claims.toys`), and, when the caller passes
the views of several readings, the readings table (:mod:`repro.claims.across`). Its forms:

* :meth:`ClaimsReport.summary`: a few lines for the terminal, one per check and the overall verdict;
* :meth:`ClaimsReport.to_dict`: the JSON of ``claims.json`` (every number, NaN written as ``null``);
* :meth:`ClaimsReport.to_markdown`: ``claims.md``, a summary table, each claim's numbers, the untestable claims,
  the toys, then the readings table. Its top paragraph says which text the line references index
  (:data:`repro.claims.paper_lines.LINES_NOTE`: ``paper.txt``, not shipped), and every reference is printed with the
  section of the paper it is in (:func:`repro.claims.paper_lines.cite_all`).

Exit code (:attr:`ClaimsReport.exit_code`): 1 when a check fails on the paper profile or with ``strict``; the
embedded profile is not the paper's setting and only reports.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from repro.claims.across import ReadingsReport, View, readings_report
from repro.claims.paired import ALPHA, LABELS
from repro.claims.paper_lines import LINES_NOTE, cite_all
from repro.claims.provenance import Provenance, image_classes, provenance
from repro.claims.rules import MIN_IMAGES, Claim, ClaimSpec, evaluate_claims, evaluate_with
from repro.claims.section42 import CLAIMS, NOT_TESTABLE, Untestable, about_another_model
from repro.claims.stability import STABLE, Stability, verdict_stability
from repro.claims.stats import DEFAULT_RESAMPLES, DEFAULT_SEED, StatsMemo
from repro.claims.text import finite_json, fmt, fmt_p, map_floats, md_table, verdict
from repro.claims.toys import ToyCheck, toy_checks
from repro.criteria.result import FLAG_REASONS
from repro.io import atomic_write_json, atomic_write_text, read_json
from repro.readings import CLAIM_READINGS, DEFAULTS
from repro.results import read_view
from repro.reading_cases import case_rows
from repro.vocabulary import CRITERION_LABELS, LOWER_IS_BETTER, display_name, is_better

if TYPE_CHECKING:
    from repro.results import ResultsTable

TITLE = "Claims of Section 4.2, checked, with Section 4.3 and the conclusion"


@dataclass
class ClaimsReport:
    """All claims and toy checks of one results directory (one reading), and optionally the readings table."""

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
    claim_readings: dict[str, str] = field(default_factory=lambda: {n: DEFAULTS[n] for n in CLAIM_READINGS})
    """How the claims read the table (:data:`repro.readings.CLAIM_READINGS`: ``tp_claims``, ``relative_claims``)."""
    reading: str = "default"
    """The label of the reading the claims read (:meth:`repro.readings.Reading.label`: the settings that differ
    from the paper's defaults)."""
    not_testable: list[Untestable] = field(default_factory=lambda: list(NOT_TESTABLE))
    readings: ReadingsReport | None = None
    provenance: Provenance | None = None
    """The model and data the verdicts rest on (:mod:`repro.claims.provenance`)."""
    stability: dict[str, Stability] = field(default_factory=dict)
    """Claim id -> how often its verdict survives resampling the images (:mod:`repro.claims.stability`)."""
    by_class: dict[str, list[Claim]] = field(default_factory=dict)
    """Class name -> the claims evaluated on that class's images alone (empty: see ``class_note``)."""
    class_note: str = ""
    class_sizes: dict[str, int] = field(default_factory=dict)
    flagged: dict[str, dict[str, int]] = field(default_factory=dict)
    """Flag reason -> method -> rows of the view whose finite value comes from a clipped penalty
    (:data:`repro.criteria.result.FLAG_REASONS`: the definition's value, e.g. TPN ~1e10, not a bug)."""

    def other_model(self, claim_id: str) -> str:
        """Why ``claim_id``'s verdict is about another model than the paper's (``""``: it is not)."""
        return about_another_model(claim_id, self.profile)

    def verdict_text(self, claim: Claim) -> str:
        """The verdict word, flagged when the claim is about the paper's VGG16 ranking and the run is not."""
        return verdict(claim.holds) + (" (about another model)" if self.other_model(claim.id) else "")

    def statements(self) -> list[Statement]:
        """The paper's statements (claims grouped by :attr:`Claim.group`, the project's inferences left out)."""
        return statements(self.claims)

    def statement_counts(self) -> dict[str, int]:
        """How many statements have each verdict (:attr:`Statement.verdict`)."""
        verdicts = [g.verdict for g in self.statements()]
        return {w: verdicts.count(w) for w in STATEMENT_VERDICTS}

    @property
    def exit_code(self) -> int:
        """1 when a check fails on the paper profile (or with ``strict``), else 0: the embedded profile reports."""
        return 1 if self.failed and (self.profile == "paper" or self.strict) else 0

    def summary(self) -> str:
        """A few lines for the terminal: the model and data, one line per check, the statements' verdict, then the
        readings summary if any."""
        where = self.provenance.short() if self.provenance else f"profile {self.profile}, {self.num_images} images"
        lines = [f"claims of Sections 4.2, 4.3 and the conclusion on {self.results_dir} ({where}; reading "
                 f"{self.reading}):"]
        for c in self.claims:
            share = self.stability.get(c.id)
            stable = f" [stable in {share.share:.0%} of resamples]" if share and not math.isnan(share.share) else ""
            inferred = " (project's inference)" if c.inferred else ""
            lines.append(f"  {self.verdict_text(c):14s} {c.id}{inferred}: {c.detail}{stable}")
        for t in self.toys:
            lines.append(f"  {verdict(t.holds):14s} {t.id} (toy example)")
        counts = self.statement_counts()
        verdict_line = (f"{counts['holds']} of {sum(counts.values())} paper statements hold ({counts['partly']} partly, "
                        f"{counts['does not hold']} do not, {counts['not testable']} not testable); "
                        f"{sum(t.holds for t in self.toys)} of {len(self.toys)} toy checks hold; "
                        f"{len(self.not_testable)} statements not testable on a results table")
        if self.failed and not self.exit_code:
            verdict_line += (f" (reported only: the {self.profile} profile is not the paper's setting; "
                             f"`repro check-claims {self.results_dir} --strict` exits 1 on a failed check)")
        lines.append(verdict_line)
        if self.readings is not None:
            lines.append(self.readings.summary())
        return "\n".join(lines)

    @property
    def failed(self) -> list[str]:
        """Ids of claims and toy checks that do not hold or could not be tested."""
        return [c.id for c in self.claims if c.holds is not True] + [t.id for t in self.toys if not t.holds]

    def to_dict(self) -> dict[str, Any]:
        """Every field, plus each statistic's ``iqr``, each test's effect size and one-sided p, the ``failed``
        ids and the readings table."""
        d = asdict(self)
        d["readings"] = self.readings.to_dict() if self.readings is not None else None
        for claim, raw in zip(self.claims, d["claims"]):
            for s, rs in zip(claim.stats, raw["stats"]):
                rs["iqr"] = s.iqr
            for key in ("tests", "extra_tests"):
                for t, rt in zip(getattr(claim, key), raw[key]):
                    rt.update(a_lower=t.a_lower, a_better=t.a_better, rank_biserial=t.rank_biserial,
                              effect_better=t.effect_better)
        d["failed"] = self.failed
        d["provenance"] = self.provenance.to_dict() if self.provenance else None
        d["stability"] = {cid: {"share": st.share, "resamples": st.resamples, "by_size": st.by_size,
                                "smallest_stable_images": st.smallest_stable} for cid, st in self.stability.items()}
        d["by_class"] = {name: {c.id: c.holds for c in claims} for name, claims in self.by_class.items()}
        d["statements"] = [{"group": g.group, "claims": [c.id for c in g.claims], "verdict": g.verdict}
                           for g in self.statements()]
        for claim, raw in zip(self.claims, d["claims"]):
            raw["about_another_model"] = self.other_model(claim.id)
            raw["median_wilcoxon_disagreements"] = median_test_disagreements(claim)
        return d

    def to_markdown(self) -> str:
        """The text of ``claims.md``."""
        return _markdown(self)


STATEMENT_VERDICTS: tuple[str, ...] = ("holds", "partly", "does not hold", "not testable")
"""The verdicts of a paper statement (:attr:`Statement.verdict`)."""


@dataclass
class Statement:
    """One evaluative statement of the paper and the claims (tests) that check it."""

    group: str
    claims: list[Claim]

    @property
    def verdict(self) -> str:
        """``holds`` (every decided test holds), ``does not hold`` (no decided test holds), ``partly`` (the decided
        tests disagree) or ``not testable`` (no test could be decided)."""
        decided = [c.holds for c in self.claims if c.holds is not None]
        if not decided:
            return "not testable"
        return "holds" if all(decided) else "does not hold" if not any(decided) else "partly"


def statements(claims: Sequence[Claim]) -> list[Statement]:
    """The paper's statements among ``claims``, in order: claims of one :attr:`Claim.group` together, the
    project's inferences (:attr:`Claim.inferred`) left out."""
    groups: dict[str, list[Claim]] = {}
    for c in claims:
        if not c.inferred:
            groups.setdefault(c.group or c.id, []).append(c)
    return [Statement(g, cs) for g, cs in groups.items()]


def flag_counts(table: "ResultsTable") -> dict[str, dict[str, int]]:
    """Flag reason -> method -> how many rows of ``table`` carry it (only the flags and methods that occur)."""
    reasons, methods = table.column("reason"), table.column("method")
    out: dict[str, dict[str, int]] = {}
    for flag in FLAG_REASONS:
        has = np.array([flag in str(r) for r in reasons], dtype=bool)
        if has.any():
            out[flag] = {m: int(np.sum(has & (methods == m))) for m in table.methods if np.any(has & (methods == m))}
    return out


def median_test_disagreements(claim: Claim) -> list[str]:
    """The pairs of the claim's family where the medians and the paired Wilcoxon test point opposite ways (the
    median of ``a`` better than ``b``'s while the signed ranks say ``b`` is better, or the reverse): a verdict
    decided by medians and a test of ranks can disagree on skewed distributions."""
    median = {(s.method, s.criterion): s.median for s in claim.stats}
    out = []
    for t in claim.tests:
        if t.ranks or t.b_criterion or (t.a, t.criterion) not in median or (t.b, t.criterion) not in median:
            continue
        ma, mb = median[t.a, t.criterion], median[t.b, t.criterion]
        if math.isnan(ma) or math.isnan(mb) or ma == mb or t.rank_sum_below == t.rank_sum_above:
            continue
        if is_better(t.criterion, ma, mb) != t.a_better:
            winner = t.a if is_better(t.criterion, ma, mb) else t.b
            loser = t.b if winner == t.a else t.a
            out.append(f"{LABELS[t.criterion]}: median favours {display_name(winner)}, signed ranks favour "
                       f"{display_name(loser)}")
    return out


def check_claims(results_dir: str | Path, profile: str | None = None, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED, toys: bool = True, write: bool = True,
                 strict: bool = False, claims: Sequence[ClaimSpec] = CLAIMS, *,
                 readings: Sequence[View] | None = None, **claim_readings: str) -> ClaimsReport:
    """Test every claim on the run's own reading of ``results_dir/results.csv`` (:func:`repro.results.read_view`:
    one row per (image, method)); write ``claims.md`` and ``claims.json`` there atomically.

    Args:
        results_dir: a run directory (``results.csv``, ``config.json``).
        profile: ``"embedded"`` or ``"paper"``; ``None`` reads it from ``config.json`` (``"unknown"`` if absent).
        resamples, seed: bootstrap settings (recorded in the report).
        toys: also recompute the toy examples through the criteria engine (needs TensorFlow).
        write: write the two report files.
        strict: make :attr:`ClaimsReport.exit_code` non-zero on any failure, whatever the profile.
        claims: the claim records to check (default: :data:`~repro.claims.section42.CLAIMS`).
        readings: views ``(label, table, claim readings)`` of several readings, the default reading FIRST
            (:func:`repro.claims.readings_report`). The full report is then the first view's (``results.csv`` is
            not read), followed by the claim x reading table.
        claim_readings: override the run's claim readings (``tp_claims="within"``, ``relative_claims="most"``;
            default: ``config.json``'s); not with ``readings``, whose first view says them.
    Raises:
        ReproError: missing or malformed results table.
    """
    results_dir = Path(results_dir)
    config_path = results_dir / "config.json"
    config = read_json(config_path) if config_path.exists() else {}
    profile = str(config.get("profile", "unknown")) if profile is None else profile
    across = None
    if readings and claim_readings:
        raise ValueError("check_claims: give claim readings through the views of `readings`, not beside them")
    if readings:
        reading, table, _ = readings[0]
        across = readings_report(readings, claims, resamples, seed)
        evaluated, memo = across.claims[0], across.memos[0]
    else:
        table, own = read_view(results_dir)
        reading = own.label()
        memo = StatsMemo(table, resamples, seed, **{**own.claim_readings(), **claim_readings})
        evaluated = evaluate_with(memo, claims)
    stability = verdict_stability(claims, {c.id: c.holds for c in evaluated}, memo, subsample=True)
    classes, class_note = image_classes({**config, "profile": profile}, table.image_ids)
    by_class, class_sizes = {}, {}
    for name in sorted(set(classes.values())):
        ids = [i for i in table.image_ids if classes.get(i) == name]
        class_sizes[name] = len(ids)
        by_class[name] = evaluate_claims(table.of_images(ids), claims, resamples, seed, **memo.claim_readings)
    flagged = flag_counts(table)
    report = ClaimsReport(str(results_dir), profile, len(table), len(table.image_ids), table.methods, resamples,
                          seed, evaluated, toy_checks() if toys else [], strict, dict(memo.claim_readings), reading,
                          readings=across, provenance=provenance({**config, "profile": profile},
                                                                 len(table.image_ids)),
                          stability=stability, by_class=by_class, class_note=class_note,
                          class_sizes=class_sizes, flagged=flagged)
    if write:
        atomic_write_json(results_dir / "claims.json", finite_json(report.to_dict()))
        atomic_write_text(results_dir / "claims.md", report.to_markdown())
    return report


def _direction_sentence(claims: Sequence[Claim]) -> str:
    """Which way is better for the criteria the claims report on (:data:`repro.vocabulary.LOWER_IS_BETTER`)."""
    criteria = list(dict.fromkeys(s.criterion for c in claims for s in c.stats))
    lower = [CRITERION_LABELS[c] for c in criteria if LOWER_IS_BETTER[c]]
    higher = [CRITERION_LABELS[c] for c in criteria if not LOWER_IS_BETTER[c]]
    if not higher:
        return "Lower is better for every criterion."
    if not lower:
        return "Higher is better for every criterion."
    return f"Lower is better for {', '.join(lower)}; higher is better for {', '.join(higher)}."


def _significant(c: Claim) -> str:
    return {None: "", True: "yes", False: "no"}[c.significant]


def claimed_effect(c: Claim, effect_better: float) -> float:
    """A test's rank-biserial in the report's one sign convention: positive supports the claim (the claimed
    method better, or for a claim that a method does worse, worse)."""
    return -effect_better if c.values.get("worse") else effect_better


def _tests_table(c: Claim) -> list[str]:
    rows = [[t.label_a, t.label_b, t.n_pairs, t.dropped, fmt(t.median_difference),
             fmt(claimed_effect(c, t.effect_better)), fmt_p(p), fmt_p(adj), fmt_p(t.p_value)]
            for t, p, adj in zip(c.tests, c.family_p or [float("nan")] * len(c.tests),
                                 c.adjusted_p or [float("nan")] * len(c.tests))]
    rows += [[t.label_a, t.label_b, t.n_pairs, t.dropped, fmt(t.median_difference),
              fmt(claimed_effect(c, t.effect_better)), f"{fmt_p(t.p_better)} (a better)", "outside the family",
              fmt_p(t.p_value)] for t in c.extra_tests]
    return md_table(["a", "b", "pairs", "dropped", "median(a - b)", "r (> 0 supports the claim)",
                     "p (one-sided)", "Holm p", "p (two-sided)"], rows)


def _values_lines(c: Claim) -> list[str]:
    """The numbers of the rules whose evidence is not a table of medians and tests."""
    v = c.values
    if "comparisons" in v:  # not_better
        return md_table(["criterion", "a", "b", "r in a's favour", "one-sided 95% upper bound (decides)",
                         "bootstrap upper bound", "inside +-margin", "p (H0: r >= margin)", "Holm p"],
                        [[LABELS[r["criterion"]], display_name(r["a"]), display_name(r["b"]), fmt(r["r_better"]),
                          fmt(r["r_better_bound"]), fmt(r["r_better_upper"]), "yes" if r["equivalent"] else "no",
                          fmt_p(r["p_margin"]), fmt_p(r["adjusted_p_margin"])]
                         for r in v["comparisons"]]) + [
            "", f"Literal reading (no one-sided Wilcoxon test of 'better' significant after Holm): "
                f"{'holds' if v['wilcoxon_better_none_significant'] else 'does not hold'}."]
    if "both" in v:  # no_frequent_winner_for_both
        crit = list(v["wins"])
        rows = [[display_name(m), *(v["wins"][k][m] for k in crit), f"{v['p_necessity'][m]:.1%}",
                 f"{v['p_sufficiency'][m]:.1%}", f"{v['both'][m]:.1%}", f"{v['expected'][m]:.1%}",
                 fmt_p(v["adjusted_p"][m])] for m in v["both"]]
        same = "; ".join(f"{' and '.join(LABELS[k] for k in pair.split('|'))} {share:.1%} "
                         f"({v['same_winner_expected'][pair]:.1%} if independent)"
                         for pair, share in v["same_winner"].items())
        return md_table(["method", *(f"wins {LABELS[k]}" for k in crit), "wins N-Ord or TPN", "wins S-Ord or TPS",
                         "wins both", "expected if independent", f"Holm p (both < {v['threshold']:.3g})"], rows) + [
            "", f"Images: {v['n_images']} with a winner on every criterion ({v['dropped']} dropped). Same winner "
                f"on: {same}. Images whose four winners are Figure 6's: {v['figure6_images']}."]
    if "pair_shares" in v:  # necessity_sufficiency_exclusive
        return md_table(["necessity winner", "sufficiency winner", "same method", "expected if independent"],
                        [[LABELS[a], LABELS[b], f"{share:.1%}", f"{v['pair_expected'][f'{a}|{b}']:.1%}"]
                         for (a, b), share in ((k.split("|"), x) for k, x in v["pair_shares"].items())]) + [
            "", f"Mean of the four pairs: {v['observed']:.1%} against {v['expected']:.1%} if independent "
                f"({v['permutations']} permutations, p = {fmt_p(v['permutation_p'])})."]
    if "per_method" in v:  # no_method_significantly_better_on_all
        return md_table(["method", "tests", "significant after Holm", "smallest r in its favour"],
                        [[display_name(m), r["tests"], r["significant"], fmt(r["min_effect_better"])]
                         for m, r in v["per_method"].items()])
    return []


def _stability_text(report: ClaimsReport, claim_id: str) -> str:
    st = report.stability.get(claim_id)
    if st is None or math.isnan(st.share):
        return ""
    smallest = st.smallest_stable
    where = (f"stable from {smallest} images" if smallest is not None
             else f"not stable at {report.num_images} images")
    return f"{st.share:.0%} ({where})"


def _class_cells(report: ClaimsReport, claim_id: str) -> list[str]:
    return [verdict(next(c for c in claims if c.id == claim_id).holds) for claims in report.by_class.values()]


def _provenance_lines(report: ClaimsReport) -> list[str]:
    if report.provenance is None:
        return ["The run's config.json is missing: the model and data these verdicts rest on are unknown.", ""]
    return ["## What these verdicts rest on", "", *report.provenance.lines(), ""]


def _conventions(report: ClaimsReport) -> list[str]:
    return [
        f"Medians over images with NaN rows dropped; 95% CI: percentile bootstrap of the median, "
        f"{report.resamples} resamples, seed {report.seed}. {_direction_sentence(report.claims)} What decides a "
        "verdict is the rule's: medians (their order, ranks or IQRs) for most claims, per-image winners for the "
        "two winner statements, Holm-corrected paired tests for the inferential test of C3, and the one-sided 95% "
        "upper bound of the rank-biserial for the no-difference claim C7 (whose *significant* is the bootstrap "
        f"test of that margin). A claim whose compared methods have fewer than {MIN_IMAGES} finite values on one "
        "of its criteria is NOT TESTABLE.",
        "**One sign convention for every effect size: r > 0 supports the claim** (the matched-pairs rank-biserial "
        "correlation of the paired Wilcoxon signed-rank test by image, turned to the claimed direction). Multiple "
        f"comparisons: Holm within each claim's family (every test the claim makes), alpha {ALPHA}; *significant* "
        "means the Holm-adjusted tests support the claim as its rule says.",
        f"**Stability**: the share of {report.resamples} bootstrap resamples of the images (seed {report.seed}) "
        "whose verdict is the same as on all images, and the smallest number of images from which on it is the "
        f"same in at least {STABLE:.0%} of resamples (m-out-of-n bootstrap at {MIN_IMAGES}, {2 * MIN_IMAGES}, "
        f"{4 * MIN_IMAGES}, ... images). Two verdicts are limited by power at small sizes whatever the data: the "
        f"inferential test of C3 cannot reject its 24-test family at {MIN_IMAGES} images (so 'holds' is certain "
        "there) and C7's bound is r + 0.59 at 10 images (so 'does not hold' is); their 'stable from' says so "
        "rather than measuring the data.", ""]


def _flag_lines(report: ClaimsReport) -> list[str]:
    if not report.flagged:
        return []
    return ["Values that are the definition's, not a bug: " + "; ".join(
        f"\"{flag.split(' (')[0]}\" on " + ", ".join(f"{n} of the {report.num_images} images of {display_name(m)}"
                                                for m, n in by_method.items())
        for flag, by_method in report.flagged.items())
        + ". Their TPN / TPS are finite but huge (footnote 2's clipping makes the penalty ~0), and `reason` in "
        "results.csv names it. Medians and ranks use them as numbers.", ""]


def _markdown(report: ClaimsReport) -> str:
    lines = [
        f"# {TITLE}", "",
        f"Results: `{report.results_dir}` (profile **{report.profile}**, reading **{report.reading}**), "
        f"{report.num_rows} rows, {report.num_images} images, methods: "
        f"{', '.join(display_name(m) for m in report.methods)}.", "", LINES_NOTE, "",
        *_provenance_lines(report), *_conventions(report), *_flag_lines(report),
    ]
    groups, counts = report.statements(), report.statement_counts()
    lines += ["## The paper's statements", "",
              f"**{counts['holds']} of {len(groups)} statements of the paper hold** on this run ({counts['partly']} "
              f"partly, {counts['does not hold']} do not, {counts['not testable']} not testable). A statement "
              "tested two ways has a row per test; the project's inferences are listed after the statements and "
              "not counted.", ""]
    class_names = list(report.by_class)
    header = ["statement", "claim", "lines", "verdict", "significant", "stability", *(f"class {n}" for n in
                                                                                      class_names), "detail"]
    rows = []
    for g in groups:
        for k, c in enumerate(g.claims):
            rows.append([f"`{g.group}`" if k == 0 else "", f"`{c.id}`", cite_all(c.lines), report.verdict_text(c),
                         _significant(c), _stability_text(report, c.id), *_class_cells(report, c.id), c.detail])
    for c in report.claims:
        if c.inferred:
            rows.append(["(project's inference)", f"`{c.id}`", cite_all(c.lines), report.verdict_text(c),
                         _significant(c),
                         _stability_text(report, c.id), *_class_cells(report, c.id), c.detail])
    rows += [["(toy)", f"`{t.id}`", "", verdict(t.holds), "", "", *([""] * len(class_names)), t.statement]
             for t in report.toys]
    lines += md_table(header, rows)
    if class_names:
        split = [c.id for c in report.claims if c.holds is not None
                 and any(next(x for x in cs if x.id == c.id).holds != c.holds for cs in report.by_class.values())]
        lines += ["", f"Per-class verdicts: each claim re-tested on the images of one class alone (classes of "
                      f"{', '.join(f'{n} {report.class_sizes[n]}' for n in class_names)} images). "
                      + (f"The class verdicts differ from the pooled one for {len(split)} claims: "
                         f"{', '.join(f'`{i}`' for i in split)}." if split else
                         "Every class gives the pooled verdict.")]
    elif report.class_note:
        lines += ["", f"Per-class verdicts not reported: {report.class_note}."]
    flagged = [c.id for c in report.claims if report.other_model(c.id)]
    if flagged:
        lines += ["", f"*About another model*: {len(flagged)} claims state the paper's VGG16 / ImageNet ranking "
                      f"({', '.join(f'`{i}`' for i in flagged)}); this run tests them on another model, so their "
                      "verdicts say how these methods rank here, not whether the paper measured its ranking right."]
    for c in report.claims:
        lines += ["", f"## `{c.id}`: {report.verdict_text(c)}", "", f"> {c.paper}", "",
                  cite_all(f"({c.lines}; {c.ref}; rule `{c.rule}`" + ("; the project's inference, not a statement "
                                                                     "of the paper" if c.inferred else "") + ")"), "",
                  f"Tested: {c.statement}.", ""]
        if report.other_model(c.id):
            lines += [f"About another model: {report.other_model(c.id)}.", ""]
        if c.stats:
            lines += md_table(
                ["criterion", "method", "n", "NaN dropped", "median", "95% CI", "q1", "q3", "IQR"],
                [[CRITERION_LABELS[s.criterion], display_name(s.method), s.n, s.dropped, fmt(s.median),
                  f"[{fmt(s.ci_low)}, {fmt(s.ci_high)}]", fmt(s.q1), fmt(s.q3), fmt(s.iqr)] for s in c.stats])
            lines.append("")
        if c.tests or c.extra_tests:
            lines += _tests_table(c) + [""]
        if _values_lines(c):
            lines += _values_lines(c) + [""]
        disagree = median_test_disagreements(c)
        if disagree:
            lines += [f"Medians and paired Wilcoxon tests disagree on {len(disagree)} pair(s): "
                      + "; ".join(disagree) + ".", ""]
        stable = _stability_text(report, c.id)
        lines.append(f"Result: {c.detail}" + (f" (significant: {_significant(c)})" if c.significant is not None
                                               else "") + (f"; stability {stable}." if stable else "."))
    lines += ["", "## Statements that cannot be tested", ""]
    lines += md_table(["claim", "lines", "quote", "why not"],
                      [[f"`{u.id}` ({cite_all(u.ref)})", cite_all(u.lines), u.paper, cite_all(u.reason)]
                       for u in report.not_testable])
    if report.toys:
        lines += ["", "## Toy examples, recomputed through the criteria engine", ""]
        for t in report.toys:
            lines += [f"### `{t.id}`: {verdict(t.holds)}", "", f"> {t.paper}", "", f"Tested: {t.statement}.", "",
                      f"Provenance: {cite_all(t.provenance)}", "",
                      f"- expected: `{t.expected}`", f"- computed: `{map_floats(t.computed, lambda v: round(v, 6))}`",
                      ""]
    failed = report.failed
    lines += ["", f"**{len(failed)} of {len(report.claims) + len(report.toys)} checks do not hold"
              + (f": {', '.join(failed)}**" if failed else "**")]
    lines += ["", "## Each reading argued from both sides", "",
              "Every default is a decision; the other side's strongest argument stands beside it "
              "(docs/criteria.md and docs/methods.md give the paper's lines in full).", ""]
    lines += md_table(["setting", "default", "why the default", "the other side's strongest case"],
                      [[f"`{name}`", f"`{value}`", cite_all(why), cite_all(against)]
                       for name, value, why, against in case_rows()])
    if report.readings is not None:
        lines += ["", report.readings.to_markdown().rstrip("\n")]
    return "\n".join(lines) + "\n"

