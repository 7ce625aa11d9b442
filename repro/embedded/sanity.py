"""Sanity suite for the criteria on the logic-shapes data: oracle attributions built from the object masks must be
ranked by N-Ord and S-Ord the way the logical rules say.

Maps (one score per pixel, every pixel strictly positive so that ``M = H * W`` for all of them and the criteria
average over the same number of steps; ties inside a region are broken by the engine's raster rule):

* ``necessary_first`` (A_and_B images): A's pixels 3, B's 2, the rest 1 (:func:`layered_map`).
  ``necessary_first_b``: the same with B first. A and B are each necessary, so removing either first should
  destroy the class score fastest: a *low* N-Ord (eq. 3).
* ``sufficient_first`` (C_or_D images): the pixels of C (or of D where there is no C) 3, the other sufficient
  object 2, the rest (background and any distractor) 1. C alone is sufficient, so adding it first to the black
  image should restore the class score fastest: a *high* S-Ord (eq. 4).
* ``background_first`` (anti-oracle, both classes): the oracle's layers reversed, ``s' = 4 - s``: background 3,
  then the objects, the oracle's first object last (score 1).
* ``random``: i.i.d. uniform scores in ``(0, 1]``, seeded per image (``numpy.random.default_rng([seed, index])``).

Expected logic, measured as rates over the images of each class (strict inequalities; ties count as failures):

* ``n_ord_a_first_beats_background`` / ``n_ord_b_first_beats_background``: N-Ord(oracle) < N-Ord(anti-oracle);
* ``n_ord_random_between``: N-Ord(A first) < N-Ord(random) < N-Ord(background first);
* ``s_ord_sufficient_first_beats_background``: S-Ord(oracle) > S-Ord(anti-oracle);
* ``s_ord_random_between``: S-Ord(sufficient first) > S-Ord(random) > S-Ord(background first).

Targets are the ground-truth classes; scores are softmax probabilities; the baseline is the model's black image.

:func:`logic_rates` checks the premise of the suite directly: that the model obeys the rules under the same black
removal the criteria use. With "remove" = set an object's pixels to the baseline and "alone" = the baseline image
with only that object's pixels restored, it measures how often the predicted class is: not A_and_B after removing A
(or B) from an A_and_B image (each is necessary); not A_and_B with A (or B) alone (neither is sufficient); C_or_D
with C (or D) alone from a C_or_D image (each is sufficient); still C_or_D after removing C from an image that also
holds D (C is not necessary).

Reference: Wang et al., "Interpreting Interpretations: Organizing Attribution Methods by Criteria", Sections 3.2-3.4
(Definitions 1-2, eq. 3, eq. 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from repro.data.shapes import CLASS_NAMES, SIZE, ShapesSource
from repro.models.core import top1_targets

AND_CLASS = CLASS_NAMES.index("A_and_B")
OR_CLASS = CLASS_NAMES.index("C_or_D")


def layered_map(layers: Sequence[np.ndarray], shape: tuple[int, int] = (SIZE, SIZE)) -> np.ndarray:
    """A map that ranks pixels by layer: layer ``j`` (of ``L``) scores ``L + 1 - j``, uncovered pixels score 1.

    A pixel in several layers takes the score of the first. Every score is >= 1, so every pixel is in pi+.

    Args:
        layers: boolean masks ``(H, W)``, first = ranked highest.
        shape: ``(H, W)``.
    Returns:
        ``(H, W)`` float32.
    """
    out = np.ones(shape, np.float32)
    assigned = np.zeros(shape, bool)
    for j, layer in enumerate(layers):
        layer = np.asarray(layer, bool)
        if layer.shape != tuple(shape):
            raise ValueError(f"layer {j} has shape {layer.shape}, expected {tuple(shape)}")
        new = layer & ~assigned
        out[new] = len(layers) + 1 - j
        assigned |= layer
    return out


def reversed_map(scores: np.ndarray) -> np.ndarray:
    """The anti-oracle of a layered map: ``max + 1 - s`` (order of the layers reversed, still all positive)."""
    scores = np.asarray(scores, np.float32)
    return (scores.max() + 1.0 - scores).astype(np.float32)


def random_map(seed: int, index: int, shape: tuple[int, int] = (SIZE, SIZE)) -> np.ndarray:
    """I.i.d. uniform scores in ``(0, 1]``, ``(H, W)`` float32, from ``default_rng([seed, index])``."""
    return (1.0 - np.random.default_rng([int(seed), int(index)]).random(shape)).astype(np.float32)


def necessary_first(masks: Mapping[str, np.ndarray], first: str = "A") -> np.ndarray:
    """Oracle for an A_and_B image: ``first`` (A or B), then the other, then the rest."""
    if first not in ("A", "B"):
        raise ValueError(f"first must be 'A' or 'B', got {first!r}")
    other = "B" if first == "A" else "A"
    missing = {first, other} - set(masks)
    if missing:
        raise ValueError(f"masks lack object(s) {sorted(missing)}: not an A_and_B image")
    return layered_map([masks[first], masks[other]])


def sufficient_first(masks: Mapping[str, np.ndarray]) -> np.ndarray:
    """Oracle for a C_or_D image: C (or D when there is no C), then the other sufficient object, then the rest."""
    present = [name for name in ("C", "D") if name in masks]
    if not present:
        raise ValueError(f"masks hold {sorted(masks)}: no C or D, not a C_or_D image")
    return layered_map([masks[name] for name in present])


@dataclass
class SanityReport:
    """Rates (fractions of images) at which the expected rankings hold, and the per-image criteria behind them.

    Attributes:
        rates: rate name (see the module docstring) -> fraction in [0, 1]; includes :func:`logic_rates`.
        counts: ``"A_and_B"`` and ``"C_or_D"`` -> number of images evaluated.
        n_ord: map name -> ``(n_and,)`` N-Ord of the A_and_B images.
        s_ord: map name -> ``(n_or,)`` S-Ord of the C_or_D images.
        settings: images, seed, steps, score.
    """

    rates: dict[str, float]
    counts: dict[str, int]
    n_ord: dict[str, np.ndarray]
    s_ord: dict[str, np.ndarray]
    settings: dict[str, Any] = field(default_factory=dict)

    def medians(self) -> dict[str, float]:
        """Median N-Ord per map on A_and_B images and median S-Ord per map on C_or_D images."""
        out = {f"n_ord_{k}": float(np.median(v)) for k, v in self.n_ord.items() if len(v)}
        out.update({f"s_ord_{k}": float(np.median(v)) for k, v in self.s_ord.items() if len(v)})
        return out

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary (rates, counts, medians, settings)."""
        return {"rates": self.rates, "counts": self.counts, "medians": self.medians(), "settings": self.settings}


def logic_rates(model: Any, source: ShapesSource) -> dict[str, float]:
    """How often the model's top-1 class follows the logical rules under black removal (module docstring).

    Args:
        model: an :class:`~repro.models.ImageModel` of the shapes classes.
        source: the images to test (their masks say where the objects are).
    Returns:
        rate name -> fraction of the applicable images (NaN when no image applies).
    """
    labels = np.asarray(source.labels)
    raw = source.load(range(len(labels)))
    x = model.preprocess(raw)
    base = np.asarray(model.baseline, np.float32)
    edits: dict[str, list[np.ndarray]] = {}
    for i, label in enumerate(labels):
        masks = source.masks(i)

        def removed(name: str) -> np.ndarray:
            return np.where(masks[name][..., None], base, x[i])

        def alone(name: str) -> np.ndarray:
            return np.where(masks[name][..., None], x[i], base)

        if label == AND_CLASS:
            for name in ("A", "B"):
                edits.setdefault(f"removing_{name.lower()}_breaks_a_and_b", []).append(removed(name))
                edits.setdefault(f"{name.lower()}_alone_is_not_a_and_b", []).append(alone(name))
        elif label == OR_CLASS:
            for name in ("C", "D"):
                if name in masks:
                    edits.setdefault(f"{name.lower()}_alone_is_c_or_d", []).append(alone(name))
            if "C" in masks and "D" in masks:
                edits.setdefault("removing_c_keeps_c_or_d_when_d_present", []).append(removed("C"))
    names = list(edits)
    if not names:
        return {}
    pred = top1_targets(model, np.concatenate([np.stack(edits[n]) for n in names]))  # one forward pass
    rates: dict[str, float] = {}
    start = 0
    for name in names:
        p = pred[start:start + len(edits[name])]
        start += len(edits[name])
        rates[name] = _rate(p == OR_CLASS if "c_or_d" in name else p != AND_CLASS)
    return rates


def _rate(flags: np.ndarray) -> float:
    return float(np.mean(flags)) if len(flags) else float("nan")


def run_sanity(model: Any, n_images: int = 90, seed: int = 0, steps: int = 50, batch_size: int = 256,
               source: ShapesSource | None = None) -> SanityReport:
    """Evaluate the oracle, anti-oracle and random maps on the first ``n_images`` test images.

    Args:
        model: the embedded :class:`~repro.models.ImageModel` (any model of the shapes classes works).
        n_images: images of the ``"test"`` split (a third each of A_and_B, C_or_D, neither; the ``neither``
            images are skipped: no rule names an object for them).
        seed: data seed of the split and seed of the random maps.
        steps: ``K`` of :func:`repro.criteria.evaluate` (N-Ord/S-Ord read ``K + 1`` pixel counts).
        batch_size: forwards per compiled engine call.
        source: the image source to use instead of ``ShapesSource(n_images, seed, "test")``.
    Returns:
        :class:`SanityReport`.
    """
    from repro.criteria import evaluate_methods

    src = source if source is not None else ShapesSource(n_images, seed=seed, split="test")
    labels = np.asarray(src.labels)
    n_ord: dict[str, np.ndarray] = {}
    s_ord: dict[str, np.ndarray] = {}
    for cls in (AND_CLASS, OR_CLASS):
        idx = np.flatnonzero(labels == cls)
        if not len(idx):
            continue
        images = model.preprocess(src.load(idx))
        maps: dict[str, list[np.ndarray]] = {}
        for i in idx:
            masks = src.masks(int(i))
            oracle = necessary_first(masks, "A") if cls == AND_CLASS else sufficient_first(masks)
            group = {"oracle": oracle, "background_first": reversed_map(oracle), "random": random_map(seed, int(i))}
            if cls == AND_CLASS:
                group["oracle_b"] = necessary_first(masks, "B")
            for name, m in group.items():
                maps.setdefault(name, []).append(m)
        res = evaluate_methods(model, images, {k: np.stack(v) for k, v in maps.items()},
                               targets=np.full(len(idx), cls, np.int64), steps=steps, batch_size=batch_size,
                               score=None)
        if cls == AND_CLASS:
            n_ord = {"a_first": res["oracle"].n_ord, "b_first": res["oracle_b"].n_ord,
                     "background_first": res["background_first"].n_ord, "random": res["random"].n_ord}
        else:
            s_ord = {"sufficient_first": res["oracle"].s_ord, "background_first": res["background_first"].s_ord,
                     "random": res["random"].s_ord}
    rates: dict[str, float] = {}
    if n_ord:
        rates["n_ord_a_first_beats_background"] = _rate(n_ord["a_first"] < n_ord["background_first"])
        rates["n_ord_b_first_beats_background"] = _rate(n_ord["b_first"] < n_ord["background_first"])
        rates["n_ord_random_between"] = _rate((n_ord["a_first"] < n_ord["random"])
                                              & (n_ord["random"] < n_ord["background_first"]))
    if s_ord:
        rates["s_ord_sufficient_first_beats_background"] = _rate(s_ord["sufficient_first"]
                                                                 > s_ord["background_first"])
        rates["s_ord_random_between"] = _rate((s_ord["sufficient_first"] > s_ord["random"])
                                              & (s_ord["random"] > s_ord["background_first"]))
    rates.update({f"logic_{k}": v for k, v in logic_rates(model, src).items()})
    counts = {"A_and_B": int(np.sum(labels == AND_CLASS)), "C_or_D": int(np.sum(labels == OR_CLASS))}
    settings = {"images": int(len(labels)), "split": getattr(src, "split", None), "seed": seed, "steps": steps,
                "score": "probability", "targets": "ground truth"}
    return SanityReport(rates, counts, n_ord, s_ord, settings)
