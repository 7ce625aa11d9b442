"""The conclusions of Section 4.2 of the paper as testable statements over the results table, and the toy examples
of Section 3 recomputed through the criteria engine.

* :mod:`repro.claims.section42`: the claims as data, one :class:`ClaimSpec` record each (:data:`CLAIMS`);
* :mod:`repro.claims.rules`: the rule registry that evaluates a record over a results table (:data:`RULES`);
* :mod:`repro.claims.stats`: medians with bootstrap CIs, paired Wilcoxon signed-rank tests, the shared memo;
* :mod:`repro.claims.toys`: Example 1 / Table 1 / Figure 3 and the linear toy ``2 x1 + x2`` (the figures use it);
* :mod:`repro.claims.report`: :func:`check_claims`, which writes ``claims.md`` and ``claims.json``.

Usage::

    report = check_claims("results/embedded")          # writes claims.md and claims.json
    report.failed                                       # ids of checks that do not hold
"""

from repro.claims.report import ClaimsReport, check_claims
from repro.claims.rules import RULES, Claim, ClaimSpec, Outcome, evaluate_claim, evaluate_claims, rule
from repro.claims.section42 import CLAIMS
from repro.claims.stats import (
    ALPHA, DEFAULT_RESAMPLES, DEFAULT_SEED, MethodStats, PairedTest, StatsMemo, bootstrap_iqr_ci,
    bootstrap_median_ci, method_stats, paired_test,
)
from repro.claims.toys import ToyCheck, toy_checks

__all__ = [
    "ALPHA", "CLAIMS", "Claim", "ClaimSpec", "ClaimsReport", "DEFAULT_RESAMPLES", "DEFAULT_SEED", "MethodStats",
    "Outcome", "PairedTest", "RULES", "StatsMemo", "ToyCheck", "bootstrap_iqr_ci", "bootstrap_median_ci",
    "check_claims", "evaluate_claim", "evaluate_claims", "method_stats", "paired_test", "rule", "toy_checks",
]
