"""The peer libraries side by side with the criteria engine: Xplique 1.5.2 ``Deletion`` / ``Insertion`` and Quantus
0.6.0 ``RegionPerturbation(patch_size=1, order="morf")``, on the same model, images, per-pixel scores and baseline.

What each computes, for one image ``x`` with per-pixel scores ``s`` (one value per pixel, here the channel sum of
the map; every pixel is ranked, highest score first), black baseline ``b`` and target class ``c``:

* Xplique ``Deletion``: ``f_c(x with its top m pixels set to b)`` at ``m = floor(j * H W / K)``, ``j = 0..K``,
  AVERAGED OVER THE IMAGES of the call (``detailed_evaluate`` returns ``{m: mean_i f_c}``); ``Insertion``: the same
  adding the top ``m`` pixels of ``x`` to ``b``. It averages a ``(N, H, W, C)`` map over channels before ranking,
  so the scores are passed as ``(N, H, W)`` (the channel sum, the reduction of :mod:`repro.criteria.orders`).
  Per-image curves: one call per image.
* Quantus ``RegionPerturbation``: for ``r = 1..R`` (``R = regions_evaluation``) the drop ``f_c(x) - f_c(x with its
  top r pixels set to the baseline)``, one forward per pixel count; its ``"black"`` baseline is each image's
  minimum value, so an explicit value is passed (``perturb_baseline=<float>``), with ``normalise=False, abs=False``.
* Ours: ``necessity`` = ``R_m(x, pi+)`` and ``sufficiency`` = ``R'_m(x_b, pi+)`` of :func:`repro.criteria.evaluate`,
  over the pixels with a POSITIVE score only (``M = |pi+|``) at its own counts; with strictly positive scores
  ``M = H W`` and the three definitions coincide at the common counts ``m``. :func:`engine_curve` asks the same
  compiled engine for arbitrary counts (e.g. ``m = 1..R`` for Quantus).

Comparisons are made at the counts both sides evaluated (:func:`align`), as the max absolute difference.

Reference: Petsiuk et al. 2018 (RISE, deletion/insertion); Samek et al. 2016 (region perturbation); Wang et al.,
"Interpreting Interpretations", Section 3.1 (``R_m`` and ``R'_m``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from benchmarks.harness import markdown_table, timed
from benchmarks.inputs import Settings, gradient_magnitude_scores, shapes_images, uniform_scores

PEERS: dict[str, str] = {"xplique": "1.5.2", "quantus": "0.6.0"}
"""Peer library -> the version these adapters were written against."""


def peer_versions() -> dict[str, str | None]:
    """Installed version of each peer (``None`` if it is not installed)."""
    from importlib import metadata

    out: dict[str, str | None] = {}
    for name in PEERS:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def align(m_a: np.ndarray, y_a: np.ndarray, m_b: np.ndarray, y_b: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The values of two curves at the pixel counts both evaluated.

    Args:
        m_a: ``(La,)`` distinct counts of curve a; y_a: ``(..., La)`` values (leading axes = images).
        m_b, y_b: the same for curve b (same leading axes).
    Returns:
        ``(m, ya, yb)``: common counts ``(L,)`` ascending and the values there, ``(..., L)`` each.
    """
    m_a, m_b = np.asarray(m_a, np.int64), np.asarray(m_b, np.int64)
    y_a, y_b = np.asarray(y_a, np.float64), np.asarray(y_b, np.float64)
    for name, m, y in (("a", m_a, y_a), ("b", m_b, y_b)):
        if m.ndim != 1 or y.shape[-1:] != m.shape or np.unique(m).size != m.size:
            raise ValueError(f"curve {name}: counts {m.shape} must be distinct and match the last axis of {y.shape}")
    common, ia, ib = np.intersect1d(m_a, m_b, return_indices=True)
    return common, y_a[..., ia], y_b[..., ib]


def max_abs_diff(m_a: np.ndarray, y_a: np.ndarray, m_b: np.ndarray, y_b: np.ndarray) -> tuple[float, int]:
    """``max |a - b|`` over the common counts and the number of common counts (NaN, 0 when there is none)."""
    m, ya, yb = align(m_a, y_a, m_b, y_b)
    if m.size == 0:
        return float("nan"), 0
    return float(np.max(np.abs(ya - yb))), int(m.size)


def strict_order(scores: np.ndarray) -> bool:
    """True when every image's per-pixel scores ``(N, H, W)`` are > 0 and pairwise distinct: then pi+ covers all
    pixels and every library ranks them identically (no tie-breaking convention involved)."""
    s = np.asarray(scores, np.float64).reshape(len(scores), -1)
    return bool(np.all(s > 0) and all(np.unique(row).size == row.size for row in s))


def engine_curve(forward: Any, images: np.ndarray, scores: np.ndarray, baseline: np.ndarray, targets: np.ndarray,
                 counts: np.ndarray, mode: str, batch_size: int = 64) -> np.ndarray:
    """Our engine's output for each image with its top ``m`` pixels of pi+ removed (or added), ``m`` in ``counts``.

    The same compiled :class:`repro.criteria.curves.CurveEngine` that :func:`repro.criteria.evaluate` uses, asked
    only for these queries (so the work equals what a peer computes).

    Args:
        forward: Keras model or callable ``(B, H, W, C) -> (B, classes)`` (the probability model).
        images: ``(N, H, W, C)`` model space. scores: ``(N, H, W)`` per-pixel scores.
        baseline: ``(H, W, C)`` model space. targets: ``(N,)``.
        counts: ``(L,)`` pixel counts, each ``<= M`` of every image.
        mode: ``"remove"`` (``R_m(x, pi+)``) or ``"add"`` (``R'_m(x_b, pi+)``).
    Returns:
        ``(N, L)`` float64 outputs.
    """
    from repro.criteria import orders
    from repro.criteria.curves import ADD, REMOVE, get_engine

    if mode not in ("remove", "add"):
        raise ValueError(f"mode must be 'remove' or 'add', got {mode!r}")
    images = np.asarray(images, np.float32)
    N, H, W, C = images.shape
    counts = np.asarray(counts, np.int64)
    ranks = np.empty((N, H, W), np.int32)
    for i in range(N):
        ranks[i], M = orders.rank_map(np.asarray(scores[i], np.float64))
        if counts.size and counts.max() > M:
            raise ValueError(f"image {i}: count {counts.max()} exceeds its {M} positive pixels")
    L = counts.size
    img = np.repeat(np.arange(N), L)
    queries = {"image": img, "baseline": np.zeros(N * L, np.int64), "rank": img, "lo": np.zeros(N * L, np.int64),
               "hi": np.tile(counts, N), "mode": np.full(N * L, REMOVE if mode == "remove" else ADD),
               "target": np.asarray(targets, np.int64)[img]}
    engine = get_engine(forward, batch_size, (H, W, C))
    base = np.asarray(baseline, np.float32).reshape(1, H, W, C)
    return engine.run(images, base, ranks, queries).reshape(N, L)


def _one_hot(targets: np.ndarray, num_classes: int) -> np.ndarray:
    return np.eye(num_classes, dtype=np.float32)[np.asarray(targets, np.int64)]


def xplique_curve(keras_model: Any, images: np.ndarray, scores: np.ndarray, targets: np.ndarray,
                  baseline: float | np.ndarray, steps: int, mode: str, batch_size: int = 64
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Xplique 1.5.2 ``Deletion`` (``mode="remove"``) or ``Insertion`` (``"add"``) curve, averaged over the images.

    Args:
        keras_model: the probability model (Xplique reads ``model(x)[target]``).
        images: ``(N, H, W, C)`` model space. scores: ``(N, H, W)`` per-pixel scores (passed as the explanation).
        targets: ``(N,)`` class indices (one-hot encoded for Xplique).
        baseline: a float (uniform value) or an ``(H, W, C)`` image, in model space.
        steps: Xplique's ``steps`` (``K``; counts ``floor(j H W / K)``).
    Returns:
        ``(m, y)``: counts ``(K + 1,)`` and the image-mean outputs ``(K + 1,)``.
    """
    from xplique.metrics import Deletion, Insertion

    if mode not in ("remove", "add"):
        raise ValueError(f"mode must be 'remove' or 'add', got {mode!r}")
    images = np.asarray(images, np.float32)
    if np.ndim(baseline) == 0:
        base: Any = float(baseline)
    else:
        image = np.asarray(baseline, np.float32)
        base = lambda inputs: np.broadcast_to(image, np.shape(inputs)).astype(np.float32)  # noqa: E731
    cls = Deletion if mode == "remove" else Insertion
    metric = cls(keras_model, images, _one_hot(targets, int(keras_model.output_shape[-1])), batch_size=batch_size,
                 baseline_mode=base, steps=int(steps))
    curve = metric.detailed_evaluate(np.asarray(scores, np.float64))
    m = np.array(sorted(curve), np.int64)
    return m, np.array([curve[k] for k in m], np.float64)


def xplique_per_image(keras_model: Any, images: np.ndarray, scores: np.ndarray, targets: np.ndarray,
                      baseline: float | np.ndarray, steps: int, mode: str, batch_size: int = 64
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per-image Xplique curves: :func:`xplique_curve` called on one image at a time. Returns ``(m, y (N, K+1))``."""
    rows, m = [], None
    for i in range(len(images)):
        m, y = xplique_curve(keras_model, images[i:i + 1], scores[i:i + 1], np.asarray(targets)[i:i + 1], baseline,
                             steps, mode, batch_size)
        rows.append(y)
    return m, np.stack(rows)


def quantus_morf_drops(keras_model: Any, images: np.ndarray, scores: np.ndarray, targets: np.ndarray,
                       baseline: float, regions: int, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Quantus 0.6.0 ``RegionPerturbation(patch_size=1, order="morf")`` drops ``f_c(x) - f_c(x, top r removed)``.

    Args:
        keras_model: the probability model (``softmax=True``: a model ending in softmax is used as is).
        images: ``(N, H, W, C)`` model space, channels last. scores: ``(N, H, W)`` per-pixel scores.
        targets: ``(N,)``. baseline: the uniform model-space value of a removed pixel (Quantus's own ``"black"``
            would be each image's minimum). regions: ``R``, pixels removed one at a time.
    Returns:
        ``(r, drops)``: counts ``1..R`` ``(R,)`` and ``(N, R)`` drops.
    """
    import quantus

    if np.ndim(baseline) != 0:
        raise ValueError(f"quantus_morf_drops takes a uniform baseline value, got an array of shape "
                         f"{np.shape(baseline)}")
    metric = quantus.RegionPerturbation(patch_size=1, order="morf", regions_evaluation=int(regions), abs=False,
                                        normalise=False, perturb_baseline=float(baseline), disable_warnings=True)
    images = np.asarray(images, np.float32)
    a_batch = np.asarray(scores, np.float64)[:, None, :, :]  # channel-first like Quantus's internal layout
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = metric(model=keras_model, x_batch=images, y_batch=np.asarray(targets, np.int64), a_batch=a_batch,
                     channel_first=False, softmax=True, batch_size=batch_size)
    drops = np.asarray(out, np.float64)
    return np.arange(1, drops.shape[1] + 1), drops


# ---------------------------------------------------------------------------------------------------- report section


def section_peers(emb: Any, s: Settings) -> str:
    """Xplique and Quantus against the engine on the embedded model ``emb``: the report section (markdown)."""
    from repro.criteria import evaluate
    from repro.models import top1_targets

    versions = peer_versions()
    missing = [f"{k} (want {v})" for k, v in PEERS.items() if versions[k] is None]
    if missing:
        return f"Skipped: not installed: {', '.join(missing)}. `make bench` installs the `bench` extra."
    x = shapes_images(emb, s.peer_images)
    t = top1_targets(emb, x)
    H, W, C = emb.input_shape
    base = emb.baseline
    if not np.all(base == base.flat[0]):
        return "Skipped: the model's black baseline is not one uniform value (Quantus takes a single value)."
    base_value = float(base.flat[0])
    keras = emb.score_model("probability")
    K, R, B = s.peer_steps, s.quantus_regions, s.batch
    score_sets = {"gradient magnitude": gradient_magnitude_scores(emb, x, t), "uniform random": uniform_scores(
        (len(x), H, W))}
    agree_rows, speed_rows = [], []
    for label, sc in score_sets.items():
        if not strict_order(sc):
            raise RuntimeError(f"{label} scores are not all positive and distinct")
        # trace the engine (untimed)
        evaluate(emb, x[:1], sc[:1], baseline=base, targets=t[:1], steps=1, batch_size=B, score=None)
        ours = timed(lambda: evaluate(emb, x, sc, baseline=base, targets=t, steps=K, batch_size=B, score=None))
        nec_m = [c.necessity.m for c in ours.value.curves]
        y0 = np.array([c.y0 for c in ours.value.curves])
        # Each peer runs once untimed first (tracing / Keras predict-function building), as the engine was warmed
        # by the evaluate() call above. Xplique: all images in one call (its dataset-mean curve), timed; then one
        # call per image for per-image curves.
        xplique_curve(keras, x, sc, t, base_value, K, "remove", B)
        xplique_curve(keras, x, sc, t, base_value, K, "add", B)
        quantus_morf_drops(keras, x, sc, t, base_value, 2, B)
        xd = timed(lambda: xplique_curve(keras, x, sc, t, base_value, K, "remove", B))
        xi = timed(lambda: xplique_curve(keras, x, sc, t, base_value, K, "add", B))
        m_x = xd.value[0]
        _, xd_img = xplique_per_image(keras, x, sc, t, base_value, K, "remove", B)
        _, xi_img = xplique_per_image(keras, x, sc, t, base_value, K, "add", B)
        same = timed(lambda: (engine_curve(keras, x, sc, base, t, m_x, "remove", B),
                              engine_curve(keras, x, sc, base, t, m_x, "add", B)))
        e_del, e_ins = same.value
        # Our evaluate() curves at Xplique's counts (every image has M = H W, so the counts are common).
        d_del = max(max_abs_diff(nec_m[i], c.necessity.y, m_x, xd_img[i])[0]
                    for i, c in enumerate(ours.value.curves))
        d_ins = max(max_abs_diff(nec_m[i], c.sufficiency.y, m_x, xi_img[i])[0]
                    for i, c in enumerate(ours.value.curves))
        common = min(max_abs_diff(nec_m[i], c.necessity.y, m_x, xd_img[i])[1]
                     for i, c in enumerate(ours.value.curves))
        mean_del = np.mean([align(nec_m[i], c.necessity.y, m_x, m_x)[1] for i, c in
                            enumerate(ours.value.curves)], axis=0)
        mean_ins = np.mean([align(nec_m[i], c.sufficiency.y, m_x, m_x)[1] for i, c in
                            enumerate(ours.value.curves)], axis=0)
        d_mean = max(np.abs(mean_del - xd.value[1]).max(), np.abs(mean_ins - xi.value[1]).max())
        # Quantus MoRF, R single-pixel regions.
        q = timed(lambda: quantus_morf_drops(keras, x, sc, t, base_value, R, B))
        r, q_drops = q.value
        eq = timed(lambda: engine_curve(keras, x, sc, base, t, r, "remove", B))
        d_q_engine = float(np.abs((y0[:, None] - eq.value) - q_drops).max())
        d_q_eval = max(max_abs_diff(nec_m[i], y0[i] - c.necessity.y, r, q_drops[i])[0]
                       for i, c in enumerate(ours.value.curves))
        n_q_eval = min(max_abs_diff(nec_m[i], y0[i] - c.necessity.y, r, q_drops[i])[1]
                       for i, c in enumerate(ours.value.curves))
        agree_rows += [
            [label, "Xplique Deletion (per image)", "evaluate() necessity", common, d_del],
            [label, "Xplique Insertion (per image)", "evaluate() sufficiency", common, d_ins],
            [label, "Xplique Deletion/Insertion (image mean)", "mean of evaluate() curves", common, d_mean],
            [label, "Xplique Deletion/Insertion (per image)", "engine, same counts",
             len(m_x), float(max(np.abs(e_del - xd_img).max(), np.abs(e_ins - xi_img).max()))],
            [label, f"Quantus RegionPerturbation drops, r = 1..{R}", "y0 - engine R_r, same counts", R, d_q_engine],
            [label, f"Quantus RegionPerturbation drops, r = 1..{R}", "y0 - evaluate() necessity", n_q_eval,
             d_q_eval],
        ]
        if label == "gradient magnitude":
            n = len(x)
            full_q = q.seconds * (H * W) / R
            speed_rows += [
                ["Xplique Deletion + Insertion (one call each)", 2 * n * (K + 1), xd.seconds + xi.seconds,
                 "engine, same 2 curves", 2 * n * len(m_x), same.seconds, (xd.seconds + xi.seconds) / same.seconds],
                [f"Quantus RegionPerturbation R={R}", n * (R + 1), q.seconds, "engine, same R counts", n * R,
                 eq.seconds, q.seconds / eq.seconds],
                [f"Quantus, full MoRF curve (R = HW = {H * W}; extrapolated x{H * W / R:g})", n * (H * W + 1),
                 full_q, f"evaluate(), all 4 criteria, K={K}", ours.value.num_forwards, ours.seconds,
                 full_q / ours.seconds],
                ["Xplique Deletion + Insertion (one call each)", 2 * n * (K + 1), xd.seconds + xi.seconds,
                 f"evaluate(), all 4 criteria (6 curves), K={K}", ours.value.num_forwards, ours.seconds,
                 (xd.seconds + xi.seconds) / ours.seconds],
            ]
    text = "\n\n".join([
        f"Embedded model, {len(x)} images (logic-shapes test split), targets = top-1, score = softmax probability, "
        f"black baseline = {base_value:g} in model space for all three, K = {K} steps (Xplique's counts "
        f"floor(j*{H * W}/{K}) are exact multiples, so every Xplique point is also one of ours), per-pixel scores "
        f"(N, H, W) passed to every library (so no library reduces channels). Peer versions: "
        + ", ".join(f"{k} {v}" for k, v in versions.items()) + ".",
        "Definitions aligned before comparing (each would otherwise make the curves differ): (1) the engine "
        "perturbs only pixels with a positive score (pi+, M = |pi+|), the peers rank every pixel: the scores are "
        "strictly positive and distinct (`gradient magnitude` = channel sum of |d logit / dx| plus a 1e-6 relative "
        "tie-break; `uniform random`), so M = H W and no tie-break convention matters; (2) Xplique averages a "
        "(N, H, W, C) map over channels, ours sums: (N, H, W) scores are passed to all; (3) Xplique returns the "
        "image-mean curve: per-image curves come from one Xplique call per image, and the image means are compared "
        "too; (4) Xplique's counts are floor(j H W / K), ours round(j M / K) plus the share-spaced counts: K divides "
        "H W; (5) Quantus's `\"black\"` is each image's minimum and it normalises/abs-es maps by default: explicit "
        "`perturb_baseline=0.0`, `normalise=False`, `abs=False`; it returns drops y0 - f (r = 1..R, one pixel per "
        "step), compared with y0 - R_r. Remaining differences of 1e-7..1e-6 are float32 rounding: the libraries "
        "run the model on batches of different size and composition, which changes the summation order inside the "
        "CPU kernels.",
        "**Agreement** (max |difference| of model outputs over the common pixel counts and all images):",
        markdown_table(["scores", "peer", "ours", "common counts / image", "max abs diff"], agree_rows),
        "**Speed** (wall time of one run each after an untimed warm-up run, same images/scores; ratio = peer time "
        "/ our time, > 1 means the engine is faster; 'engine, same ...' asks the engine for exactly the peer's "
        "queries; Quantus makes one Keras `predict` call per pixel count, and a full MoRF curve needs H W of them):",
        markdown_table(["peer", "peer forwards", "peer s", "ours", "our forwards", "our s", "ratio"], speed_rows),
    ])
    return text
