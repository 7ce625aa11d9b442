"""The work of one chunk: images -> targets -> attribution maps (cached) -> criteria of every score -> rows.

:func:`compute_chunk` runs, for the chunk's images:

1. load and preprocess; top-1 targets (and the labels, for the ``target`` reading);
2. the maps of every map job of the run (:meth:`repro.config.StudyConfig.map_jobs`: the run's own methods, then
   the method variants and targets of the map readings it computes), read from / written to the map cache; maps
   whose cache key another job already has (e.g. ``target=label`` where the label is the top-1 class) are not
   computed twice;
3. ONE engine pass over the distinct (map, target, perturbation baseline) triples, which reads every class score of
   the model from the same forwards (:func:`repro.criteria.evaluate_scores`), sampling the curves as the run says
   (``cfg.steps``: ``K``, exact or ``"adaptive"`` with ``cfg.tol``). The perturbation baseline is the reading
   ``perturbation_baseline`` (:func:`perturbation_baseline`); jobs whose baselines are equal arrays (both values on a
   model whose black image is 0 in model space) share their rows' numbers; several distinct baselines go through the
   same pass as copies of the chunk's images, each copy with its own baseline;
4. the example files of the run's own maps, and the rows: per image, per job, per score
   (:func:`repro.results.result_row`, with each criterion's error estimate and monotone bound), in the order of
   :meth:`repro.config.StudyConfig.row_keys`.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Sequence

import numpy as np

from repro.cache import MapCache
from repro.readings import READINGS, Reading
from repro.results import result_row, write_example

if TYPE_CHECKING:
    from repro.study import Study

SCORES: tuple[str, ...] = READINGS["score"]
"""The class scores a run reads (both from the same forwards), in row order
(:meth:`repro.config.StudyConfig.row_keys`)."""


def method_for(study: "Study", name: str, reading: Reading):
    """The method instance of ``name`` under ``reading``, created once per study (graph workers start once).

    Where the model's baseline is 0 (the embedded model's black image), ``input_reference="input_minus_baseline"``
    multiplies by ``x - 0 = x`` bit for bit: the instance of ``"input"`` serves it, so its maps share cache keys and
    are computed once."""
    from repro.attributions import get_method

    overrides = study.cfg.method_overrides(name, reading)
    if overrides.get("input_reference") == "input_minus_baseline" and not np.any(study.model.baseline):
        overrides = {**overrides, "input_reference": "input"}
    key = (name, json.dumps(overrides, sort_keys=True))
    if key not in study.methods:
        study.methods[key] = get_method(name, **overrides)
    return study.methods[key]


def perturbation_baseline(model, value: str) -> np.ndarray:
    """The image ``x_b`` the criteria set removed pixels to (and start the adding curves from), ``(H, W, C)``
    float32 in model space, under the reading ``perturbation_baseline`` (``docs/methods.md``):

    * ``"black"`` (default): ``model.baseline``, the all-black raw image through the model's preprocessing (VGG16 with
      Caffe preprocessing: ``-[103.939, 116.779, 123.68]`` per BGR channel);
    * ``"zero"``: ``b = 0`` in the model's input space (VGG16: the mean colour).

    Raises:
        ValueError: an unknown value (the message lists the valid ones).
    """
    values = READINGS["perturbation_baseline"]
    if value not in values:
        raise ValueError(f"unknown perturbation_baseline {value!r}; choose from {', '.join(values)}")
    if value == "black":
        return np.asarray(model.baseline, np.float32)
    return np.zeros(tuple(model.input_shape), np.float32)


def chunk_targets(study: "Study", x: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """The classes each ``target`` reading explains: ``top1`` (the model's prediction) and ``label``."""
    from repro.models import top1_targets

    out = {"top1": top1_targets(study.model, x, batch_size=study.cfg.batch_size)}
    if study.cfg.needs_labels():  # every image has one: checked by repro.pipeline.open_study before any work
        out["label"] = labels
    return out


def map_keys(study: "Study", method, ids: Sequence[str], targets: np.ndarray) -> list[str]:
    """The map cache key of each image's map (:meth:`repro.cache.MapCache.key`: the model, the identity of its
    weights, the method's full parameters, the image and the target)."""
    return MapCache.keys(study.model.name, study.weights_id, method, ids, targets)


def attribute_cached(study: "Study", method, ids: Sequence[str], x: np.ndarray, targets: np.ndarray,
                     cache: MapCache | None) -> np.ndarray:
    """Per-pixel attribution scores ``(n, H, W)`` of ``method``, from ``cache`` where every map is present."""
    from repro.criteria.orders import pixel_scores

    model = study.model

    def compute(todo: list[int]) -> np.ndarray:
        return pixel_scores(method(model, x[todo], targets[todo]), model.input_shape[:2])

    if cache is None:
        return compute(list(range(len(ids))))
    keys = map_keys(study, method, ids, targets)
    return cache.get_or_compute(keys, compute, shape=model.input_shape[:2])


def compute_chunk(study: "Study", c: int, cache: MapCache | None = None) -> list[dict]:
    """Stages 1-4 for chunk ``c`` (module docstring); writes its examples, returns its rows (not yet written)."""
    from tqdm.auto import tqdm

    from repro.criteria import evaluate_scores
    from repro.data.images import scale_warning

    cfg, model, source = study.cfg, study.model, study.source
    idx = study.chunk_indices(c)
    ids = [source.ids[i] for i in idx]
    raw = source.load(idx)
    warning = scale_warning(raw, f"chunk {c} ({ids[0]} ... {ids[-1]})")
    if warning:
        print(f"[repro] warning: {warning}", file=sys.stderr)
    x = model.preprocess(raw)
    labels = np.asarray(source.labels)[idx].astype(np.int64)
    targets_of = chunk_targets(study, x, labels)

    distinct: dict[str, int] = {}  # map cache key -> position among the distinct maps
    maps, image_index, map_targets = [], [], []
    baselines: list[np.ndarray] = []  # the distinct perturbation baselines, the run's own first
    jobs = []  # (reading tag, method name, position of each image's map, its baseline's position)
    for tag, name, reading in tqdm(cfg.map_jobs(), desc=f"chunk {c}: maps", unit="map set", leave=False,
                                   disable=not study.progress):
        method, targets = method_for(study, name, reading), targets_of[reading.target]
        keys = map_keys(study, method, ids, targets)
        if not all(k in distinct for k in keys):
            scores = attribute_cached(study, method, ids, x, targets, cache)
            for i, k in enumerate(keys):
                if k not in distinct:
                    distinct[k] = len(maps)
                    maps.append(scores[i])
                    image_index.append(i)
                    map_targets.append(int(targets[i]))
        base = perturbation_baseline(model, reading.perturbation_baseline)
        b = next((j for j, other in enumerate(baselines) if np.array_equal(other, base)), len(baselines))
        if b == len(baselines):
            baselines.append(base)
        jobs.append((tag, name, [distinct[k] for k in keys], b))
    pairs: dict[tuple[int, int], int] = {}  # (map position, baseline position) -> row of the engine's results
    for _, _, positions, b in jobs:
        for p in positions:
            pairs.setdefault((p, b), len(pairs))
    p_of, b_of = (np.asarray(v, np.int64) for v in zip(*pairs))
    if len(baselines) == 1:  # the usual case: the chunk's images and the one baseline, shared by every query
        images, base = x, baselines[0]
    else:  # copy j of the images (rows j * n ... j * n + n - 1) carries baseline j
        images = np.concatenate([x] * len(baselines))
        base = np.concatenate([np.broadcast_to(other, x.shape) for other in baselines])
    by_score = evaluate_scores(model, images, {"maps": np.stack(maps)[p_of]}, baseline=base,
                               image_index={"maps": np.asarray(image_index, np.int64)[p_of] + b_of * len(ids)},
                               targets={"maps": np.asarray(map_targets, np.int64)[p_of]}, steps=cfg.steps,
                               tol=cfg.tol, batch_size=cfg.batch_size,
                               progress=study.progress)  # one engine pass, every score; tol: None unless adaptive
    results = {score: sets["maps"] for score, sets in by_score.items()}
    jobs = [(tag, name, [pairs[p, b] for p in positions]) for tag, name, positions, b in jobs]
    for i, global_index in enumerate(idx):
        if global_index < cfg.num_examples:
            own = {name: positions[i] for tag, name, positions in jobs if tag == ""}
            target = int(targets_of[cfg.target][i])
            write_example(study.out, ids[i], raw[i], target, model.class_names[target],
                          {name: maps[p_of[r]] for name, r in own.items()},
                          {name: results[cfg.score].curves[p] for name, p in own.items()})
    return [result_row(ids[i], name, int(labels[i]), results[score], positions[i], score=score, reading=tag)
            for i in range(len(ids)) for tag, name, positions in jobs for score in SCORES]
