"""Scaling of :func:`repro.criteria.evaluate`: time per image as the number of images and the number of steps
grow, memory, and a projection of the paper's profile.

* Image sweep: ``N`` images, one map each, fixed ``K``: the work is ``N`` independent pairs, so the time should be
  ``a N + b`` (``b``: per-call fixed cost); the fit (:func:`benchmarks.harness.linear_fit`) reports ``a`` (seconds
  per image), ``b`` and ``R^2``.
* Step sweep: fixed images, ``K`` growing: the forwards per pair grow as ``~6 K`` (union of ``K + 1`` counts evenly
  spaced in ``m`` and ``K + 1`` in ``k`` on the top curves, ``K + 1`` on the bottom ones), so time should be linear
  in ``K``; the fit is made on time against ``K``, and also on time against forwards (constant time per forward).
* Memory: the process's ``ru_maxrss`` high-water mark after each point (includes TensorFlow's CPU allocations; it
  never decreases, so only growth is informative) and the ``tracemalloc`` peak of Python-level allocations
  (numpy arrays of the host side: scores, ranks, queries, curves) during the call.
* Projection (:func:`project`): ``images x methods`` pairs at ``forwards_per_pair`` forwards each, divided by a
  forward throughput (measured bare VGG16 forwards/s on this CPU, or an ASSUMED GPU throughput), times
  ``1 + overhead``.

Sections 3 and 4 of the report (:func:`section_scaling`, :func:`section_projection`) are built here too.
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from benchmarks.efficiency import EfficiencyResult
from benchmarks.harness import CountingForward, fmt, linear_fit, markdown_table, peak_rss_mib, timed
from benchmarks.inputs import Settings, method_maps, shapes_images
from repro.models import top1_targets


@dataclass
class SweepPoint:
    """One timed :func:`repro.criteria.evaluate` call."""

    images: int
    pairs: int
    steps: int
    batch_size: int
    seconds: float
    queries: int
    rows: int
    rss_mib: float
    host_peak_mib: float

    @property
    def seconds_per_image(self) -> float:
        return self.seconds / self.images

    @property
    def forwards_per_pair(self) -> float:
        return self.queries / self.pairs

    @property
    def ms_per_forward(self) -> float:
        return 1e3 * self.seconds / self.rows


def run_point(counter: CountingForward, baseline: np.ndarray, images: np.ndarray, maps: np.ndarray,
              targets: np.ndarray, steps: int, batch_size: int) -> SweepPoint:
    """Time one :func:`evaluate` call through ``counter`` (a :class:`CountingForward` of the score model), with the
    ``tracemalloc`` peak of host allocations and the RSS high-water mark after it."""
    from repro.criteria import evaluate

    counter.reset()
    tracemalloc.start()
    try:
        run = timed(lambda: evaluate(counter, images, maps, baseline=baseline, targets=targets, steps=steps,
                                     batch_size=batch_size, score=None))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return SweepPoint(len(images), len(maps), int(steps), int(batch_size), run.seconds, int(run.value.num_forwards),
                      counter.rows, peak_rss_mib(), peak / 2 ** 20)


def image_sweep(model: Any, images: np.ndarray, maps: np.ndarray, targets: np.ndarray, counts: Sequence[int],
                steps: int, batch_size: int) -> list[SweepPoint]:
    """:func:`run_point` on the first ``n`` images (and maps) for each ``n`` in ``counts`` (ascending).

    Args:
        model: :class:`~repro.models.ImageModel` (probability model, black baseline).
        images: ``(N, H, W, C)``, maps ``(N, H, W[, C])``, targets ``(N,)`` with ``N >= max(counts)``.
    """
    counts = sorted(int(c) for c in counts)
    if not counts or counts[0] < 1 or counts[-1] > len(images):
        raise ValueError(f"image counts {counts} must lie in [1, {len(images)}]")
    counter = CountingForward(model.score_model("probability"))
    _warm(counter, model.baseline, images, maps, targets, batch_size)
    return [run_point(counter, model.baseline, images[:n], maps[:n], targets[:n], steps, batch_size) for n in counts]


def step_sweep(model: Any, images: np.ndarray, maps: np.ndarray, targets: np.ndarray, steps_list: Sequence[int],
               batch_size: int) -> list[SweepPoint]:
    """:func:`run_point` on all given images for each ``K`` in ``steps_list``."""
    counter = CountingForward(model.score_model("probability"))
    _warm(counter, model.baseline, images, maps, targets, batch_size)
    return [run_point(counter, model.baseline, images, maps, targets, int(k), batch_size) for k in steps_list]


def _warm(counter, baseline, images, maps, targets, batch_size) -> None:
    """Trace the engine once (one image, ``steps=1``) so the sweep times no tracing."""
    from repro.criteria import evaluate

    evaluate(counter, images[:1], maps[:1], baseline=baseline, targets=targets[:1], steps=1, batch_size=batch_size,
             score=None)


@dataclass(frozen=True)
class Projection:
    """Forwards and hours for ``images x methods`` (image, method) pairs at one throughput."""

    images: int
    methods: int
    forwards_per_pair: float
    forwards_per_second: float
    overhead: float

    @property
    def total_forwards(self) -> float:
        return self.images * self.methods * self.forwards_per_pair

    @property
    def hours(self) -> float:
        """``total_forwards / forwards_per_second * (1 + overhead) / 3600``."""
        return self.total_forwards / self.forwards_per_second * (1.0 + self.overhead) / 3600.0

    @property
    def pairs_per_hour(self) -> float:
        """(image, method) pairs per hour of this device."""
        return self.forwards_per_second * 3600.0 / (self.forwards_per_pair * (1.0 + self.overhead))


def project(images: int, methods: int, forwards_per_pair: float, forwards_per_second: float,
            overhead: float = 0.0) -> Projection:
    """The paper profile's cost at a given forward throughput (see :class:`Projection`).

    Raises:
        ValueError: non-positive counts or throughput, or overhead below -1.
    """
    if images < 1 or methods < 1 or forwards_per_pair <= 0 or forwards_per_second <= 0 or overhead <= -1:
        raise ValueError(f"invalid projection inputs: images={images}, methods={methods}, "
                         f"forwards_per_pair={forwards_per_pair}, forwards_per_second={forwards_per_second}, "
                         f"overhead={overhead}")
    return Projection(int(images), int(methods), float(forwards_per_pair), float(forwards_per_second),
                      float(overhead))


# ---------------------------------------------------------------------------------------------------- report sections

GPU_ASSUMPTION = {
    "name": "NVIDIA A100",
    "forwards_per_second": 32 / 0.0042,
    "source": ("Keras Applications table (https://keras.io/api/applications/): VGG16 4.2 ms per inference step on "
               "a Tesla A100 at batch size 32, i.e. 32 / 0.0042 s = 7,619 images/s"),
}
"""ASSUMED GPU throughput for the projection (not measured here)."""

PAPER_PROFILE = {"images": 9600, "methods": 8, "steps": 100}


def sweep_table(points: Sequence[SweepPoint], key: str) -> str:
    """A sweep as a markdown table whose first column is ``key`` (``"images"`` or ``"steps"``)."""
    header = [key, "pairs", "K", "batch", "s", "s / image", "forwards", "forwards / pair", "ms / forward",
              "RSS high-water MiB", "host (tracemalloc) peak MiB"]
    rows = [[getattr(p, "images" if key == "images" else "steps"), p.pairs, p.steps, p.batch_size, p.seconds,
             p.seconds_per_image, p.queries, p.forwards_per_pair, p.ms_per_forward, p.rss_mib, p.host_peak_mib]
            for p in points]
    return markdown_table(header, rows)


def section_scaling(emb: Any, s: Settings) -> tuple[str, dict[str, list[SweepPoint]]]:
    """Section 3: image and step sweeps of Saliency maps on ``emb`` with linear fits; returns the markdown and the
    points (``{"steps": ..., "images": ...}``, read by :func:`section_projection`)."""
    n = max(max(s.sweep_counts), s.step_images)
    x = shapes_images(emb, n)
    t = top1_targets(emb, x)
    maps = method_maps(emb, x, t, "saliency")
    img_pts = image_sweep(emb, x, maps, t, s.sweep_counts, s.sweep_steps, s.batch)
    step_pts = step_sweep(emb, x[:s.step_images], maps[:s.step_images], t[:s.step_images], s.step_list, s.batch)
    fit_n = linear_fit([p.images for p in img_pts], [p.seconds for p in img_pts])
    fit_k = linear_fit([p.steps for p in step_pts], [p.seconds for p in step_pts])
    fit_f = linear_fit([p.rows for p in step_pts], [p.seconds for p in step_pts])
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


def section_projection(results: list[EfficiencyResult], scaling: dict[str, list[SweepPoint]]) -> str:
    """Section 4: the paper profile projected from the VGG16 efficiency run and the K = 100 step-sweep point."""
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
