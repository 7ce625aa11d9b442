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
"""

from __future__ import annotations

import tracemalloc
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from benchmarks.harness import CountingForward, peak_rss_mib, timed


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
                                     batch_size=batch_size))
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

    evaluate(counter, images[:1], maps[:1], baseline=baseline, targets=targets[:1], steps=1, batch_size=batch_size)


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
