"""Section 5 of ``make bench``: how far the sampled criteria are from exact mode, for how many forwards.

On the embedded model (exact mode is affordable at 64x64: every pixel count, ~10,000 forwards per (image, method))
``evaluate_scores`` runs once in exact mode and once per sampling setting - the fixed grid ``steps=K`` and
``steps="adaptive"`` at several ``tol`` - on the same images, maps (all 8 methods of
:data:`repro.attributions.METHODS`) and top-1 targets, both scores (logit and probability) from one engine pass. Per
setting:

* the largest relative error ``|x - exact| / max(1, |exact|)`` of every criterion, over all (image, method) pairs
  and both scores (and per score);
* mean forwards per pair (``num_forwards / pairs``: distinct queries, y0 / y_b shared per image), engine calls
  (rounds) and batch occupancy (queries / rows the fixed-size batches ran, padding included; every engine call is
  recorded by wrapping :meth:`repro.criteria.curves.CurveEngine.run_uploaded`);
* honesty of the reported error: how often the true error exceeds the estimate ``*_err`` (and by how much), how
  often a bound ``*_bound`` is claimed and whether the true error ever exceeds it.

VGG16(weights=None) at 224x224 (exact mode is not affordable there): forwards per pair of the chosen setting on 2
images, and the paper profile (9600 images x 8 methods) projected from it with the H200 throughput measured in
``../shared/design/FINDINGS.md`` (:data:`H200`).
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from benchmarks.harness import fmt, markdown_table
from benchmarks.inputs import Settings, shapes_images
from benchmarks.sampling_floor import floor_section

CRITERIA: tuple[str, ...] = ("n_ord", "s_ord", "s_ord_text", "tpn", "tps")
"""The criteria compared (``s_ord_baseline`` is ``s_ord`` minus a constant: the same error)."""
H200 = {"fp32": 1623.0, "TF32": 5679.0, "bf16": 8409.0}
"""VGG16 224x224 forwards/s on one H200 with the engine's mask step at batch 512 (``../shared/design/FINDINGS.md``,
measured 2026-12-04 with a PyTorch stand-in)."""
PAPER_IMAGES, PAPER_METHODS = 9600, 8


@dataclass
class EngineCalls:
    """The queries of every engine call made while recording (one per round in adaptive mode)."""

    queries: list[int] = field(default_factory=list)
    batch_size: int = 0

    @property
    def rows(self) -> int:
        """Rows the fixed-size batches ran, padding included."""
        return sum(-(-q // self.batch_size) * self.batch_size for q in self.queries)

    @property
    def occupancy(self) -> float:
        """Queries / rows run (1 = every batch full)."""
        return sum(self.queries) / self.rows if self.rows else float("nan")


@contextlib.contextmanager
def recording_engine_calls() -> Iterator[EngineCalls]:
    """Record the number of queries of every :meth:`CurveEngine.run_uploaded` call inside the block."""
    from repro.criteria.curves import CurveEngine

    calls = EngineCalls()
    original = CurveEngine.run_uploaded

    def run_uploaded(self, uploaded, queries, progress=False):
        calls.batch_size = self.batch_size
        calls.queries.append(int(len(next(iter(queries.values())))))
        return original(self, uploaded, queries, progress)

    CurveEngine.run_uploaded = run_uploaded
    try:
        yield calls
    finally:
        CurveEngine.run_uploaded = original


@dataclass
class SamplingRun:
    """One ``evaluate_scores`` call: its setting, results (score -> method -> CriteriaResult), cost."""

    label: str
    steps: int | str | None
    tol: float | None
    results: dict[str, dict[str, Any]]
    calls: EngineCalls
    seconds: float

    @property
    def pairs(self) -> int:
        return sum(len(r) for r in next(iter(self.results.values())).values())

    @property
    def forwards(self) -> int:
        return int(next(iter(next(iter(self.results.values())).values())).num_forwards)

    @property
    def forwards_per_pair(self) -> float:
        return self.forwards / self.pairs


def run_setting(model: Any, x: np.ndarray, maps: Mapping[str, np.ndarray], targets: np.ndarray,
                steps: int | str | None, tol: float | None = None, batch_size: int = 64) -> SamplingRun:
    """``evaluate_scores`` at one setting, timed, with its engine calls recorded."""
    from repro.criteria import evaluate_scores

    label = "exact" if steps is None else f"K = {steps}" if steps != "adaptive" else f"adaptive, tol {tol:g}"
    kw = {"tol": tol} if steps == "adaptive" else {}
    with recording_engine_calls() as calls:
        start = time.perf_counter()
        res = evaluate_scores(model, x, dict(maps), targets=targets, steps=steps, batch_size=batch_size, **kw)
        seconds = time.perf_counter() - start
    return SamplingRun(label, steps, tol, res, calls, seconds)


def relative_errors(run: SamplingRun, exact: SamplingRun) -> dict[str, dict[str, np.ndarray]]:
    """score -> criterion -> ``(pairs,)`` relative error ``|x - exact| / max(1, |exact|)`` (NaN where NaN)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    for score, by in run.results.items():
        out[score] = {}
        for c in CRITERIA:
            got = np.concatenate([getattr(by[m], c) for m in by])
            ref = np.concatenate([getattr(exact.results[score][m], c) for m in by])
            out[score][c] = np.abs(got - ref) / np.maximum(1.0, np.abs(ref))
    return out


@dataclass
class Honesty:
    """The reported errors against the true ones over every (pair, score, criterion) that is a number."""

    values: int
    est_exceeded: int
    est_exceeded_2x: int
    est_worst_ratio: float
    est_zero_but_wrong: int
    bounds_claimed: int
    bounds_exceeded: int
    bound_worst_ratio: float


def honesty(run: SamplingRun, exact: SamplingRun) -> Honesty:
    """True error (vs exact) against ``*_err`` (an estimate) and the claimed ``*_bound`` (NaN = not claimed).

    "Exceeded" allows 1e-12 relative slack (float64 rounding of the sums); an estimate of 0 with a larger true
    error is counted apart (no ratio)."""
    true, est, bnd = [], [], []
    for score, by in run.results.items():
        for c in CRITERIA:
            for m in by:
                got, ref = getattr(by[m], c), getattr(exact.results[score][m], c)
                scale = np.maximum(1.0, np.abs(ref))
                true.append(np.abs(got - ref) / scale)
                est.append(getattr(by[m], f"{c}_err") / scale)
                bnd.append(getattr(by[m], f"{c}_bound") / scale)
    true, est, bnd = (np.concatenate(v) for v in (true, est, bnd))
    ok = ~np.isnan(true)
    true, est, bnd = true[ok], est[ok], bnd[ok]
    slack = 1e-12
    over = true > est * (1 + 1e-9) + slack
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(est > 0, true / est, np.nan)
    claimed = ~np.isnan(bnd)
    b_over = claimed & (true > bnd * (1 + 1e-9) + slack)
    with np.errstate(divide="ignore", invalid="ignore"):
        b_ratio = np.where(claimed & (bnd > 0), true / bnd, np.nan)
    return Honesty(int(ok.sum()), int(over.sum()), int((over & (ratio > 2)).sum()),
                   float(np.nanmax(np.where(over, ratio, np.nan))) if over.any() else 0.0,
                   int((over & (est == 0)).sum()), int(claimed.sum()), int(b_over.sum()),
                   float(np.nanmax(b_ratio)) if np.any(~np.isnan(b_ratio)) else float("nan"))


def embedded_maps(model: Any, x: np.ndarray, targets: np.ndarray, methods: Sequence[str]) -> dict[str, np.ndarray]:
    """Maps of every method with its defaults; DeepLIFT / LRP run in worker processes, closed afterwards."""
    from repro.attributions import get_method

    maps = {}
    for name in methods:
        method = get_method(name)
        try:
            maps[name] = method(model, x, targets)
        finally:
            close = getattr(method, "close", None)
            if close is not None:
                close()
    return maps


def compare_settings(model: Any, x: np.ndarray, maps: Mapping[str, np.ndarray], targets: np.ndarray,
                     steps_list: Sequence[int], tols: Sequence[float],
                     batch_size: int = 64) -> tuple[SamplingRun, list[SamplingRun]]:
    """Exact mode, then every fixed grid and every adaptive tolerance on the same inputs."""
    exact = run_setting(model, x, maps, targets, None, batch_size=batch_size)
    runs = [run_setting(model, x, maps, targets, k, batch_size=batch_size) for k in steps_list]
    runs += [run_setting(model, x, maps, targets, "adaptive", t, batch_size=batch_size) for t in tols]
    return exact, runs


def every_second_count(exact: SamplingRun) -> tuple[float, dict[str, float]]:
    """The criteria re-read from exact mode's curves at the EVEN counts only (plus ``M``), linear in between: what
    evaluating half of the counts would give (no forwards run). Returns (counts kept per pair, criterion -> largest
    relative error over pairs and scores)."""
    from repro.criteria import scores

    worst = {c: 0.0 for c in CRITERIA}
    kept = []
    for score, by in exact.results.items():
        for m, res in by.items():
            for i, cv in enumerate(res.curves):
                M = cv.num_positive
                if M == 0:
                    continue
                keep = np.union1d(np.arange(0, M + 1, 2), [M])
                kept.append(4 * keep.size)
                sub = [(keep, curve.y[keep]) for curve in (cv.necessity, cv.tpn_bottom, cv.sufficiency,
                                                           cv.tps_bottom)]
                got = scores.criteria_of_curves(M, cv.tpn_top.x, cv.tpn_bottom.x, *sub)
                for c in CRITERIA:
                    if c in got:
                        ref = float(getattr(res, c)[i])
                        worst[c] = max(worst[c], abs(got[c] - ref) / max(1.0, abs(ref)))
    return float(np.mean(kept)) if kept else float("nan"), worst


def accuracy_table(exact: SamplingRun, runs: Sequence[SamplingRun]) -> str:
    """Forwards, rounds, occupancy and the largest relative error of every criterion (both scores), per setting."""
    rows = [[exact.label, exact.forwards_per_pair, len(exact.calls.queries), exact.calls.occupancy,
             *[0.0] * len(CRITERIA), exact.seconds]]
    points, half = every_second_count(exact)
    rows.append(["every 2nd count (exact curves re-read, not run)", points, "", "", *[half[c] for c in CRITERIA], ""])
    for run in runs:
        rel = relative_errors(run, exact)
        worst = [max(float(np.nanmax(rel[s][c])) for s in rel) for c in CRITERIA]
        rows.append([run.label, run.forwards_per_pair, len(run.calls.queries), run.calls.occupancy, *worst,
                     run.seconds])
    return markdown_table(["sampling", "forwards / pair (mean)", "engine calls", "batch occupancy",
                           *[f"max rel err {c}" for c in CRITERIA], "s"], rows)


def per_score_table(exact: SamplingRun, runs: Sequence[SamplingRun]) -> str:
    """The largest relative error per score and criterion."""
    rows = []
    for run in runs:
        rel = relative_errors(run, exact)
        for s in rel:
            rows.append([run.label, s, *[float(np.nanmax(rel[s][c])) for c in CRITERIA]])
    return markdown_table(["sampling", "score", *CRITERIA], rows)


def honesty_table(exact: SamplingRun, runs: Sequence[SamplingRun]) -> str:
    rows = []
    for run in runs:
        h = honesty(run, exact)
        rows.append([run.label, h.values, f"{h.est_exceeded} ({100 * h.est_exceeded / h.values:.1f}%)",
                     h.est_exceeded_2x, h.est_worst_ratio, h.est_zero_but_wrong, h.bounds_claimed,
                     h.bounds_exceeded, h.bound_worst_ratio])
    return markdown_table(["sampling", "values (pair x score x criterion)", "true > estimate",
                           "true > 2 x estimate", "largest true / estimate", "estimate 0, true > 0",
                           "bounds claimed", "claimed bounds exceeded", "largest true / claimed bound"], rows)


def per_method_table(exact: SamplingRun, run: SamplingRun) -> str:
    """Forwards per pair (evaluated counts of the four curves, shared points counted per pair) and the largest
    relative error per method, for one setting."""
    rows = []
    for m in next(iter(run.results.values())):
        res = {s: run.results[s][m] for s in run.results}
        any_res = next(iter(res.values()))
        points = np.mean([c.necessity.m.size + c.sufficiency.m.size + c.tpn_bottom.m.size + c.tps_bottom.m.size
                          for c in any_res.curves])
        worst = []
        for c in CRITERIA:
            worst.append(max(float(np.nanmax(np.abs(getattr(res[s], c) - getattr(exact.results[s][m], c))
                                             / np.maximum(1.0, np.abs(getattr(exact.results[s][m], c)))))
                             for s in res))
        rows.append([m, float(np.mean(any_res.num_positive)), points, *worst])
    return markdown_table(["method", "mean M", "evaluated points / pair (4 curves)", *CRITERIA], rows)


def choose(exact: SamplingRun, runs: Sequence[SamplingRun], reference_steps: int = 100) -> SamplingRun | None:
    """The adaptive setting with the fewest forwards whose largest error is at most the fixed grid's
    ``reference_steps`` on EVERY criterion, if any."""
    ref = next((r for r in runs if r.steps == reference_steps), None)
    if ref is None:
        return None
    ref_rel = relative_errors(ref, exact)
    ref_worst = [max(float(np.nanmax(ref_rel[s][c])) for s in ref_rel) for c in CRITERIA]
    good = []
    for run in runs:
        if run.steps != "adaptive":
            continue
        rel = relative_errors(run, exact)
        worst = [max(float(np.nanmax(rel[s][c])) for s in rel) for c in CRITERIA]
        if all(w <= r for w, r in zip(worst, ref_worst)) and run.forwards_per_pair <= ref.forwards_per_pair:
            good.append(run)
    return min(good, key=lambda r: r.forwards_per_pair) if good else None


def vgg16_forwards(s: Settings, tol: float) -> tuple[SamplingRun, float]:
    """VGG16(weights=None), 224x224, ``s.sampling_vgg_images`` random images, Saliency and Random maps, adaptive at
    ``tol``. Returns the run and this CPU's forwards/s in it (rows run / seconds, engine included)."""
    from repro.models import load_vgg16, top1_targets
    from repro.testing import random_images

    vgg = load_vgg16(None)
    x = vgg.preprocess(random_images(s.sampling_vgg_images, (224, 224, 3), seed=0))
    t = top1_targets(vgg, x)
    maps = embedded_maps(vgg, x, t, s.sampling_vgg_methods)
    run = run_setting(vgg, x, maps, t, "adaptive", tol, batch_size=s.sampling_vgg_batch)
    return run, run.calls.rows / run.seconds


def section_sampling(emb: Any, s: Settings, vgg: bool = True) -> str:
    """Section 5 of the report (see the module docstring)."""
    from repro.criteria import DEFAULT_TOL
    from repro.models import top1_targets

    x = shapes_images(emb, s.sampling_images)
    t = top1_targets(emb, x)
    maps = embedded_maps(emb, x, t, s.sampling_methods)
    exact, runs = compare_settings(emb, x, maps, t, s.sampling_steps, s.sampling_tols, s.batch)
    chosen = choose(exact, runs)
    default = next((r for r in runs if r.steps == "adaptive" and r.tol == DEFAULT_TOL), None)
    shown = default or chosen or runs[-1]
    parts = [
        f"Embedded model {emb.input_shape}, the first {len(x)} logic-shapes test images x {len(maps)} methods "
        f"({', '.join(maps)}; defaults, DeepLIFT / LRP in worker processes) = {exact.pairs} (image, method) pairs, "
        f"top-1 targets, both scores (logit, probability) from one `evaluate_scores` pass per setting, batch "
        f"{s.batch}. Exact mode ran {exact.forwards:,} forwards ({fmt(exact.forwards_per_pair)} per pair). Relative "
        f"error = |x - exact| / max(1, |exact|); 'max' is over all pairs and both scores.",
        "**Accuracy against forwards** (fixed grid `steps=K` and `steps=\"adaptive\"`, same inputs):",
        accuracy_table(exact, runs),
        "**Per score:**", per_score_table(exact, runs),
        "**Honesty of the reported error** (`*_err`: an estimate; `*_bound`: a bound if the curve is monotone "
        "between evaluated points, claimed only where no evaluated point turns next to a gap, NaN otherwise):",
        honesty_table(exact, runs),
        floor_section(exact.results),
        f"**Per method** at {shown.label}:", per_method_table(exact, shown),
    ]
    if chosen is not None:
        parts.append(f"Setting with the fewest forwards whose largest error is at most K = 100's on every criterion: "
                     f"**{chosen.label}** ({fmt(chosen.forwards_per_pair)} forwards per pair).")
    else:
        parts.append("No adaptive setting run here beats K = 100 on every criterion with fewer forwards.")
    if vgg:
        run, rate = vgg16_forwards(s, shown.tol if shown.tol is not None else DEFAULT_TOL)
        fpp = run.forwards_per_pair
        rows = [[f"H200 {k} (FINDINGS.md, measured)", v, PAPER_IMAGES * PAPER_METHODS * fpp,
                 PAPER_IMAGES * PAPER_METHODS * fpp / v / 3600] for k, v in H200.items()]
        rows.append(["this CPU (this run, engine included)", rate, PAPER_IMAGES * PAPER_METHODS * fpp,
                     PAPER_IMAGES * PAPER_METHODS * fpp / rate / 3600])
        m_mean = float(np.mean(next(iter(run.results.values()))[s.sampling_vgg_methods[0]].num_positive))
        parts += [
            f"**VGG16(weights=None), 224x224**, {s.sampling_vgg_images} random images x "
            f"{', '.join(s.sampling_vgg_methods)} maps, adaptive at tol {shown.tol:g}, both scores, batch "
            f"{s.sampling_vgg_batch}: {fmt(fpp)} forwards per pair (mean M of {s.sampling_vgg_methods[0]} "
            f"{fmt(m_mean)}), {len(run.calls.queries)} engine calls, batch occupancy {fmt(run.calls.occupancy)}, "
            f"{fmt(run.seconds)} s. Accuracy is NOT measured here (exact mode would take ~100,000 forwards per "
            f"pair); it is established on the embedded model above. The curves of an untrained VGG16 are not "
            f"those of the ImageNet weights, so the count is indicative.",
            f"Paper profile ({PAPER_IMAGES} images x {PAPER_METHODS} methods) at {fmt(fpp)} forwards per pair "
            f"(criteria only; attributions not included; K = 100 runs ~554 per pair, section 4):",
            markdown_table(["device", "VGG16 forwards/s", "total forwards", "hours"], rows),
        ]
    return "\n\n".join(parts)
