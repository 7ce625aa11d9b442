"""``repro reproduce``: the whole study, resumable (see :mod:`repro.pipeline`)."""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

from repro.attributions import METHODS
from repro.commands import nonneg_int, positive_int, steps_arg
from repro.config import PROFILES, make_config, parse_shard
from repro.io import check_writable
from repro.errors import ReproError
from repro.readings import MAP_READINGS, READINGS
from repro.pipeline import open_study, run_study


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by every command that defines a study."""
    p.add_argument("--profile", choices=PROFILES, default="embedded",
                   help="embedded: offline shapes model and data (default); paper: VGG16 + ImageNet (9600 images)")
    p.add_argument("--out", type=Path, default=None, help="run directory (default results/<profile>)")
    p.add_argument("--limit", type=positive_int, default=None, dest="num_images",
                   help="use only the first N images (a slice of the study)")
    p.add_argument("--imagenet-dir", default=None, help="ILSVRC2012 validation images (flat or per-wnid folders)")
    p.add_argument("--manifest", default=None, help="image list (default data_manifest.csv)")
    p.add_argument("--weights", default=None,
                   help="VGG16: 'imagenet' (Keras download, default) or a local .h5 file; embedded: a retrained .h5")
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=None, help="subset of methods")
    p.add_argument("--steps", type=steps_arg, default=None,
                   help="points per perturbation curve K (default 100) or 'exact'")
    add_reading_arguments(p)
    p.add_argument("--readings", nargs="+", default=None, metavar="NAME",
                   help="map readings computed beside the run's own: 'all', 'none' or names among "
                        f"{', '.join(MAP_READINGS)} (default: all on the embedded profile, none on the paper's)")
    p.add_argument("--seed", type=nonneg_int, default=None, help="seed of SmoothGrad noise, Random maps, generated data")
    p.add_argument("--chunk-size", type=positive_int, default=None, help="images per atomically written chunk (16)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="forward batch size (64); changes no number")
    p.add_argument("--quick", action="store_true", help="smoke-run preset: 10 curve steps, 8 IG steps, 8 SG samples")


def add_reading_arguments(p: argparse.ArgumentParser) -> None:
    """One option per reading of :data:`repro.readings.READINGS` (``--score``, ``--s-ord``, ...), default first."""
    for name, values in READINGS.items():
        p.add_argument(f"--{name.replace('_', '-')}", choices=values, default=None,
                       help=f"reading '{name}' (default {values[0]}; docs/criteria.md, docs/methods.md)")


def readings_arg(names: list[str] | None) -> tuple[str, ...] | None:
    """``--readings``: ``all``, ``none`` or names of map readings; ``None`` keeps the profile's default."""
    if names is None:
        return None
    if names == ["all"]:
        return tuple(MAP_READINGS)
    if names == ["none"]:
        return ()
    unknown = [n for n in names if n not in MAP_READINGS]
    if unknown:
        raise ReproError(f"--readings: unknown {', '.join(unknown)}; choose all, none or from "
                         f"{', '.join(MAP_READINGS)}")
    return tuple(names)


def config_from_args(args: argparse.Namespace):
    return make_config(
        args.profile, quick=args.quick, weights=args.weights, imagenet_dir=args.imagenet_dir,
        manifest=args.manifest, num_images=args.num_images, methods=args.methods, steps=args.steps,
        seed=args.seed, chunk_size=args.chunk_size, batch_size=args.batch_size,
        shard=parse_shard(getattr(args, "shard", None)), readings=readings_arg(args.readings),
        **{name: getattr(args, name) for name in READINGS},
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p)
    p.add_argument("--shard", default=None, help="i/N: run every N-th chunk (default: SLURM array index if set)")
    p.add_argument("--no-progress", action="store_true", help="hide progress bars")


def run(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    out = check_writable(args.out or Path("results") / cfg.profile, "dir")
    t0 = time.perf_counter()
    study = open_study(cfg, out)
    print(f"[repro] {cfg.profile} profile: {len(study.source.ids)} images x {len(cfg.methods)} methods -> {out}")
    results = run_study(study, progress=not args.no_progress)
    if results is None:
        print(f"[repro] shard {cfg.shard[0]}/{cfg.shard[1]} done; run the other shards, then `repro merge`")
        return 0
    status = finish(out, results, cfg.profile)
    print(f"[repro] finished in {time.perf_counter() - t0:.0f} s; table: {results}")
    return status


def finish(out: Path, results: Path, profile: str) -> int:
    """Figures and claims (with the readings table over every reading the run holds), redone only when
    ``results.csv`` changed (a finished run re-run is a no-op)."""
    from repro.claims import check_claims
    from repro.figures import draw_all
    from repro.io import atomic_write_text
    from repro.results import reading_views

    stamp = out / ".finished"
    digest = hashlib.sha1(results.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        print("[repro] results unchanged since the last run: figures and claims are up to date")
        report = check_claims(out, profile, write=False)
    else:
        draw_all(out)
        report = check_claims(out, profile, readings=reading_views(out))
        atomic_write_text(stamp, digest)
    print(report.summary())
    return report.exit_code
