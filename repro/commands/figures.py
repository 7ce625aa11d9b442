"""``repro figures OUT``: draw Figures 2-7 of the paper from a results directory into ``OUT/figures``
(PNG and PDF; see :mod:`repro.figures`). Imported only when this subcommand runs (:mod:`repro.cli`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from repro.commands import positive_int
from repro.errors import ReproError
from repro.readings import parse_assignments
from repro.figures import GRID_IMAGES, draw_all


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results_dir", type=Path, metavar="OUT", help="run directory with results.csv and examples/")
    p.add_argument("--grid-images", type=positive_int, default=GRID_IMAGES,
                   help=f"example images in Figure 7 (default {GRID_IMAGES})")
    p.add_argument("--reading", nargs="+", default=None, metavar="NAME=VALUE",
                   help="draw Figure 5 under another reading, e.g. score=probability (into figures/<reading>/)")
    p.add_argument("--no-toy", action="store_true",
                   help="skip Figure 3 (the toy example, computed through the criteria engine with TensorFlow)")


def run(args: argparse.Namespace) -> int:
    try:
        reading = parse_assignments(args.reading or [])
    except ValueError as exc:
        raise ReproError(f"--reading: {exc}") from None
    from repro.outputs import warn_if_unverified

    warn_if_unverified(args.results_dir, "the figures")
    paths = draw_all(args.results_dir, max_grid_images=args.grid_images, toy=not args.no_toy, reading=reading)
    for p in paths:
        print(p)
    return 0
