"""``make bench``: run the benchmarks and write a markdown report (default ``benchmarks/RESULTS.md``).

Usage::

    python benchmarks/run.py --out benchmarks/RESULTS.md      # everything (~10 min on a quiet 2-core CPU)
    python benchmarks/run.py --quick --out /tmp/r.md           # smoke run: tiny sizes, no VGG16
    python benchmarks/run.py --skip-vgg16 --skip-peers ...     # parts only

Sections: (1) engine efficiency on the embedded model and on VGG16(weights=None) 224x224, (2) Xplique 1.5.2 and
Quantus 0.6.0 side by side with the engine, (3) scaling in images and steps with memory, (4) the paper profile
projected on this CPU and per GPU-hour (the GPU throughput is an explicit, labelled assumption).
Nothing is downloaded: the embedded model ships with the package (if its weights file is missing, the same
architecture with seeded random weights is used and the report says so); VGG16 is built with ``weights=None``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from benchmarks import harness, peers  # noqa: E402
from benchmarks.efficiency import EfficiencyResult, mask_only_ms_per_batch, measure_efficiency  # noqa: E402
from benchmarks.harness import fmt, markdown_table, timed  # noqa: E402
from benchmarks.scaling import image_sweep, project, step_sweep  # noqa: E402
from repro.models import top1_targets  # noqa: E402

GPU_ASSUMPTION = {
    "name": "NVIDIA A100",
    "forwards_per_second": 32 / 0.0042,
    "source": ("Keras Applications table (https://keras.io/api/applications/): VGG16 4.2 ms per inference step on "
               "a Tesla A100 at batch size 32, i.e. 32 / 0.0042 s = 7,619 images/s"),
}
"""ASSUMED GPU throughput for the projection (not measured here)."""

PAPER_PROFILE = {"images": 9600, "methods": 8, "steps": 100}


@dataclass
class Settings:
    """Sizes of every section (``quick`` shrinks them for a smoke run)."""

    eff_images: int = 4
    eff_steps: int = 100
    eff_repeats: int = 3
    vgg_images: int = 1
    vgg_maps_per_image: int = 1
    vgg_steps: int = 10
    vgg_batch: int = 16
    vgg_repeats: int = 3
    peer_images: int = 8
    peer_steps: int = 64
    quantus_regions: int = 256
    sweep_counts: tuple[int, ...] = (4, 8, 16, 32)
    sweep_steps: int = 50
    step_list: tuple[int, ...] = (10, 25, 50, 100)
    step_images: int = 8
    batch: int = 64
    notes: list[str] = field(default_factory=list)

    @classmethod
    def quick(cls) -> "Settings":
        return cls(eff_images=2, eff_steps=10, eff_repeats=1, vgg_steps=2, vgg_maps_per_image=1, vgg_repeats=1,
                   peer_images=2,
                   peer_steps=16, quantus_regions=16, sweep_counts=(1, 2, 4), sweep_steps=10, step_list=(5, 10),
                   step_images=2)


# ---------------------------------------------------------------------------------------------------- setup


def load_embedded(notes: list[str]):
    """The shipped embedded model, or (weights missing) the same architecture with seeded random weights."""
    from repro.errors import WeightsNotFoundError
    from repro.models import load_model

    try:
        return load_model("embedded")
    except WeightsNotFoundError as exc:
        import tensorflow as tf

        from repro.embedded.model import build_embedded, wrap

        tf.keras.utils.set_random_seed(0)
        notes.append(f"Embedded weights not found ({exc}); the embedded ARCHITECTURE with seeded random weights "
                     "was used (same FLOPs, so timings hold; curves are those of an untrained model).")
        return wrap(build_embedded())


def shapes_images(model, n: int) -> np.ndarray:
    """The first ``n`` test images of the logic-shapes data, in model space ``(n, 64, 64, 3)``."""
    from repro.data.shapes import generate_arrays

    raw, _ = generate_arrays(0, "test", range(n))
    return model.preprocess(raw)


def method_maps(model, x: np.ndarray, targets: np.ndarray, name: str, **params) -> np.ndarray:
    from repro.attributions import get_method

    return get_method(name, **params)(model, x, targets)


def gradient_magnitude_scores(model, x: np.ndarray, targets: np.ndarray, seed: int = 0) -> np.ndarray:
    """Per-pixel ``sum_c |d logit_target / d x_c|`` plus a random tie-break between ``1e-6`` and ``2e-6`` of each
    image's maximum, so every pixel has a distinct positive score (``M = H W``: what Xplique and Quantus rank).

    Returns:
        float64 ``(N, H, W)``.
    """
    import tensorflow as tf

    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logits = model.logits_model(xt, training=False)
        chosen = tf.gather(logits, tf.constant(targets), axis=1, batch_dims=1)
    g = np.abs(tape.gradient(chosen, xt).numpy()).sum(axis=-1).astype(np.float64)
    jitter = np.random.default_rng(seed).uniform(0.0, 1.0, g.shape)
    peak = g.reshape(len(g), -1).max(axis=1)[:, None, None]
    return g + 1e-6 * np.where(peak > 0, peak, 1.0) * (1.0 + jitter)


def uniform_scores(shape: tuple[int, ...], seed: int = 1) -> np.ndarray:
    """Uniform ``(0, 1]`` per-pixel scores ``(N, H, W)``: every pixel positive, random order."""
    return 1.0 - np.random.default_rng(seed).uniform(0.0, 1.0, shape)


# ---------------------------------------------------------------------------------------------------- sections


def efficiency_rows(results: list[EfficiencyResult]) -> str:
    header = ["model", "input", "pairs (images x maps)", "K", "batch", "forwards Q", "rows run (padded)",
              "forwards / pair", "naive 6(K+1)", "engine s (fastest)", "bare s (fastest, same batches)",
              "overhead (fastest)", "overhead (medians)", "overhead incl. padding", "warm-up (trace) s", "repeats",
              "RSS high-water MiB"]
    rows = []
    for r in results:
        rows.append([r.model, "x".join(map(str, r.input_shape)), f"{r.pairs} ({r.images} x {r.pairs // r.images})",
                     r.steps, r.batch_size, r.queries, r.rows, r.forwards_per_pair, r.naive_per_pair,
                     r.engine_seconds, r.bare_seconds, f"{100 * r.overhead:+.1f}%", f"{100 * r.median_overhead:+.1f}%",
                     f"{100 * r.overhead_vs_queries:+.1f}%", r.warmup_seconds, r.repeats, r.rss_mib])
    return markdown_table(header, rows)


def efficiency_embedded(emb, s: Settings) -> EfficiencyResult:
    """The embedded model, Saliency (grad x input) and Random maps of the same images, K = ``s.eff_steps``."""
    x = shapes_images(emb, s.eff_images)
    t = top1_targets(emb, x)
    maps = np.concatenate([method_maps(emb, x, t, "saliency").sum(axis=-1), method_maps(emb, x, t, "random")])
    index = np.concatenate([np.arange(len(x)), np.arange(len(x))])
    return measure_efficiency(emb, x, maps, t, s.eff_steps, s.batch, s.eff_repeats, image_index=index,
                              name=f"{emb.name} (SM + Random maps)")


def efficiency_vgg16(s: Settings) -> EfficiencyResult:
    """VGG16(weights=None) at 224x224, random raw images, ``s.vgg_maps_per_image`` Random maps per image."""
    from repro.models import load_vgg16
    from repro.testing import random_images

    vgg = load_vgg16(None)
    xv = vgg.preprocess(random_images(s.vgg_images, (224, 224, 3), seed=0))
    tv = top1_targets(vgg, xv)
    maps = np.concatenate([method_maps(vgg, xv, tv, "random", seed=k) for k in range(s.vgg_maps_per_image)])
    index = np.tile(np.arange(len(xv)), s.vgg_maps_per_image)
    return measure_efficiency(vgg, xv, maps, tv, s.vgg_steps, s.vgg_batch, s.vgg_repeats, image_index=index,
                              name="vgg16 weights=None (Random maps)")


def mask_cost_rows(results: list[EfficiencyResult]) -> str:
    """The engine's own device work per batch (model replaced by a spatial mean) next to one bare model batch."""
    rows = []
    for r in results:
        ms = mask_only_ms_per_batch(r.batch_size, r.input_shape)
        bare_ms = 1e3 * r.bare_seconds / r.calls
        rows.append([r.model, r.batch_size, ms, bare_ms, f"{100 * ms / bare_ms:.1f}%"])
    return ("**Where the overhead comes from**: the engine's compiled query function with the model replaced by a "
            "spatial mean (gathers, rank comparison, pixel selection only), per batch, next to one bare model "
            "batch:\n\n" + markdown_table(["model", "batch", "engine-only ms / batch", "bare model ms / batch",
                                            "ratio"], rows) + "\n\n" + MASK_NOTE)


MASK_NOTE = (
    "The selection step costs a fixed amount per input element (it gathers each query's image, rank map and "
    "baseline and writes `x (1 - m) + b m`, an exact blend for a 0/1 mask; it replaced `tf.where`, which cost 1.6x "
    "more). Its share of a forward is therefore large only for a model that does little work per pixel: the "
    "embedded model (a few convolutions on 64x64) misses the 10% target by the ratio shown, VGG16 - the paper's "
    "model - does not notice it. Fusing the step with XLA (`jit_compile=True`) or selecting with `gather_nd` from "
    "a stacked image/baseline table was measured too and was not faster on this CPU.")


EFFICIENCY_NOTE = (
    "Overhead = engine time / time of the same number of compiled forward batches of the same size on the same "
    "model - 1 (target < 10%). Engine and bare runs alternate; other processes can only add time, so the fastest "
    "run of each is compared (the ratio of medians is shown too). Forwards are counted by a `tf.Variable` counter "
    "around the model (every batch the engine runs, padding included) and checked against "
    "`CriteriaResult.num_forwards`. The naive count 6(K+1) evaluates six curves of K+1 points per (image, map); the "
    "engine shares y0 and y_b per image, the top curves of N-Ord/TPN (S-Ord/TPS), and deduplicates, but evaluates "
    "each top curve at the union of K+1 counts evenly spaced in m and K+1 counts evenly spaced in the share k, so "
    "in stepped mode (M > K) it runs up to 6K - 4 + 2 per pair.")


def section_peers(emb, s: Settings) -> tuple[str, list[str]]:
    """Xplique and Quantus against the engine; returns the markdown and notes."""
    versions = peers.peer_versions()
    missing = [f"{k} (want {v})" for k, v in peers.PEERS.items() if versions[k] is None]
    if missing:
        return (f"Skipped: not installed: {', '.join(missing)}. `make bench` installs the `bench` extra.", [])
    x = shapes_images(emb, s.peer_images)
    t = top1_targets(emb, x)
    H, W, C = emb.input_shape
    base = emb.baseline
    if not np.all(base == base.flat[0]):
        return "Skipped: the model's black baseline is not one uniform value (Quantus takes a single value).", []
    base_value = float(base.flat[0])
    keras = emb.score_model("probability")
    K, R, B = s.peer_steps, s.quantus_regions, s.batch
    score_sets = {"gradient magnitude": gradient_magnitude_scores(emb, x, t), "uniform random": uniform_scores(
        (len(x), H, W))}
    agree_rows, speed_rows = [], []
    for label, sc in score_sets.items():
        if not peers.strict_order(sc):
            raise RuntimeError(f"{label} scores are not all positive and distinct")
        from repro.criteria import evaluate

        evaluate(emb, x[:1], sc[:1], baseline=base, targets=t[:1], steps=1, batch_size=B)  # trace the engine (untimed)
        ours = timed(lambda: evaluate(emb, x, sc, baseline=base, targets=t, steps=K, batch_size=B))
        nec_m = [c.necessity.m for c in ours.value.curves]
        y0 = np.array([c.y0 for c in ours.value.curves])
        # Each peer runs once untimed first (tracing / Keras predict-function building), as the engine was warmed
        # by the evaluate() call above. Xplique: all images in one call (its dataset-mean curve), timed; then one
        # call per image for per-image curves.
        peers.xplique_curve(keras, x, sc, t, base_value, K, "remove", B)
        peers.xplique_curve(keras, x, sc, t, base_value, K, "add", B)
        peers.quantus_morf_drops(keras, x, sc, t, base_value, 2, B)
        xd = timed(lambda: peers.xplique_curve(keras, x, sc, t, base_value, K, "remove", B))
        xi = timed(lambda: peers.xplique_curve(keras, x, sc, t, base_value, K, "add", B))
        m_x = xd.value[0]
        _, xd_img = peers.xplique_per_image(keras, x, sc, t, base_value, K, "remove", B)
        _, xi_img = peers.xplique_per_image(keras, x, sc, t, base_value, K, "add", B)
        same = timed(lambda: (peers.engine_curve(keras, x, sc, base, t, m_x, "remove", B),
                              peers.engine_curve(keras, x, sc, base, t, m_x, "add", B)))
        e_del, e_ins = same.value
        # Our evaluate() curves at Xplique's counts (every image has M = H W, so the counts are common).
        d_del = max(peers.max_abs_diff(nec_m[i], c.necessity.y, m_x, xd_img[i])[0]
                    for i, c in enumerate(ours.value.curves))
        d_ins = max(peers.max_abs_diff(nec_m[i], c.sufficiency.y, m_x, xi_img[i])[0]
                    for i, c in enumerate(ours.value.curves))
        common = min(peers.max_abs_diff(nec_m[i], c.necessity.y, m_x, xd_img[i])[1]
                     for i, c in enumerate(ours.value.curves))
        mean_del = np.mean([peers.align(nec_m[i], c.necessity.y, m_x, m_x)[1] for i, c in
                            enumerate(ours.value.curves)], axis=0)
        mean_ins = np.mean([peers.align(nec_m[i], c.sufficiency.y, m_x, m_x)[1] for i, c in
                            enumerate(ours.value.curves)], axis=0)
        d_mean = max(np.abs(mean_del - xd.value[1]).max(), np.abs(mean_ins - xi.value[1]).max())
        # Quantus MoRF, R single-pixel regions.
        q = timed(lambda: peers.quantus_morf_drops(keras, x, sc, t, base_value, R, B))
        r, q_drops = q.value
        eq = timed(lambda: peers.engine_curve(keras, x, sc, base, t, r, "remove", B))
        d_q_engine = float(np.abs((y0[:, None] - eq.value) - q_drops).max())
        d_q_eval = max(peers.max_abs_diff(nec_m[i], y0[i] - c.necessity.y, r, q_drops[i])[0]
                       for i, c in enumerate(ours.value.curves))
        n_q_eval = min(peers.max_abs_diff(nec_m[i], y0[i] - c.necessity.y, r, q_drops[i])[1]
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
    return text, []


def sweep_table(points, key: str) -> str:
    header = [key, "pairs", "K", "batch", "s", "s / image", "forwards", "forwards / pair", "ms / forward",
              "RSS high-water MiB", "host (tracemalloc) peak MiB"]
    rows = [[getattr(p, "images" if key == "images" else "steps"), p.pairs, p.steps, p.batch_size, p.seconds,
             p.seconds_per_image, p.queries, p.forwards_per_pair, p.ms_per_forward, p.rss_mib, p.host_peak_mib]
            for p in points]
    return markdown_table(header, rows)


def section_scaling(emb, s: Settings) -> tuple[str, dict]:
    n = max(max(s.sweep_counts), s.step_images)
    x = shapes_images(emb, n)
    t = top1_targets(emb, x)
    maps = method_maps(emb, x, t, "saliency")
    img_pts = image_sweep(emb, x, maps, t, s.sweep_counts, s.sweep_steps, s.batch)
    step_pts = step_sweep(emb, x[:s.step_images], maps[:s.step_images], t[:s.step_images], s.step_list, s.batch)
    fit_n = harness.linear_fit([p.images for p in img_pts], [p.seconds for p in img_pts])
    fit_k = harness.linear_fit([p.steps for p in step_pts], [p.seconds for p in step_pts])
    fit_f = harness.linear_fit([p.rows for p in step_pts], [p.seconds for p in step_pts])
    text = "\n\n".join([
        f"Embedded model, Saliency (grad x input) maps, batch size {s.batch} (the `evaluate` default; every call "
        f"runs fixed batches of this size, the last one padded).",
        f"**Images** (K = {s.sweep_steps}):", sweep_table(img_pts, "images"),
        f"Fit time = a N + b: a = {fmt(fit_n.slope)} s/image, b = {fmt(fit_n.intercept)} s, R^2 = {fit_n.r2:.4f}, "
        f"max relative residual {100 * fit_n.max_rel_residual:.1f}%.",
        f"**Steps** ({s.step_images} images):", sweep_table(step_pts, "steps"),
        f"Fit time = a K + b: a = {fmt(fit_k.slope)} s/step, b = {fmt(fit_k.intercept)} s, R^2 = {fit_k.r2:.4f}. "
        f"Time against forwards run: {fmt(1e3 * fit_f.slope)} ms/forward, R^2 = {fit_f.r2:.4f}.",
    ])
    return text, {"steps": step_pts, "images": img_pts}


def section_projection(results: list[EfficiencyResult], scaling: dict) -> str:
    vgg_eff = next((r for r in results if r.model.startswith("vgg16")), None)
    k100 = [p for p in scaling["steps"] if p.steps == PAPER_PROFILE["steps"]]
    if vgg_eff is None or not k100:
        return "Skipped (needs the VGG16 efficiency run and a K = 100 point of the step sweep)."
    fpp = k100[0].forwards_per_pair
    cpu = project(PAPER_PROFILE["images"], PAPER_PROFILE["methods"], fpp, vgg_eff.bare_forwards_per_second,
                  max(vgg_eff.overhead, 0.0))
    gpu = project(PAPER_PROFILE["images"], PAPER_PROFILE["methods"], fpp, GPU_ASSUMPTION["forwards_per_second"],
                  max(vgg_eff.overhead, 0.0))
    rows = [["this CPU (measured bare VGG16 forwards)", vgg_eff.bare_forwards_per_second, cpu.total_forwards,
             cpu.hours, cpu.hours / 24, cpu.pairs_per_hour],
            [f"{GPU_ASSUMPTION['name']} (ASSUMPTION, not measured)", GPU_ASSUMPTION["forwards_per_second"],
             gpu.total_forwards, gpu.hours, gpu.hours / 24, gpu.pairs_per_hour]]
    return "\n\n".join([
        f"Paper profile: {PAPER_PROFILE['images']} images x {PAPER_PROFILE['methods']} methods, K = "
        f"{PAPER_PROFILE['steps']}, VGG16 224x224. Forwards per (image, method) = {fmt(fpp)} (measured at K = 100 "
        f"on the embedded model: the count depends on K and on the share curves, not on the model, once M > K; "
        f"bounded by 6K - 4 + 2 = {6 * PAPER_PROFILE['steps'] - 2}). Engine overhead applied: "
        f"{100 * max(vgg_eff.overhead, 0):.1f}% (VGG16 run above; a negative measurement counts as 0). Attribution "
        f"time is NOT included.",
        markdown_table(["device", "VGG16 forwards/s", "total forwards", "hours", "days",
                        "(image, method) pairs / hour"], rows),
        f"GPU assumption: {GPU_ASSUMPTION['source']}. Per GPU-hour: {fmt(gpu.pairs_per_hour)} (image, method) pairs, "
        f"i.e. {fmt(gpu.pairs_per_hour / PAPER_PROFILE['methods'])} images with all {PAPER_PROFILE['methods']} "
        f"methods. Both rows assume the overhead measured on this CPU; next to a model "
        f"{fmt(GPU_ASSUMPTION['forwards_per_second'] / vgg_eff.bare_forwards_per_second)} times faster the "
        f"engine's per-batch host work (Python loop, query upload, output fetch) weighs relatively more, so the GPU "
        f"row is a lower bound on time (and the paper's attribution methods are not counted).",
    ])


# ---------------------------------------------------------------------------------------------------- main


class _Clock:
    """Runs a section, prints its name and wall time, and keeps the times for the report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn):
        print(f"{name} ...", flush=True)
        run = timed(fn)
        self.seconds[name] = run.seconds
        print(f"{name}: {run.seconds:.0f} s", flush=True)
        return run.value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/RESULTS.md", help="markdown report path")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no VGG16 (smoke run)")
    parser.add_argument("--skip-vgg16", action="store_true", help="skip the VGG16 efficiency run and the projection")
    parser.add_argument("--skip-peers", action="store_true", help="skip Xplique / Quantus")
    args = parser.parse_args(argv)
    s = Settings.quick() if args.quick else Settings()
    skip_vgg = args.skip_vgg16 or args.quick
    start = time.perf_counter()
    machine = harness.machine_description()
    emb = load_embedded(s.notes)
    clock = _Clock()
    # Embedded-model work first (so the RSS high-water marks of the sweeps are not VGG16's), VGG16 last.
    results = [clock("efficiency (embedded)", lambda: efficiency_embedded(emb, s))]
    sc_text, sc = clock("scaling", lambda: section_scaling(emb, s))
    if args.skip_peers:
        peer_text = "Skipped (--skip-peers)."
    else:
        peer_text, _ = clock("peers", lambda: section_peers(emb, s))
    if not skip_vgg:
        results.append(clock("efficiency (vgg16)", lambda: efficiency_vgg16(s)))
    mask_rows = clock("engine-only cost", lambda: mask_cost_rows(results))
    sections = [
        ("1. Engine efficiency: all four criteria vs bare batched forwards",
         efficiency_rows(results) + "\n\n" + EFFICIENCY_NOTE + "\n\n" + mask_rows),
        ("2. Peers side by side: Xplique 1.5.2 and Quantus 0.6.0", peer_text),
        ("3. Scaling and memory", sc_text),
        ("4. Projection of the paper profile", section_projection(results, sc)),
    ]
    total = time.perf_counter() - start
    machine["load average (1, 5, 15 min) at end"] = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in clock.seconds.items())
    machine["benchmark wall time"] = f"{total:.0f} s ({parts})"
    machine["embedded model"] = f"{emb.name} {emb.input_shape}"
    out = render(machine, sections, s, quick=args.quick)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(out, encoding="utf-8")
    print(f"wrote {args.out} in {total:.0f} s")
    return 0


def render(machine: dict, sections: list[tuple[str, str]], s: Settings, quick: bool) -> str:
    lines = ["# Benchmarks: the criteria engine", "",
             "Written by `make bench` (`benchmarks/run.py`). Wall-clock times on the machine below; on a shared or "
             "loaded machine they are noisy (see the load averages): re-run on a quiet machine for final numbers.",
             ""]
    if quick:
        lines += ["**QUICK (smoke) RUN: tiny sizes, not representative.**", ""]
    lines += ["## Machine", "", markdown_table(["", ""], [[k, v] for k, v in machine.items()]), ""]
    for note in s.notes:
        lines += [f"> Note: {note}", ""]
    for title, body in sections:
        lines += [f"## {title}", "", body, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
