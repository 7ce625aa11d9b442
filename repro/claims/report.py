"""The claims report of a results directory: :func:`check_claims` writes ``claims.md`` and ``claims.json``.

:class:`ClaimsReport` holds every claim of :data:`repro.claims.section42.CLAIMS` evaluated on ``results.csv``
(:mod:`repro.claims.rules`, :mod:`repro.claims.stats`) and, unless skipped, the toy examples recomputed through
the criteria engine (:mod:`repro.claims.toys`). Its forms:

* :meth:`ClaimsReport.summary`: a few lines for the terminal, one per check and the overall verdict;
* :meth:`ClaimsReport.to_dict`: the JSON of ``claims.json`` (every number, NaN written as ``null``);
* :meth:`ClaimsReport.to_markdown`: ``claims.md``, a summary table then each claim's numbers.

Exit code (:attr:`ClaimsReport.exit_code`): 1 when a check fails on the paper profile or with ``strict``; the
embedded profile is not the paper's setting and only reports.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from repro.claims.rules import Claim, ClaimSpec, evaluate_claims
from repro.claims.section42 import CLAIMS
from repro.claims.stats import ALPHA, DEFAULT_RESAMPLES, DEFAULT_SEED
from repro.claims.toys import ToyCheck, toy_checks
from repro.io import atomic_write_json, atomic_write_text, read_json
from repro.results import read_results
from repro.vocabulary import CRITERION_LABELS, LOWER_IS_BETTER, display_name


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
            verdict += (" (reported only: the embedded profile is not the paper's setting; "
                        f"`repro check-claims {self.results_dir} --strict` exits 1 on a failed check)")
        lines.append(verdict)
        return "\n".join(lines)

    @property
    def failed(self) -> list[str]:
        """Ids of claims and toy checks that do not hold or could not be tested."""
        return [c.id for c in self.claims if c.holds is not True] + [t.id for t in self.toys if not t.holds]

    def to_dict(self) -> dict[str, Any]:
        """Every field, plus each statistic's ``iqr``, each test's ``a_lower`` and the ``failed`` ids."""
        d = asdict(self)
        for claim, raw in zip(self.claims, d["claims"]):
            for s, rs in zip(claim.stats, raw["stats"]):
                rs["iqr"] = s.iqr
            for t, rt in zip(claim.tests, raw["tests"]):
                rt["a_lower"] = t.a_lower
        d["failed"] = self.failed
        return d

    def to_markdown(self) -> str:
        """The text of ``claims.md``."""
        return _markdown(self)


def check_claims(results_dir: str | Path, profile: str | None = None, resamples: int = DEFAULT_RESAMPLES,
                 seed: int = DEFAULT_SEED, toys: bool = True, write: bool = True,
                 strict: bool = False, claims: Sequence[ClaimSpec] = CLAIMS) -> ClaimsReport:
    """Test every claim on ``results_dir/results.csv``; write ``claims.md`` and ``claims.json`` there atomically.

    Args:
        results_dir: a run directory (``results.csv``, ``config.json``).
        profile: ``"embedded"`` or ``"paper"``; ``None`` reads it from ``config.json`` (``"unknown"`` if absent).
        resamples, seed: bootstrap settings (recorded in the report).
        toys: also recompute the toy examples through the criteria engine (needs TensorFlow).
        write: write the two report files.
        strict: make :attr:`ClaimsReport.exit_code` non-zero on any failure, whatever the profile.
        claims: the claim records to check (default: the six of Section 4.2).
    Raises:
        ReproError: missing or malformed results table.
    """
    results_dir = Path(results_dir)
    table = read_results(results_dir / "results.csv")
    if profile is None:
        config_path = results_dir / "config.json"
        profile = str(read_json(config_path).get("profile", "unknown")) if config_path.exists() else "unknown"
    report = ClaimsReport(str(results_dir), profile, len(table), len(table.image_ids), table.methods, resamples,
                          seed, evaluate_claims(table, claims, resamples, seed), toy_checks() if toys else [], strict)
    if write:
        atomic_write_json(results_dir / "claims.json", _finite_json(report.to_dict()))
        atomic_write_text(results_dir / "claims.md", report.to_markdown())
    return report


def _map_floats(obj: Any, fn: Callable[[float], Any]) -> Any:
    """``obj`` with ``fn`` applied to every float inside dicts, lists and tuples (tuples become lists)."""
    if isinstance(obj, float):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map_floats(v, fn) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_map_floats(v, fn) for v in obj]
    return obj


def _round6(v: float) -> float:
    return round(v, 6)


def _finite_json(obj: Any) -> Any:
    """Replace NaN/inf by ``None`` so the JSON is standard."""
    return _map_floats(obj, lambda v: v if math.isfinite(v) else None)


def _fmt(v: float) -> str:
    return "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.4g}"


def _verdict(holds: bool | None) -> str:
    return {True: "HOLDS", False: "DOES NOT HOLD", None: "NOT TESTABLE"}[holds]


def _md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    """The lines of a GitHub markdown table (cells already formatted; ``str`` of anything else)."""
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(map(str, r)) + " |" for r in rows]


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


def _markdown(report: ClaimsReport) -> str:
    lines = [
        "# Claims of Section 4.2, checked",
        "",
        f"Results: `{report.results_dir}` (profile **{report.profile}**), {report.num_rows} rows, "
        f"{report.num_images} images, methods: {', '.join(display_name(m) for m in report.methods)}.",
        f"Medians over images with NaN rows dropped; 95% CI: percentile bootstrap of the median, "
        f"{report.resamples} resamples, seed {report.seed}; paired test: two-sided Wilcoxon signed-rank by image. "
        f"{_direction_sentence(report.claims)} Verdicts are decided by the medians; *significant* means every "
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
                      f"- expected: `{t.expected}`", f"- computed: `{_map_floats(t.computed, _round6)}`", ""]
    failed = report.failed
    lines += ["", f"**{len(failed)} of {len(report.claims) + len(report.toys)} checks do not hold"
              + (f": {', '.join(failed)}**" if failed else "**")]
    return "\n".join(lines) + "\n"

