"""Helpers shared by the in-process methods (gradients, guided, gradcam, random).

* :func:`image_seed`: the random seed of one image, derived from the method's ``seed`` and a hash of that image's
  bytes, so that a seeded map (SmoothGrad, Random) does not depend on which batch, or at which position, the image
  was explained: ``seed_i = SeedSequence([seed, blake2b_64(x_i.tobytes())]).generate_state(2)``.
* :class:`BatchedMethod`: an :class:`~repro.attributions.base.AttributionMethod` with a ``batch_size`` setting
  that changes speed and memory only, hence is left out of :meth:`params` (the cache key).
* :func:`select_logits`: the target-class logit of each row, the score every method explains.
* :func:`compiled_functions`: where compiled ``tf.function`` objects (and the Grad-CAM object) of one model are
  kept, so that every method instance reuses one trace per model.
* :func:`input_factor`: the "input" of the "x input" methods (Saliency, SmoothGrad, Guided Backpropagation), the
  reading ``input_reference`` of :mod:`repro.readings`: the model-space input ``x`` (``"input"``, the default) or
  ``x - model.baseline`` (``"input_minus_baseline"``). ``docs/methods.md`` quotes the sentences behind both.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

import numpy as np

from repro.attributions.base import AttributionMethod
from repro.readings import READINGS

INPUT_REFERENCES: tuple[str, ...] = READINGS["input_reference"]
"""Values of the ``input_reference`` setting, the default first: ``("input", "input_minus_baseline")``."""


def image_seed(image: np.ndarray, seed: int) -> np.ndarray:
    """Two 32-bit words seeding the random numbers of one image.

    Args:
        image: ``(H, W, C)`` model-space image; hashed as contiguous float32 bytes.
        seed: the method's seed.
    Returns:
        ``(2,)`` int64 array with values in ``[0, 2**32)`` (usable by ``np.random.default_rng`` and by
        ``tf.random.stateless_*``).
    """
    data = np.ascontiguousarray(image, dtype=np.float32).tobytes()
    digest = int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")
    return np.random.SeedSequence([int(seed), digest]).generate_state(2, np.uint32).astype(np.int64)


def check_positive_int(name: str, value: int) -> int:
    """Return ``value`` as int, or raise ``ValueError`` naming the setting unless it is an integer >= 1."""
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    """Return ``value``, or raise ``ValueError`` naming the setting, the value and the choices."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def input_factor(model, x: np.ndarray, input_reference: str) -> np.ndarray:
    """The factor "input" of a "gradient x input" map, elementwise on an already computed gradient.

    Args:
        model: the :class:`~repro.models.ImageModel` (its ``baseline``, the black image in model space).
        x: ``(N, H, W, C)`` or ``(H, W, C)`` model-space inputs.
        input_reference: ``"input"``: ``x`` itself; ``"input_minus_baseline"``: ``x - model.baseline`` (on VGG16
            the raw pixels in BGR order; equal to ``x`` when the black image is 0 in model space).
    Returns:
        float32 array of ``x``'s shape.
    """
    check_choice("input_reference", input_reference, INPUT_REFERENCES)
    if input_reference == "input":
        return x
    return (x - np.asarray(model.baseline, np.float32)).astype(np.float32, copy=False)


class BatchedMethod(AttributionMethod):
    """A method whose ``batch_size`` (images or gradient points per forward pass) does not change the map."""

    batch_size: int

    def __init__(self, batch_size: int = 16):
        self.batch_size = check_positive_int("batch_size", batch_size)

    def params(self) -> dict:
        """The settings that determine the map: every public setting except ``batch_size``."""
        return {k: v for k, v in super().params().items() if k != "batch_size"}


def select_logits(logits, targets):
    """``logits[i, targets[i]]`` for each row: ``(N, classes)``, ``(N,)`` -> ``(N,)`` (TensorFlow tensors)."""
    import tensorflow as tf

    return tf.gather(logits, targets, axis=1, batch_dims=1)


def compiled_functions(model) -> dict:
    """The per-model store of compiled ``tf.function`` objects, so every method instance reuses one trace.

    It lives in the :class:`~repro.models.ImageModel`'s own cache (``model._cache``), so it is freed with the
    model.
    """
    return model._cache.setdefault("compiled_attributions", {})


def cached_function(model, key, build: Callable[[], Any]) -> Any:
    """``compiled_functions(model)[key]``, calling ``build()`` to create it on first use."""
    fns = compiled_functions(model)
    if key not in fns:
        fns[key] = build()
    return fns[key]
