"""Shared fixtures: a synthetic results directory in the pipeline's contract, built so every answer is known.

The ``synthetic`` fixture (:class:`SyntheticResults`, a fresh copy per test) writes ``config.json``,
``results.csv`` and ``examples/<id>.npz`` with values built so that every claim of :data:`repro.claims.CLAIMS`
holds by construction, under both readings of ``tp_claims``, and every per-method median is known exactly:

* criterion value of method ``m`` on image ``i`` = ``base[criterion][m] + spread[m] * OFFSETS[perm_m[i]]`` with
  ``OFFSETS = arange(20) - 9.5`` (median exactly 0, all numbers dyadic), so each median is exactly ``base``;
* SmoothGrad's spread is half of Saliency's, so its IQR is exactly half (IQR of ``OFFSETS`` is 9.5);
* one NaN row (``img_00``, ``lrp``, M = 0) to check that NaN rows are dropped and counted; LRP's values are
  then the 19 others, whose median is still known (:meth:`SyntheticResults.expected_median`).

A test changes the construction on its copy: ``synthetic.with_changes(n_ord__lrp=0.0)`` returns a ``base`` with
LRP's N-Ord median 0, ``synthetic.spread["smoothgrad"] = 1 / 16`` widens SmoothGrad.
"""

from __future__ import annotations

import copy
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from repro.attributions import METHODS
from repro.criteria.result import REASON_NO_POSITIVE
from repro.io import atomic_write_npz
from repro.results import ResultsTable, write_results

REPOSITORY = Path(__file__).resolve().parents[1]
PAPER = REPOSITORY.parent / "shared" / "paper" / "paper.txt"
"""The paper's text: every checkout and CI have it at ``../shared/paper/`` beside the repository."""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the slow tests (and the groups that share an expensive fixture) first, each in its collected order.

    With parallel workers (``make test``: pytest-xdist) the long tests then start at once and the many short ones
    fill the workers at the end, instead of one long test running alone after every other test has finished."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def require(available: bool, what: str) -> None:
    """Skip the calling test when ``available`` is false, naming ``what`` is missing; under ``CI=true`` fail
    instead, so that CI never passes a test that did not run."""
    if available:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} (CI=true: a test that cannot find what it needs fails instead of skipping)")
    pytest.skip(what)


@pytest.fixture
def paper_text() -> str:
    """The text of ``paper.txt`` (:data:`PAPER`)."""
    require(PAPER.is_file(), f"{PAPER} not found (the paper's text, ../shared/paper/ beside the checkout)")
    return PAPER.read_text()


def skip_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs made under ``monkeypatch`` write every output but the figures (``repro.figures.draw_all`` draws none).

    For tests that compare a run's table, chunks or claims and never look at its figures: drawing them is most of a
    small run's time (about 5 s of 7). The figures are tested in ``tests/figures`` and by the runs that assert them
    (``tests/test_pipeline.py``), and the write-failure matrix keeps them where it injects a fault at or after their
    write site."""
    import repro.figures

    monkeypatch.setattr(repro.figures, "draw_all", lambda *args, **kwargs: [])


@pytest.fixture
def without_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test's runs draw no figures (:func:`skip_figures`)."""
    skip_figures(monkeypatch)


SMALL_RUN = ["--profile", "embedded", "--limit", "4", "--quick", "--chunk-size", "2", "--no-progress",
             "--methods", "saliency", "smoothgrad", "gradcam", "random", "--readings", "none"]
"""A small study of in-process methods (two chunks of two images, no extra map readings): seconds per run, no
worker process. The runs that test resuming, interrupting and sharding use it."""


def run_small(out: Path, *extra: str) -> int:
    """``repro reproduce`` with :data:`SMALL_RUN` (and ``extra``) into ``out``; its exit status."""
    from repro.cli import main

    return main(["reproduce", *SMALL_RUN, *extra, "--out", str(out)])


@pytest.fixture(scope="session")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An uninterrupted :data:`SMALL_RUN` (without figures), shared by the tests of one process: compare, copy,
    never change it."""
    out = tmp_path_factory.mktemp("small") / "run"
    with pytest.MonkeyPatch.context() as patch:
        skip_figures(patch)
        assert run_small(out) == 0
    return out


@pytest.fixture(scope="session")
def vgg16():
    """VGG16 with its seeded random weights (``load_vgg16(weights=None)``), built once per test process and shared
    with the DeepLIFT and LRP workers that serve it (their VGG16 graphs take 15-30 s each to build). Its tests are
    in the ``xdist_group("vgg16")``, so that they run in one process; the workers are closed when the session ends."""
    from repro.attributions.graph_worker import close_workers
    from repro.models import load_vgg16

    yield load_vgg16(weights=None)
    close_workers()


N_IMAGES = 20
OFFSETS = np.arange(N_IMAGES) - 9.5
METHOD_NAMES = list(METHODS)
IQR_OF_OFFSETS = 9.5
"""numpy's linear quartiles of ``arange(20) - 9.5`` are -4.75 and 4.75."""

# Lower is better everywhere. DeepLIFT best N-Ord, GradCAM best 1 - S-Ord, SM/IG/SG best TPN, LRP/GB best TPS;
# IG and DeepLIFT better than SM on N-Ord but worse on TPN and TPS; SG better than SM on TPN and TPS; GradCAM worst
# TPS; each of SM, IG, SG ranks better on TPN than on TPS, LRP and GB the reverse. IG and DeepLIFT are worse than SM
# on TPN and TPS by enough that the upper confidence bound of their rank-biserial stays below the margin (20 images);
# the per-image necessity winners (DeepLIFT, IG, SM, SG) and sufficiency winners (GradCAM, LRP, GB) never coincide.
BASE = {
    "n_ord": {"saliency": 0.5, "integrated_gradients": 0.375, "smoothgrad": 0.5, "deeplift": 0.25, "lrp": 0.625,
              "guided_backprop": 0.75, "gradcam": 0.5, "random": 0.875},
    "one_minus_s_ord": {"saliency": 1.5, "integrated_gradients": 1.25, "smoothgrad": 1.375, "deeplift": 1.375,
                        "lrp": 1.125, "guided_backprop": 1.125, "gradcam": 1.0, "random": 1.75},
    "tpn": {"saliency": 0.1875, "integrated_gradients": 0.28125, "smoothgrad": 0.125, "deeplift": 0.375,
            "lrp": 0.5, "guided_backprop": 0.625, "gradcam": 0.75, "random": 0.0625},
    "tps": {"saliency": 0.75, "integrated_gradients": 0.84375, "smoothgrad": 0.5, "deeplift": 0.8125,
            "lrp": 0.25, "guided_backprop": 0.125, "gradcam": 0.875, "random": 0.0625},
}
SPREAD = {**{m: 1 / 64 for m in METHOD_NAMES}, "saliency": 1 / 32, "smoothgrad": 1 / 64}
NAN_ROW = ("img_00", "lrp")


def image_ids(n: int = N_IMAGES) -> list[str]:
    return [f"img_{i:02d}" for i in range(n)]


def result_row(image_id: str, method: str, **values: float) -> dict[str, Any]:
    """One ``results.csv`` row; criteria not given are NaN and ``one_minus_s_ord`` follows ``s_ord``."""
    s_ord = values.get("s_ord", math.nan)
    return {"image_id": image_id, "method": method, "target": 0, "label": -1, "y0": 1.0, "yb": 0.0,
            "num_positive": 5, "n_ord": math.nan, "s_ord": s_ord, "one_minus_s_ord": 1.0 - s_ord,
            "s_ord_text": s_ord, "s_ord_baseline": s_ord + 1.0, "tpn": math.nan, "tps": math.nan, "reason": "",
            **values}


@dataclass
class SyntheticResults:
    """The constructed table and run directory; ``base`` and ``spread`` are this test's own copies."""

    base: dict[str, dict[str, float]] = field(default_factory=lambda: copy.deepcopy(BASE))
    spread: dict[str, float] = field(default_factory=lambda: dict(SPREAD))
    n_images: int = N_IMAGES
    nan_row: tuple[str, str] = NAN_ROW

    def with_changes(self, **changes: float) -> dict[str, dict[str, float]]:
        """A copy of ``base`` with ``criterion__method=value`` changes (the new median of that method)."""
        base = copy.deepcopy(self.base)
        for key, value in changes.items():
            criterion, method = key.split("__")
            base[criterion][method] = value
        return base

    def values(self, criterion: str, method: str, base: dict | None = None) -> np.ndarray:
        """The constructed values of ``criterion`` for ``method`` over the images (before the NaN row)."""
        base = self.base if base is None else base
        perm = np.random.default_rng(METHOD_NAMES.index(method) + 7).permutation(N_IMAGES)
        return base[criterion][method] + self.spread[method] * OFFSETS[perm]

    def expected_median(self, criterion: str, method: str) -> float:
        """The median over images with the NaN row dropped."""
        values = self.values(criterion, method)
        return float(np.median(values[1:] if method == NAN_ROW[1] else values))

    def rows(self, base: dict | None = None, methods: list[str] | None = None) -> list[dict]:
        methods = METHOD_NAMES if methods is None else methods
        values = {(c, m): self.values(c, m, base) for c in BASE for m in methods}
        rows = []
        for i, img in enumerate(image_ids()):
            for m in methods:
                row = {"image_id": img, "method": m, "target": i % 5, "label": -1, "y0": 0.75, "yb": 0.0625,
                       "num_positive": 100}
                for c in BASE:
                    row[c] = float(values[(c, m)][i])
                row["s_ord"] = 1.0 - row["one_minus_s_ord"]
                # the other two S-Ord readings of the same curve, built simply: the text's equal to the printed one,
                # the baseline one shifted by y0 - yb
                row["s_ord_text"] = row["s_ord"]
                row["s_ord_baseline"] = row["s_ord"] + row["y0"] - row["yb"]
                row["reason"] = ""
                if (img, m) == NAN_ROW:
                    row.update(num_positive=0, n_ord=np.nan, s_ord=np.nan, one_minus_s_ord=np.nan, s_ord_text=np.nan,
                               s_ord_baseline=np.nan, tpn=np.nan, tps=np.nan,
                               reason=REASON_NO_POSITIVE)
                rows.append(row)
        return rows

    def table(self, base: dict | None = None, methods: list[str] | None = None) -> ResultsTable:
        return ResultsTable.from_rows(self.rows(base, methods))

    def results_dir(self, out: Path, profile: str = "embedded", base: dict | None = None, examples: int = 3,
                    size: int = 16, methods: list[str] | None = None) -> Path:
        """Write a complete synthetic run directory into ``out`` and return it."""
        out = Path(out)
        methods = METHOD_NAMES if methods is None else methods
        out.mkdir(parents=True, exist_ok=True)
        config = {"profile": profile, "model": "synthetic", "weights": None, "steps": 10, "score": "probability",
                  "methods": methods, "seed": 0, "image_ids_sha1": "0" * 40, "num_image_ids": N_IMAGES}
        (out / "config.json").write_text(json.dumps(config))
        write_results(out / "results.csv", self.rows(base, methods))
        rng = np.random.default_rng(0)
        for i, img in enumerate(image_ids()[:examples]):
            atomic_write_npz(out / "examples" / f"{img}.npz", _example(rng, size, methods, target=i % 5))
        return out


def _example(rng: np.random.Generator, size: int, methods: list[str], target: int) -> dict[str, np.ndarray]:
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    image = np.stack([255 * xx, 255 * yy, 255 * (1 - xx) * (1 - yy)], axis=-1)
    image[size // 4: size // 2, size // 4: size // 2] = (250, 40, 40)  # a red square "object"
    arrays: dict[str, np.ndarray] = {"image": image.astype(np.float32), "target": np.int64(target),
                                     "class_name": np.str_(f"class_{target}")}
    k = np.linspace(0, 1, 11)
    y0 = 0.75
    for j, m in enumerate(methods):
        blob = np.exp(-((xx - 0.35) ** 2 + (yy - 0.35) ** 2) / (0.02 + 0.01 * j))
        signed = blob - 0.3 * rng.random((size, size)) if m not in ("gradcam", "random") else blob
        if m == "random":
            signed = rng.random((size, size))
        arrays[f"map/{m}"] = signed.astype(np.float32)
        p = 1.0 + j / 4
        curves = {
            "necessity": (k, y0 * (1 - k) ** p), "sufficiency": (k, y0 * k ** (1 / p)),
            "tpn_top": (k, y0 * (1 - k) ** p), "tpn_bottom": (k, y0 * (1 - k ** p)),
            "tps_top": (k, y0 * k ** (1 / p)), "tps_bottom": (k, y0 * k ** p),
        }
        for name, (x, y) in curves.items():
            arrays[f"curve/{m}/{name}/x"] = x.astype(np.float64)
            arrays[f"curve/{m}/{name}/y"] = y.astype(np.float64)
    return arrays


@pytest.fixture
def synthetic() -> SyntheticResults:
    """A fresh :class:`SyntheticResults` (its ``base`` and ``spread`` may be changed by the test)."""
    return SyntheticResults()


@pytest.fixture(scope="module")
def synthetic_run(tmp_path_factory) -> Path:
    """One synthetic run directory per test module (default construction, 2 example images of 8 x 8 pixels)."""
    return SyntheticResults().results_dir(tmp_path_factory.mktemp("run"), examples=2, size=8)


@pytest.fixture
def criteria_table():
    """``criteria_table({(image_id, method): {criterion: value}})``: a table of exactly those rows
    (:func:`result_row`: criteria not given are NaN)."""
    def build(cells: dict[tuple[str, str], dict[str, float]]) -> ResultsTable:
        return ResultsTable.from_rows([result_row(img, m, **crit) for (img, m), crit in cells.items()])
    return build
