"""The study end to end: images -> targets -> attribution maps -> curves and criteria -> results table.

Per chunk of ``chunk_size`` consecutive images of the study's image list, :func:`repro.stages.compute_chunk`
computes targets, maps (cached) and the criteria of every score and map reading; the chunk's example files, then
its rows and manifest (:mod:`repro.results`), are written atomically, so a chunk exists only when everything in it
is finished.

Resuming recomputes nothing that finished and trusts nothing it did not verify: a chunk is skipped only when it
passes :func:`repro.results.verify_chunk` (manifest, checksum, settings digest, its exact rows);
any other chunk is recomputed, and the run says so. A chunk's maps are always computed as one batch of the
chunk's images (cached maps are reused only when every map of the chunk is cached), so no map depends on where a
previous run was interrupted: any interruption resumes to a byte-identical ``results.csv``. The results table is
assembled from verified chunks only; a finished run re-run only checks that it is complete.
``--shard i/N`` (or a SLURM array index) takes every N-th chunk; :func:`merge_runs` joins shard directories and
refuses shards whose settings differ. Settings live in :mod:`repro.config`.
"""

from __future__ import annotations

import sys
from contextlib import nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Sequence

import numpy as np

from repro.cache import MapCache
from repro.config import (
    EMBEDDED_DEFAULT_IMAGES, StudyConfig, check_same_settings, config_from_record, config_record, ids_digest,
    settings_digest,
)
from repro.errors import ReproError
from repro.io import atomic_write_bytes, atomic_write_json, read_json, remove_stale_temporaries
from repro.results import (
    assemble_results, chunk_image_ids, chunk_path, count_chunks, manifest_path, verify_chunk, write_chunk,
)
from repro.runlock import holds_lock, run_lock
from repro.stages import compute_chunk
from repro.study import Study


def open_model(cfg: StudyConfig, trust_code: bool = False):
    """The model of the run (:func:`repro.models.load_model`, with the custom profile's model options).
    ``trust_code``: a model file may run the code stored in it (``--trust-model-code``; not a setting of the
    study, since it changes no number)."""
    from repro.models import load_model

    options = {"preprocess": cfg.preprocess, "input_size": cfg.input_size, "gradcam_layer": cfg.gradcam_layer}
    return load_model(cfg.model, cfg.weights, trust_code=trust_code,
                      **{k: v for k, v in options.items() if v is not None})


def open_source(cfg: StudyConfig):
    """The profile's image source: the generated shapes test split, ImageNet from the manifest, or (custom) the
    folder ``cfg.images`` with its labels CSV, at the model's input size."""
    if cfg.profile == "embedded":
        from repro.data.shapes import ShapesSource

        return ShapesSource(n=cfg.num_images or EMBEDDED_DEFAULT_IMAGES, seed=cfg.seed, split="test")
    if cfg.profile == "custom":
        from repro.data.folder import FolderSource

        size = cfg.input_size or open_model(cfg).input_shape[0]
        return FolderSource(cfg.images, size=size, labels=cfg.labels, limit=cfg.num_images)
    if not cfg.imagenet_dir:
        raise ReproError("the paper profile needs --imagenet-dir DIR (the ILSVRC2012 validation images, flat or "
                         "in per-wnid folders); see the README")
    from repro.data.imagenet import ImageNetSource

    return ImageNetSource(cfg.manifest, cfg.imagenet_dir, limit=cfg.num_images)


def check_labels(cfg: StudyConfig, source, num_classes: int) -> None:
    """Refuse, before any work, labels the run cannot use, in one line naming the labels file: a label that is not
    one of the model's ``num_classes`` classes, and, in a run that explains labels (:meth:`StudyConfig.needs_labels`),
    an image without one (``-1``: a custom folder whose labels CSV leaves it out, or has no CSV)."""
    labels = np.asarray(source.labels, np.int64)
    where = getattr(source, "labels_path", None) or cfg.labels or cfg.images or "the image source's labels"
    if len(labels) and labels.max() >= num_classes:
        i = int(np.argmax(labels))
        raise ReproError(f"{where}: label {labels[i]} of {source.ids[i]!r} is not a class of the model "
                         f"(0..{num_classes - 1})")
    missing = [i for i, label in zip(source.ids, labels) if label < 0]
    if cfg.needs_labels() and missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ReproError(f"{where}: the 'target=label' reading needs every image's label; {missing[:3]}{more} have "
                         "none (use --target top1 and --readings without 'target')")


def open_study(cfg: StudyConfig, out: str | Path, model=None, source=None) -> Study:
    """Create or reopen the run in ``out``; refuses a directory made with different settings, labels the model
    cannot use and (a file-based source) any image file that cannot be decoded, all before writing anything.

    The litter of atomic writes cut short by a kill is deleted under the directory's lock
    (:func:`repro.runlock.run_lock`): the caller's, when it holds it for the whole run as ``repro reproduce``
    does, else taken for the cleanup only; the lock of another live run is refused in one line."""
    out = Path(out)
    cfg_path = out / "config.json"
    if cfg.profile == "paper" and not cfg.imagenet_dir and source is None:  # before loading (or downloading) VGG16
        open_source(cfg)
    model = model if model is not None else open_model(cfg)
    source = source if source is not None else open_source(cfg)
    check_labels(cfg, source, model.num_classes)
    if getattr(source, "check_files", None) is not None:  # a file-based source: one line naming every bad image
        source.check_files()
    if getattr(source, "labels_path", None) is not None:  # a folder's labels.csv found without --labels is a setting
        cfg = replace(cfg, labels=str(source.labels_path))
    record = config_record(cfg, source.ids)
    if cfg_path.exists():
        check_same_settings(cfg_path, read_json(cfg_path), record)
    elif any((out / "chunks").glob("chunk_*")):
        raise ReproError(f"{cfg_path}: missing, but {out / 'chunks'} holds finished chunks whose settings it recorded; "
                         "restore config.json, or use another --out directory")
    else:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(cfg_path, record)
    with nullcontext() if holds_lock(out) else run_lock(out):  # never another live run's temporary files
        for folder in (out, out / "chunks", out / "examples"):  # litter of atomic writes cut short by a kill
            remove_stale_temporaries(folder)
    return Study(cfg, out, model, source, settings=settings_digest(record), weights_id=record["weights_id"])


def run_study(study: Study, progress: bool = True, cache: MapCache | None = None) -> Path | None:
    """Compute every chunk of this shard that is not done and sound, then assemble ``results.csv`` from verified
    chunks if all are present.

    Returns the results path, or ``None`` when other shards' chunks are still missing.
    """
    from tqdm.auto import tqdm

    cache = cache if cache is not None else MapCache(study.out / "maps")
    study.progress = progress
    todo = []
    for c in study.my_chunks():
        problem = study.verify(c)
        if problem and problem != "missing":
            print(f"[repro] {chunk_path(study.out, c)}: {problem}; recomputing it", file=sys.stderr)
        if problem:
            todo.append(c)
    done = len(study.my_chunks()) - len(todo)
    if done and todo:
        print(f"[repro] resuming: {done} of {done + len(todo)} chunks of this shard are done and verified")
    try:
        bar = tqdm(todo, desc="chunks", unit="chunk", initial=done, total=done + len(todo), disable=not progress)
        for c in bar:
            ids = [study.source.ids[i] for i in study.chunk_indices(c)]
            write_chunk(study.out, c, ids, study.cfg.row_keys(), compute_chunk(study, c, cache), study.settings)
    finally:
        study.close()
    return assemble_results(study.out, study.num_chunks, study.settings, study.cfg.row_keys(),
                            study.check_image_ids)


def merge_runs(shard_dirs: Sequence[str | Path], out: str | Path) -> Path:
    """Join shard directories into ``out``: same settings required, every chunk present and verified.

    Everything is checked before anything is written, so a refused merge leaves ``out`` as it was.
    """
    out = Path(out)
    configs = []
    for d in map(Path, shard_dirs):
        p = d / "config.json"
        if not p.is_file():
            raise ReproError(f"{p}: not found; is {d} a run directory?")
        configs.append((p, read_json(p)))
    first_path, first = configs[0]
    for p, cfg in configs[1:]:
        check_same_settings(p, first, cfg, advice=f"these shards belong to different studies (compare {first_path})")
    if (out / "config.json").is_file():
        check_same_settings(out / "config.json", read_json(out / "config.json"), first,
                            advice="use another --out directory")
    settings, keys = settings_digest(first), config_from_record(first).row_keys()
    num_chunks = count_chunks(first["num_image_ids"], first["chunk_size"])
    source_of: dict[int, Path] = {}
    for c in range(num_chunks):
        problems = []
        for d in map(Path, shard_dirs):
            problem = verify_chunk(d, c, settings, keys)[1]
            if not problem:
                source_of[c] = d
                break
            if problem != "missing":
                problems.append(f"{chunk_path(d, c)}: {problem}")
        if c not in source_of:
            reason = "; ".join(problems) or "in no shard (run the remaining shards first)"
            raise ReproError(f"merge into {out}: chunk {c} is missing or damaged: {reason}")

    def check_ids(ids: list[str]) -> None:
        if ids_digest(ids) != first["image_ids_sha1"] or len(ids) != first["num_image_ids"]:
            raise ReproError(f"merge into {out}: the chunks' images are not the study's {first['num_image_ids']}")

    check_ids([i for c, d in sorted(source_of.items()) for i in chunk_image_ids(d, c)])  # before any copy
    for c, d in source_of.items():
        for src in (chunk_path(d, c), manifest_path(d, c)):
            dest = chunk_path(out, c).parent / src.name
            if src.resolve() != dest.resolve():
                atomic_write_bytes(dest, src.read_bytes())  # a failed write is one WriteError line
    for d in map(Path, shard_dirs):
        for f in sorted((d / "examples").glob("*.npz")) if (d / "examples").is_dir() else []:
            dest = out / "examples" / f.name
            if f.resolve() != dest.resolve() and not dest.exists():
                atomic_write_bytes(dest, f.read_bytes())
    atomic_write_json(out / "config.json", {**first, "shard": [0, 1]})
    return assemble_results(out, num_chunks, settings, keys, check_ids)
