"""What every benchmark section runs on: the sizes (:class:`Settings`), the embedded model, the logic-shapes
images, attribution maps and the strictly ordered per-pixel scores the peer comparison needs.

Nothing is downloaded: the embedded model ships with the package (if its weights file is missing, the same
architecture with seeded random weights is used and a note says so in the report).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from repro.models import ImageModel


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
    sampling_images: int = 32
    sampling_methods: tuple[str, ...] = ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                                         "guided_backprop", "gradcam", "random")
    sampling_steps: tuple[int, ...] = (25, 50, 100, 200)
    sampling_tols: tuple[float, ...] = (1e-2, 3e-3, 1e-3, 3e-4)
    sampling_vgg_images: int = 2
    sampling_vgg_methods: tuple[str, ...] = ("saliency", "random")
    sampling_vgg_batch: int = 32
    notes: list[str] = field(default_factory=list)

    @classmethod
    def quick(cls) -> "Settings":
        """Tiny sizes for a smoke run (``run.py --quick``)."""
        return cls(eff_images=2, eff_steps=10, eff_repeats=1, vgg_steps=2, vgg_maps_per_image=1, vgg_repeats=1,
                   peer_images=2, peer_steps=16, quantus_regions=16, sweep_counts=(1, 2, 4), sweep_steps=10,
                   step_list=(5, 10), step_images=2, sampling_images=2, sampling_methods=("saliency", "random"),
                   sampling_steps=(10,), sampling_tols=(1e-2,))


def load_embedded(notes: list[str]) -> "ImageModel":
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


def shapes_images(model: "ImageModel", n: int) -> np.ndarray:
    """The first ``n`` test images of the logic-shapes data, in model space ``(n, 64, 64, 3)``."""
    from repro.data.shapes import generate_arrays

    raw, _ = generate_arrays(0, "test", range(n))
    return model.preprocess(raw)


def method_maps(model: "ImageModel", x: np.ndarray, targets: np.ndarray, name: str, **params) -> np.ndarray:
    """Maps of attribution method ``name`` (its defaults overridden by ``params``) for ``targets``."""
    from repro.attributions import get_method

    return get_method(name, **params)(model, x, targets)


def gradient_magnitude_scores(model: "ImageModel", x: np.ndarray, targets: np.ndarray, seed: int = 0) -> np.ndarray:
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
