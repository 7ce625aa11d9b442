"""``repro check-claims OUT``: test the conclusions of Section 4.2 on a results directory (:mod:`repro.claims`).

Imported only when this subcommand runs (:mod:`repro.cli`), so the claims package is imported at the top.

Writes ``OUT/claims.md`` and ``OUT/claims.json``; when ``results.csv`` cannot be verified against the run's chunks
(edited, damaged, or a table without chunks) one stderr line says the claims read it unverified
(:func:`repro.outputs.results_problem`). A later ``repro reproduce`` on the run directory remakes the claims as it
writes them (with the readings table) if they differ from what it stamped. Exit status: 0 when every check holds or the run is not the
paper's setting (embedded profile: reported only); 1 when a check fails on the paper profile or with
``--strict``; 2 on a missing or malformed results table.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.claims import DEFAULT_RESAMPLES, DEFAULT_SEED
from repro.commands import nonneg_int, positive_int
from repro.config import PROFILES


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results_dir", type=Path, metavar="OUT", help="run directory with results.csv and config.json")
    p.add_argument("--strict", action="store_true", help="exit 1 on a failed claim whatever the profile")
    p.add_argument("--profile", choices=PROFILES, default=None,
                   help="override the profile recorded in OUT/config.json")
    p.add_argument("--resamples", type=positive_int, default=DEFAULT_RESAMPLES,
                   help=f"bootstrap resamples for the CIs (default {DEFAULT_RESAMPLES})")
    p.add_argument("--seed", type=nonneg_int, default=DEFAULT_SEED, help=f"bootstrap seed (default {DEFAULT_SEED})")
    p.add_argument("--readings", action="store_true",
                   help="also test every claim under every reading the table holds (the run's own first) and report "
                        "which verdicts are robust and which reading flips them")
    p.add_argument("--no-toys", action="store_true",
                   help="skip recomputing the toy examples through the criteria engine (no TensorFlow)")


def run(args: argparse.Namespace) -> int:
    from repro.claims import check_claims
    from repro.outputs import warn_if_unverified
    from repro.results import reading_views

    warn_if_unverified(args.results_dir, "the claims")
    views = reading_views(args.results_dir) if args.readings else None
    report = check_claims(args.results_dir, args.profile, resamples=args.resamples, seed=args.seed,
                          toys=not args.no_toys, strict=args.strict, readings=views)
    print(report.summary())
    print(f"[repro] wrote {args.results_dir / 'claims.md'} and {args.results_dir / 'claims.json'}")
    return report.exit_code
