"""``repro merge``: join the run directories of a sharded study (``repro reproduce --shard i/N``).

The merge holds the lock of ``--out`` (:func:`repro.runlock.run_lock`) from the first check to the claims, so a
``repro reproduce`` or another merge on the same directory is refused in one line meanwhile."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("shards", nargs="+", type=Path, help="run directories of the shards")
    p.add_argument("--out", type=Path, required=True, help="merged run directory")
    p.add_argument("--no-figures", action="store_true", help="only assemble results.csv")


def run(args: argparse.Namespace) -> int:
    from repro.commands.reproduce import finish
    from repro.errors import ReproError
    from repro.pipeline import merge_runs
    from repro.io import read_json
    from repro.runlock import run_lock

    with run_lock(args.out):  # one run per directory: no reproduce or merge writes into --out meanwhile
        results = merge_runs(args.shards, args.out)
        print(f"[repro] merged {len(args.shards)} shard(s) into {results}")
        if args.no_figures:
            return 0
        config = read_json(args.out / "config.json")
        profile = config.get("profile") if isinstance(config, dict) else None
        if not isinstance(profile, str):
            raise ReproError(f"{args.out / 'config.json'}: no 'profile' entry")
        return finish(args.out, results, profile)
