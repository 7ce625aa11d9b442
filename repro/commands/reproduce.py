"""``repro reproduce``: the whole study, resumable (see :mod:`repro.pipeline`).

Profiles: ``embedded`` (offline default), ``paper`` (VGG16 on ImageNet) and ``custom``: your model (``--model``: a
``keras.applications`` name or a ``.keras`` / ``.h5`` file, with ``--preprocess``, ``--input-size``,
``--gradcam-layer``) on your images (``--images DIR``, ``--labels CSV``). A custom run first loads the model and
decides which methods run on it (:func:`repro.attributions.support.resolve_methods`: by default every method that
applies, the others skipped with one line each saying why; a method asked for by name that cannot run stops the
command before any work), then records the resolved settings in ``config.json`` (the methods, Grad-CAM's layer, the
input size and the model's identity) and ``support.json`` (what runs, what was skipped and why). Its claims
report tests the claims about VGG16 / ImageNet rankings (:data:`repro.claims.section42.VGG16_SPECIFIC`) like the
others and flags their verdicts "about another model".
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from repro.attributions import METHODS
from repro.commands import add_sampling_arguments, add_trust_argument, nonneg_int, positive_int
from repro.config import DEFAULT_STEPS, PROFILES, StudyConfig, make_config, parse_shard
from repro.io import atomic_write_json, check_writable
from repro.errors import ReproError
from repro.readings import MAP_READINGS, READINGS
from repro.pipeline import open_study, run_study


def add_study_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by every command that defines a study."""
    from repro.models import MODEL_HELP, PREPROCESS_MODES

    p.add_argument("--profile", choices=PROFILES, default="embedded",
                   help="embedded: offline shapes model and data (default); paper: VGG16 + ImageNet (9600 images); "
                        "custom: your --model on your --images")
    p.add_argument("--model", default=None, help=f"custom profile: {MODEL_HELP}")
    add_trust_argument(p)
    p.add_argument("--images", type=Path, default=None,
                   help="custom profile: folder of .jpg/.png images (centre square, resized to the model's input)")
    p.add_argument("--labels", type=Path, default=None,
                   help="custom profile: CSV 'file,label' of integer class indices (default DIR/labels.csv if present)")
    p.add_argument("--preprocess", choices=PREPROCESS_MODES, default=None,
                   help="custom profile: raw RGB [0, 255] -> model input (default: a named network's own; required "
                        "for a model file, 'none' if it rescales inside)")
    p.add_argument("--input-size", type=positive_int, default=None,
                   help="custom profile: side of the square input (default: the model's own)")
    p.add_argument("--gradcam-layer", default=None,
                   help="custom profile: Grad-CAM's layer (default: the last 4-D feature map before global pooling "
                        "/ flatten)")
    p.add_argument("--out", type=Path, default=None, help="run directory (default results/<profile>)")
    p.add_argument("--limit", type=positive_int, default=None, dest="num_images",
                   help="use only the first N images (a slice of the study)")
    p.add_argument("--imagenet-dir", default=None, help="ILSVRC2012 validation images (flat or per-wnid folders)")
    p.add_argument("--manifest", default=None, help="image list (default data_manifest.csv)")
    p.add_argument("--weights", default=None,
                   help="VGG16 and other keras.applications networks: 'imagenet' (Keras download, default), a local "
                        ".h5 file, or 'random' (untrained); embedded: a retrained .h5")
    p.add_argument("--methods", nargs="+", choices=list(METHODS), default=None,
                   help="subset of methods (default: all; on the custom profile, all that run on the model)")
    add_sampling_arguments(p, DEFAULT_STEPS)
    add_reading_arguments(p)
    p.add_argument("--readings", nargs="+", default=None, metavar="NAME",
                   help="map readings computed beside the run's own: 'all', 'none' or names among "
                        f"{', '.join(MAP_READINGS)} (default: all on the embedded profile, none on the paper's)")
    p.add_argument("--seed", type=nonneg_int, default=None, help="seed of SmoothGrad noise, Random maps, generated data")
    p.add_argument("--chunk-size", type=positive_int, default=None, help="images per atomically written chunk (16)")
    p.add_argument("--batch-size", type=positive_int, default=None, help="forward batch size (64); a resume or merge must use the same (outputs can differ in the last bits)")
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


def config_from_args(args: argparse.Namespace) -> StudyConfig:
    if args.model is not None and args.profile != "custom":
        raise ReproError(f"--model is for the custom profile (--profile custom --model ... --images DIR); the "
                         f"{args.profile} profile's model is fixed")
    return make_config(
        args.profile, quick=args.quick, weights=args.weights, imagenet_dir=args.imagenet_dir,
        model=args.model, images=args.images, labels=args.labels, preprocess=args.preprocess,
        input_size=args.input_size, gradcam_layer=args.gradcam_layer,
        manifest=args.manifest, num_images=args.num_images, methods=args.methods, steps=args.steps,
        tol=args.tol, seed=args.seed, chunk_size=args.chunk_size, batch_size=args.batch_size,
        shard=parse_shard(getattr(args, "shard", None)), readings=readings_arg(args.readings),
        **{name: getattr(args, name) for name in READINGS},
    )


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_study_arguments(p)
    p.add_argument("--shard", default=None,
                   help="i/N: run every N-th chunk, i counting from 0 (0/N ... N-1/N); default: the SLURM array "
                        "index minus SLURM_ARRAY_TASK_MIN, if set")
    from repro.commands import add_progress_argument

    add_progress_argument(p)


def custom_config(cfg: StudyConfig, model, methods_given: bool, probe: bool = True
                  ) -> tuple[StudyConfig, dict[str, str]]:
    """A custom run's settings with everything resolved on the loaded ``model``: the methods that run (all that
    apply unless ``methods_given``), Grad-CAM's layer, the input size and the model's identity. Returns the config
    and the skipped methods with their reasons.

    Raises:
        ReproError: a method given by name cannot run on the model (one line per method), or none can.
    """
    from repro.attributions import get_method
    from repro.attributions.support import resolve_methods

    def make(name: str):  # the run's own settings, so a probed graph worker is the one the run uses
        return get_method(name, **cfg.method_overrides(name))

    methods, skipped = resolve_methods(model, cfg.methods if methods_given else None, probe=probe,
                                       make_method=make)
    return dataclasses.replace(cfg, methods=methods, gradcam_layer=model.conv_layer or None,
                               input_size=int(model.input_shape[0]), model_id=model.name), skipped


def run(args: argparse.Namespace) -> int:
    from repro.pipeline import open_model, open_source
    from repro.runlock import run_lock

    cfg = config_from_args(args)
    out = check_writable(args.out or Path("results") / cfg.profile, "dir")
    with run_lock(out):  # one run per directory, for the whole command (repro/runlock.py)
        t0 = time.perf_counter()
        model = source = None
        if cfg.profile == "custom":
            model = open_model(cfg, trust_code=args.trust_model_code)
            cfg, skipped = custom_config(cfg, model, methods_given=args.methods is not None)
            source = open_source(cfg)
            print(f"[repro] model {cfg.model} ({model.name}): input {model.input_shape}, {model.num_classes} classes, "
                  f"Grad-CAM layer {cfg.gradcam_layer}; methods: {', '.join(cfg.methods)}")
            for name, reason in skipped.items():
                print(f"[repro] skipped {name}: {reason}")
        study = open_study(cfg, out, model=model, source=source)
        if cfg.profile == "custom":
            atomic_write_json(out / "support.json", {"model": cfg.model, "model_id": cfg.model_id,
                                                     "runs": list(cfg.methods), "skipped": skipped})
        print(f"[repro] {cfg.profile} profile: {len(study.source.ids)} images x {len(cfg.methods)} methods -> {out}")
        try:
            results = run_study(study, progress=args.progress)
        finally:
            if cfg.profile == "custom":
                from repro.attributions.graph_worker import close_workers

                close_workers()  # the probes' workers, shared with the run
        if results is None:
            print(f"[repro] shard {cfg.shard[0]}/{cfg.shard[1]} done; run the other shards, then `repro merge`")
            return 0
        status = finish(out, results, cfg.profile)
        print(f"[repro] finished in {time.perf_counter() - t0:.0f} s; table: {results}")
        return status


def finish(out: Path, results: Path, profile: str) -> int:
    """Figures and claims (with the readings table over every reading the run holds), each part remade when the
    table changed or any of its files is missing or not the file stamped (:mod:`repro.outputs`): a finished run
    re-run is a no-op, and a deleted or overwritten output comes back."""
    from repro.claims import check_claims
    from repro.figures import draw_all
    from repro.outputs import CLAIMS_FILES, file_sha256, read_stamp, recorded_files, stale_parts, write_stamp
    from repro.results import reading_views

    digest = file_sha256(results)
    stale = stale_parts(out, digest)
    if not stale:
        print("[repro] results unchanged since the last run: figures and claims are up to date")
        report = check_claims(out, profile, write=False)
    else:
        figures = draw_all(out) if "figures" in stale else recorded_files(out, "figures")
        if "claims" in stale:
            report = check_claims(out, profile, readings=reading_views(out))
        else:
            report = check_claims(out, profile, write=False)
        if (read_stamp(out) or {}).get("results_sha256") == digest:  # same table: some of its outputs went
            print(f"[repro] the {' and '.join(stale)} had files missing or changed since the last run: remade")
        write_stamp(out, digest, {"figures": figures, "claims": [out / name for name in CLAIMS_FILES]})
    print(report.summary())
    return report.exit_code
