"""The claims of Sections 4.2, 4.3 and the conclusion of the paper as testable statements over the results table,
under one reading or several, and the toy examples of Section 3 recomputed through the criteria engine.

* :mod:`repro.claims.section42`: the claims as data, one :class:`ClaimSpec` record each (:data:`CLAIMS`), and the
  claims that cannot be tested with the reason (:data:`NOT_TESTABLE`);
* :mod:`repro.claims.rules`: the rule registry that evaluates a record over a results table (:data:`RULES`), the
  verdict and multiple-comparison conventions; the rules are in :mod:`~repro.claims.between`,
  :mod:`~repro.claims.within` and :mod:`~repro.claims.overall`;
* :mod:`repro.claims.paired`: the paired Wilcoxon signed-rank test, the rank-biserial effect size, Holm;
* :mod:`repro.claims.stats`: medians with bootstrap CIs, per-image ranks, the shared memo;
* :mod:`repro.claims.winners`: per-image winners and how often one method wins necessity and sufficiency;
* :mod:`repro.claims.toys`: Example 1 / Table 1 / Figure 3 and the linear toy ``2 x1 + x2`` (the figures use it);
* :mod:`repro.claims.report`: :func:`check_claims`, which writes ``claims.md`` and ``claims.json``;
* :mod:`repro.claims.across`: :func:`readings_report`, every claim under each reading, robust or flipped;
* :mod:`repro.claims.stability`: how often each verdict survives resampling the images, and from how many images
  on it is stable;
* :mod:`repro.claims.provenance`: the model and data a report rests on, and the class of each image;
* :mod:`repro.claims.paper_lines`: what the line references (``L813-815``) index, ``paper.txt``, and the section
  of the paper each one is in, which ``claims.md`` prints beside it.

Usage::

    report = check_claims("results/embedded")          # writes claims.md and claims.json
    report.failed                                       # ids of checks that do not hold
    views = [("default", table, {}), ("tp_claims=within", table, {"tp_claims": "within"}), ...]
    print(readings_report(views).summary())             # claim x reading verdicts
"""

from repro.claims.across import ReadingsReport, readings_report
from repro.claims.paired import ALPHA, PairedTest, holm, signed_rank
from repro.claims.report import ClaimsReport, check_claims
from repro.claims.rules import (
    RULES, Claim, ClaimSpec, Outcome, evaluate_claim, evaluate_claims, evaluate_with, rule,
)
from repro.claims.section42 import CLAIMS, NOT_TESTABLE, Untestable
from repro.claims.stats import (
    DEFAULT_RESAMPLES, DEFAULT_SEED, MethodStats, StatsMemo, bootstrap_iqr_ci, bootstrap_median_ci, method_stats,
    paired_test, per_image_ranks,
)
from repro.claims.toys import ToyCheck, toy_checks
from repro.claims.winners import WinnerFrequencies, winner_frequencies

__all__ = [
    "ALPHA", "CLAIMS", "Claim", "ClaimSpec", "ClaimsReport", "DEFAULT_RESAMPLES", "DEFAULT_SEED", "MethodStats",
    "NOT_TESTABLE", "Outcome", "PairedTest", "RULES", "ReadingsReport", "StatsMemo", "ToyCheck", "Untestable",
    "WinnerFrequencies", "bootstrap_iqr_ci", "bootstrap_median_ci", "check_claims", "evaluate_claim",
    "evaluate_claims", "evaluate_with", "holm", "method_stats", "paired_test", "per_image_ranks", "readings_report",
    "rule", "signed_rank", "toy_checks", "winner_frequencies",
]
