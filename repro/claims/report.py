"""The claims report of a results directory: :func:`check_claims` writes ``claims.md`` and ``claims.json``.

:class:`ClaimsReport` holds every claim of :data:`repro.claims.section42.CLAIMS` evaluated on one reading's table,
the claims that cannot be tested (:data:`~repro.claims.section42.NOT_TESTABLE`, with the reason), unless skipped
the toy examples recomputed through the criteria engine (:mod:`repro.claims.toys`), and, when the caller passes
the views of several readings, the readings table (:mod:`repro.claims.across`). Its forms:

* :meth:`ClaimsReport.summary`: a few lines for the terminal, one per check and the overall verdict;
* :meth:`ClaimsReport.to_dict`: the JSON of ``claims.json`` (every number, NaN written as ``null``);
* :meth:`ClaimsReport.to_markdown`: ``claims.md``, a summary table, each claim's numbers, the untestable claims,
  the toys, then the readings table.

Exit code (:attr:`ClaimsReport.exit_code`): 1 when a check fails on the paper profile or with ``strict``; the
embedded profile is not the paper's setting and only reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence

from repro.claims.across import ReadingsReport, View, readings_report
from repro.claims.paired import ALPHA, LABELS
from repro.claims.rules import Claim, ClaimSpec, evaluate_claims
from repro.claims.section42 import CLAIMS, NOT_TESTABLE, Untestable
from repro.claims.stats import DEFAULT_RESAMPLES, DEFAULT_SEED
from repro.claims.text import finite_json, fmt, fmt_p, map_floats, md_table, verdict
from repro.claims.toys import ToyCheck, toy_checks
from repro.io import atomic_write_json, atomic_write_text, read_json
from repro.readings import DEFAULTS
from repro.results import read_view
from repro.vocabulary import CRITERION_LABELS, LOWER_IS_BETTER, display_name

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
    tp_claims: str = DEFAULTS["tp_claims"]
    reading: str = "default"
    """The label of the reading the claims read (:meth:`repro.readings.Reading.label`: the settings that differ
    from the paper's defaults)."""
    not_testable: list[Untestable] = field(default_factory=lambda: list(NOT_TESTABLE))
    readings: ReadingsReport | None = None

    @property
    def exit_code(self) -> int:
        """1 when a check fails on the paper profile (or with ``strict``), else 0: the embedded profile reports."""
        return 1 if self.failed and (self.profile == "paper" or self.strict) else 0

    def summary(self) -> str:
        """A few lines for the terminal: one per check, the overall verdict, then the readings summary if any."""
        lines = [f"claims of Sections 4.2, 4.3 and the conclusion on {self.results_dir} (profile {self.profile}, "
                 f"{self.num_images} images, reading {self.reading}, tp_claims={self.tp_claims}):"]
        for c in self.claims:
            lines.append(f"  {verdict(c.holds):14s} {c.id}: {c.detail}")
        for t in self.toys:
            lines.append(f"  {verdict(t.holds):14s} {t.id} (toy example)")
        n = len(self.claims) + len(self.toys)
        failed = self.failed
        verdict_line = f"{n - len(failed)} of {n} checks hold; {len(self.not_testable)} claims not testable"
        if failed and not self.exit_code:
            verdict_line += (" (reported only: the embedded profile is not the paper's setting; "
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
        return d

    def to_markdown(self) -> str:
        """The text of ``claims.md``."""
        return _markdown(self)


def check_claims(results_dir: str | Path, profile: str | None = None, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED, toys: bool = True, write: bool = True,
                 strict: bool = False, claims: Sequence[ClaimSpec] = CLAIMS, *, tp_claims: str | None = None,
                 readings: Sequence[View] | None = None) -> ClaimsReport:
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
        tp_claims: reading of the proportionality claims; ``None``: the run's (``config.json``'s ``tp_claims``,
            else the default ``"between"``). Ignored with ``readings`` (the first view's is used).
        readings: views ``(label, table, tp_claims)`` of several readings, the default reading FIRST
            (:func:`repro.claims.readings_report`). The full report is then the first view's (``results.csv`` is
            not read), followed by the claim x reading table.
    Raises:
        ReproError: missing or malformed results table.
    """
    results_dir = Path(results_dir)
    config_path = results_dir / "config.json"
    config = read_json(config_path) if config_path.exists() else {}
    profile = str(config.get("profile", "unknown")) if profile is None else profile
    across = None
    if readings:
        reading, table, tp_claims = readings[0]
        across = readings_report(readings, claims, resamples, seed)
        evaluated = across.claims[0]
    else:
        table, own = read_view(results_dir)
        reading, tp_claims = own.label(), tp_claims or own.tp_claims
        evaluated = evaluate_claims(table, claims, resamples, seed, tp_claims=tp_claims)
    report = ClaimsReport(str(results_dir), profile, len(table), len(table.image_ids), table.methods, resamples,
                          seed, evaluated, toy_checks() if toys else [], strict, tp_claims, reading,
                          readings=across)
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


def _tests_table(c: Claim) -> list[str]:
    rows = [[t.label_a, t.label_b, t.n_pairs, t.dropped, fmt(t.median_difference), fmt(t.rank_biserial),
             fmt_p(p), fmt_p(adj), fmt_p(t.p_value)]
            for t, p, adj in zip(c.tests, c.family_p or [float("nan")] * len(c.tests),
                                 c.adjusted_p or [float("nan")] * len(c.tests))]
    rows += [[t.label_a, t.label_b, t.n_pairs, t.dropped, fmt(t.median_difference), fmt(t.rank_biserial),
              f"{fmt_p(t.p_lower)} (a lower)", "outside the family", fmt_p(t.p_value)] for t in c.extra_tests]
    return md_table(["a", "b", "pairs", "dropped", "median(a - b)", "r", "p (one-sided)", "Holm p",
                     "p (two-sided)"], rows)


def _values_lines(c: Claim) -> list[str]:
    """The numbers of the rules whose evidence is not a table of medians and tests."""
    v = c.values
    if "comparisons" in v:  # not_better
        return md_table(["criterion", "a", "b", "r in a's favour", "upper 95% bound", "p (H0: r >= margin)",
                         "Holm p"],
                        [[LABELS[r["criterion"]], display_name(r["a"]), display_name(r["b"]), fmt(r["r_better"]),
                          fmt(r["r_better_upper"]), fmt_p(r["p_margin"]), fmt_p(r["adjusted_p_margin"])]
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
    if "per_method" in v:  # no_method_significantly_better_on_all
        return md_table(["method", "tests", "significant after Holm", "smallest r in its favour"],
                        [[display_name(m), r["tests"], r["significant"], fmt(r["min_effect_better"])]
                         for m, r in v["per_method"].items()])
    return []


def _markdown(report: ClaimsReport) -> str:
    lines = [
        f"# {TITLE}", "",
        f"Results: `{report.results_dir}` (profile **{report.profile}**, reading **{report.reading}**, "
        f"tp_claims={report.tp_claims}), {report.num_rows} rows, {report.num_images} images, methods: "
        f"{', '.join(display_name(m) for m in report.methods)}.",
        f"Medians over images with NaN rows dropped; 95% CI: percentile bootstrap of the median, "
        f"{report.resamples} resamples, seed {report.seed}. {_direction_sentence(report.claims)} Verdicts are "
        "decided by the medians (ranks, IQRs, effect sizes or per-image winners where the rule says so).",
        "Paired tests: Wilcoxon signed-rank by image, one-sided in the claimed direction; effect size: matched-pairs "
        "rank-biserial r = (R_below - R_above) / (R_below + R_above), the signed-rank sums of the images where a is "
        "below / above b, so **r > 0 means a is lower than b** (better when lower is better). Multiple "
        f"comparisons: Holm within each claim's family (every test the claim makes), alpha {ALPHA}; *significant* "
        "means the Holm-adjusted tests support the claim as its rule says.", "",
    ]
    lines += md_table(["claim", "lines", "verdict", "significant", "detail"],
                      [[f"`{c.id}`", c.lines, verdict(c.holds), _significant(c), c.detail] for c in report.claims] +
                      [[f"`{t.id}` (toy)", "", verdict(t.holds), "", t.statement] for t in report.toys])
    for c in report.claims:
        lines += ["", f"## `{c.id}`: {verdict(c.holds)}", "", f"> {c.paper}", "",
                  f"({c.lines}; {c.ref}; rule `{c.rule}`)", "", f"Tested: {c.statement}.", ""]
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
        lines.append(f"Result: {c.detail}" + (f" (significant: {_significant(c)})." if c.significant is not None
                                               else "."))
    lines += ["", "## Claims that cannot be tested", ""]
    lines += md_table(["claim", "lines", "quote", "why not"],
                      [[f"`{u.id}` ({u.ref})", u.lines, u.paper, u.reason] for u in report.not_testable])
    if report.toys:
        lines += ["", "## Toy examples, recomputed through the criteria engine", ""]
        for t in report.toys:
            lines += [f"### `{t.id}`: {verdict(t.holds)}", "", f"> {t.paper}", "", f"Tested: {t.statement}.", "",
                      f"Provenance: {t.provenance}", "",
                      f"- expected: `{t.expected}`", f"- computed: `{map_floats(t.computed, lambda v: round(v, 6))}`",
                      ""]
    failed = report.failed
    lines += ["", f"**{len(failed)} of {len(report.claims) + len(report.toys)} checks do not hold"
              + (f": {', '.join(failed)}**" if failed else "**")]
    if report.readings is not None:
        lines += ["", report.readings.to_markdown().rstrip("\n")]
    return "\n".join(lines) + "\n"
