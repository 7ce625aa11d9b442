"""The study end to end: images -> targets -> attribution maps -> curves and criteria -> results table.

Stages, per chunk of ``chunk_size`` consecutive images of the study's image list:

1. load raw images from the profile's :class:`~repro.data.ImageSource`, preprocess, predict; the target is the
   top-1 class (default) or the ground-truth label;
2. attribution maps for every method, read from / written to the map cache (:class:`repro.store.MapCache`,
   keyed by model, weights, image id, method and its parameters), stored as per-pixel scores
   (:func:`repro.criteria.orders.pixel_scores`: the one channel reduction of the project);
3. N-Ord, S-Ord, TPN, TPS of every (image, method) from one batched call of :func:`repro.criteria.evaluate`;
4. the chunk's rows are written atomically to ``chunks/chunk_NNNNN.csv`` (after its example files), so a chunk
   file exists only when everything in it is finished.

Resuming recomputes nothing that finished: existing chunk files are skipped, cached maps are reused. The results
table ``results.csv`` is assembled from the chunk files; a finished run re-run only checks that it is complete.
``--shard i/N`` (or a SLURM array index) takes every N-th chunk; :func:`merge_runs` joins shard directories and
refuses shards whose settings differ.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from repro.attributions import METHODS
from repro.errors import ReproError
from repro.store import RESULT_COLUMNS, read_json

PROFILES = ("embedded", "paper")
CURVE_NAMES = ("necessity", "sufficiency", "tpn_top", "tpn_bottom", "tps_top", "tps_bottom")


def count_chunks(num_images: int, chunk_size: int) -> int:
    """Chunks of ``chunk_size`` consecutive images needed for ``num_images`` (the last may be shorter)."""
    return -(-num_images // chunk_size)


def chunk_path(out: Path, c: int) -> Path:
    """Where chunk ``c`` of the run in ``out`` writes its rows."""
    return Path(out) / "chunks" / f"chunk_{c:05d}.csv"


@dataclass(frozen=True)
class StudyConfig:
    """Every setting of a run. Fields in :data:`NON_RESULT_FIELDS` do not change any number."""

    profile: str = "embedded"
    model: str = "embedded"
    weights: str | None = None
    imagenet_dir: str | None = None
    manifest: str | None = None
    num_images: int | None = None
    methods: tuple[str, ...] = tuple(METHODS)
    steps: int | None = 100
    score: str = "probability"
    target: str = "top1"
    seed: int = 0
    ig_steps: int = 50
    sg_samples: int = 50
    sg_noise: float = 0.2
    chunk_size: int = 16
    batch_size: int = 64
    num_examples: int = 4
    shard: tuple[int, int] = (0, 1)

    def results_key(self) -> dict:
        """The settings that determine the results (shards of one study share it)."""
        d = dataclasses.asdict(self)
        for name in NON_RESULT_FIELDS:
            d.pop(name)
        return d

    def method_params(self, name: str) -> dict:
        """Constructor parameters of method ``name`` under this config (Appendix II defaults unless overridden)."""
        return {
            "integrated_gradients": {"steps": self.ig_steps},
            "smoothgrad": {"samples": self.sg_samples, "noise": self.sg_noise, "seed": self.seed},
            "random": {"seed": self.seed},
        }.get(name, {})


NON_RESULT_FIELDS = ("imagenet_dir", "batch_size", "shard")
EMBEDDED_DEFAULT_IMAGES = 120
QUICK = {"steps": 10, "ig_steps": 8, "sg_samples": 8}
"""The smoke-run preset (``--quick``): the one place where step counts are capped for fast runs."""


def make_config(profile: str = "embedded", quick: bool = False, **overrides) -> StudyConfig:
    """A :class:`StudyConfig` for ``profile`` with ``overrides`` applied (``None`` values are ignored)."""
    if profile not in PROFILES:
        raise ReproError(f"unknown profile {profile!r}; choose one of {PROFILES}")
    base = {"profile": profile, "model": "embedded" if profile == "embedded" else "vgg16"}
    if profile == "paper":
        from repro.data.imagenet import REPO_MANIFEST

        base.update(weights="imagenet", manifest=str(REPO_MANIFEST))
    if quick:
        base.update(QUICK)
    base.update({k: v for k, v in overrides.items() if v is not None})
    if base.get("steps") == "exact":
        base["steps"] = None
    unknown = [m for m in base.get("methods", ()) if m not in METHODS]
    if unknown:
        raise ReproError(f"unknown method(s) {unknown}; choose from: {', '.join(METHODS)}")
    if "methods" in base:
        base["methods"] = tuple(base["methods"])
    if base.get("steps") is not None and base["steps"] < 1:
        raise ReproError(f"--steps must be >= 1, got {base['steps']}")
    i, n = base.get("shard", (0, 1))
    if not 0 <= i < n:
        raise ReproError(f"shard index must satisfy 0 <= i < N, got {i}/{n}")
    return StudyConfig(**base)


def parse_shard(text: str | None, environ: dict | None = None) -> tuple[int, int]:
    """``"i/N"`` -> ``(i, N)``; without text, a SLURM array job's index/count, else ``(0, 1)``."""
    environ = os.environ if environ is None else environ
    if text:
        try:
            i, n = (int(p) for p in text.split("/"))
        except ValueError:
            raise ReproError(f"--shard must look like i/N (e.g. 0/4), got {text!r}") from None
        return i, n
    if "SLURM_ARRAY_TASK_ID" in environ:
        i = int(environ["SLURM_ARRAY_TASK_ID"]) - int(environ.get("SLURM_ARRAY_TASK_MIN", 0))
        return i, int(environ.get("SLURM_ARRAY_TASK_COUNT", 1))
    return 0, 1


def open_model(cfg: StudyConfig):
    from repro.models import load_model

    return load_model(cfg.model, cfg.weights)


def open_source(cfg: StudyConfig):
    """The profile's image source: the generated shapes test split, or ImageNet from the manifest."""
    if cfg.profile == "embedded":
        from repro.data.shapes import ShapesSource

        return ShapesSource(n=cfg.num_images or EMBEDDED_DEFAULT_IMAGES, seed=cfg.seed, split="test")
    if not cfg.imagenet_dir:
        raise ReproError("the paper profile needs --imagenet-dir DIR (the ILSVRC2012 validation images, flat or "
                         "in per-wnid folders); see the README")
    from repro.data.imagenet import ImageNetSource

    return ImageNetSource(cfg.manifest, cfg.imagenet_dir, limit=cfg.num_images)


@dataclass
class Study:
    """A run in directory ``out``: its config, model, image source and chunk plan."""

    cfg: StudyConfig
    out: Path
    model: object = field(repr=False)
    source: object = field(repr=False)
    _methods: dict = field(default_factory=dict, repr=False)
    progress: bool = False
    """Show the per-chunk bars (maps per method, criteria forwards) below the chunk bar."""

    def method(self, name: str):
        """The method instance for ``name``, created once per study (graph workers start once)."""
        from repro.attributions import get_method

        if name not in self._methods:
            self._methods[name] = get_method(name, **self.cfg.method_params(name))
        return self._methods[name]

    def close(self) -> None:
        """Stop worker processes of graph-mode methods."""
        for m in self._methods.values():
            close = getattr(m, "close", None)
            if close is not None:
                close()
        self._methods.clear()

    @property
    def num_chunks(self) -> int:
        return count_chunks(len(self.source.ids), self.cfg.chunk_size)

    def my_chunks(self) -> list[int]:
        i, n = self.cfg.shard
        return [c for c in range(self.num_chunks) if c % n == i]

    def chunk_path(self, c: int) -> Path:
        return chunk_path(self.out, c)

    def chunk_indices(self, c: int) -> list[int]:
        start = c * self.cfg.chunk_size
        return list(range(start, min(start + self.cfg.chunk_size, len(self.source.ids))))


def open_study(cfg: StudyConfig, out: str | Path, model=None, source=None) -> Study:
    """Create or reopen the run in ``out``; refuses a directory made with different settings."""
    out = Path(out)
    from repro.store import atomic_write_json

    cfg_path = out / "config.json"
    model = model if model is not None else open_model(cfg)
    source = source if source is not None else open_source(cfg)
    record = {**dataclasses.asdict(cfg), "image_ids_sha1": ids_digest(source.ids),
              "num_image_ids": len(source.ids)}
    if cfg_path.exists():
        check_same_settings(cfg_path, read_json(cfg_path), record)
    else:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(cfg_path, record)
    return Study(cfg, out, model, source)


def ids_digest(ids: Sequence[str]) -> str:
    return hashlib.sha1("\n".join(ids).encode()).hexdigest()


def check_same_settings(where: Path, old: dict, new: dict) -> None:
    """Raise :class:`ReproError` listing every result-determining setting that differs."""
    skip = set(NON_RESULT_FIELDS)
    diffs = [f"{k}: {old.get(k)!r} != {new.get(k)!r}" for k in sorted(set(old) | set(new))
             if k not in skip and _norm(old.get(k)) != _norm(new.get(k))]
    if diffs:
        raise ReproError(f"{where} was made with different settings ({'; '.join(diffs)}); "
                         "use another --out directory")


def _norm(v):
    return json.loads(json.dumps(v))


def compute_chunk(study: Study, c: int, cache=None) -> list[dict]:
    """Run stages 1-3 for chunk ``c`` and write its examples; returns its result rows (not yet written)."""
    from tqdm.auto import tqdm

    from repro.criteria import evaluate_methods
    from repro.models import top1_targets

    cfg, model, source = study.cfg, study.model, study.source
    idx = study.chunk_indices(c)
    ids = [source.ids[i] for i in idx]
    raw = source.load(idx)
    x = model.preprocess(raw)
    labels = np.asarray(source.labels)[idx].astype(np.int64)
    if cfg.target == "label":
        if (labels < 0).any():
            raise ReproError(f"--target label needs ground-truth labels; images {ids[:3]} have none")
        targets = labels
    else:
        targets = top1_targets(model.predict(x, batch_size=cfg.batch_size))

    maps = {}
    for name in tqdm(cfg.methods, desc=f"chunk {c}: maps", unit="method", leave=False, disable=not study.progress):
        maps[name] = attribute_cached(study, name, ids, x, targets, cache)
    results = evaluate_methods(model, x, maps, targets=targets, steps=cfg.steps, batch_size=cfg.batch_size,
                               score=cfg.score, progress=study.progress)  # one engine pass for all methods
    tables = {name: res.to_rows() for name, res in results.items()}
    rows = []
    for i in range(len(idx)):  # image-major: the eight methods of an image are adjacent
        for name in cfg.methods:
            rows.append({"image_id": ids[i], "method": name, "target": int(targets[i]), "label": int(labels[i]),
                         **{key: tables[name][i][key] for key in RESULT_COLUMNS[4:]}})
    write_examples(study, idx, ids, raw, maps, results, targets)
    return rows


def attribute_cached(study: Study, name: str, ids: list[str], x, targets, cache) -> np.ndarray:
    """Per-pixel attribution scores ``(n, H, W)`` of method ``name``, from ``cache`` where present."""
    from repro.criteria.orders import pixel_scores

    model, cfg = study.model, study.cfg
    params = cfg.method_params(name)

    def compute(todo: list[int]) -> np.ndarray:
        return pixel_scores(study.method(name)(model, x[todo], targets[todo]), model.input_shape[:2])

    if cache is None:
        return compute(list(range(len(ids))))
    keys = [cache.key(model.name, cfg.weights, name, {**params, "target": int(t), "image": i})
            for i, t in zip(ids, targets)]
    return cache.get_or_compute(keys, compute).astype(np.float32, copy=False)


def write_examples(study: Study, idx: list[int], ids: list[str], raw, maps: dict, results: dict, targets) -> None:
    """Write ``examples/<image_id>.npz`` for the chunk's images among the study's first ``num_examples``.

    ``maps``: method -> per-pixel scores ``(n, H, W)``; ``results``: method -> its ``CriteriaResult`` (n rows).
    """
    from repro.store import atomic_write_npz

    cfg = study.cfg
    for i, global_index in enumerate(idx):
        if global_index >= cfg.num_examples:
            continue
        arrays = {"image": raw[i], "target": np.int64(targets[i]),
                  "class_name": np.str_(study.model.class_names[int(targets[i])])}
        for name in cfg.methods:
            arrays[f"map/{name}"] = maps[name][i]
            curves = results[name].curves[i]
            for cname in CURVE_NAMES:
                curve = getattr(curves, cname)
                arrays[f"curve/{name}/{cname}/x"] = curve.x
                arrays[f"curve/{name}/{cname}/y"] = curve.y
        atomic_write_npz(study.out / "examples" / f"{ids[i]}.npz", arrays)


def run_study(study: Study, progress: bool = True, cache=None) -> Path | None:
    """Compute every missing chunk of this shard, then assemble ``results.csv`` if all chunks are present.

    Returns the results path, or ``None`` when other shards' chunks are still missing.
    """
    from tqdm.auto import tqdm

    from repro.store import MapCache, write_results

    cache = cache if cache is not None else MapCache(study.out / "maps")
    study.progress = progress
    todo = [c for c in study.my_chunks() if not study.chunk_path(c).exists()]
    done = len(study.my_chunks()) - len(todo)
    if done and todo:
        print(f"[repro] resuming: {done} of {done + len(todo)} chunks of this shard are already done")
    try:
        bar = tqdm(todo, desc="chunks", unit="chunk", initial=done, total=done + len(todo), disable=not progress)
        for c in bar:
            rows = compute_chunk(study, c, cache)
            write_results(study.chunk_path(c), rows)
    finally:
        study.close()
    return assemble_results(study.out, study.num_chunks)


def assemble_results(out: Path, num_chunks: int) -> Path | None:
    """Concatenate ``chunks/chunk_*.csv`` in chunk order into ``results.csv`` (atomically) when all exist.

    Rewrites ``results.csv`` only when its content would change, so re-running a finished study is a no-op.
    """
    from repro.store import atomic_write_text

    paths = [chunk_path(out, c) for c in range(num_chunks)]
    missing = [p.name for p in paths if not p.exists()]
    if missing:
        return None
    header, body = None, []
    for p in paths:
        lines = p.read_text().splitlines(keepends=True)
        header = header or lines[0]
        if lines[0] != header:
            raise ReproError(f"{p}: header differs from the other chunks")
        body.extend(lines[1:])
    text = header + "".join(body)
    target = out / "results.csv"
    if not target.exists() or target.read_text() != text:
        atomic_write_text(target, text)
    return target


def merge_runs(shard_dirs: Sequence[str | Path], out: str | Path) -> Path:
    """Join shard directories into ``out``: same settings required, every chunk present exactly once."""
    import shutil

    from repro.store import atomic_write_json

    out = Path(out)
    configs = []
    for d in map(Path, shard_dirs):
        p = d / "config.json"
        if not p.is_file():
            raise ReproError(f"{p}: not found; is {d} a run directory?")
        configs.append((p, read_json(p)))
    first_path, first = configs[0]
    for p, cfg in configs[1:]:
        check_same_settings(p, first, cfg)
    num_chunks = count_chunks(first["num_image_ids"], first["chunk_size"])
    (out / "chunks").mkdir(parents=True, exist_ok=True)
    for d in map(Path, shard_dirs):
        for sub in ("chunks", "examples"):
            for f in sorted((d / sub).glob("*")) if (d / sub).is_dir() else []:
                dest = out / sub / f.name
                if d.resolve() != out.resolve() and not dest.exists():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(f, dest)
    merged = {**first, "shard": [0, 1]}
    atomic_write_json(out / "config.json", merged)
    result = assemble_results(out, num_chunks)
    if result is None:
        missing = [c for c in range(num_chunks) if not chunk_path(out, c).exists()]
        raise ReproError(f"merge into {out}: {len(missing)} chunk(s) missing (e.g. {missing[:5]}); "
                         "run the remaining shards first")
    return result
