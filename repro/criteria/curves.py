"""The batched perturbation engine: answers many perturbation queries with one compiled forward function.

A *query* is ``(image row, rank map row, lo, hi, mode, target)``: take image ``x`` (and its baseline ``b``) and
the integer rank map of one attribution (:func:`repro.criteria.orders.rank_map`), select the pixels whose rank is
in ``[lo, hi)``, then

* ``mode = REMOVE``: set the selected pixels (all channels) of ``x`` to ``b`` -> ``R_m``;
* ``mode = ADD``: put the selected pixels of ``x`` into the baseline image ``x_b`` -> ``R'_m``;

and read the model's output for ``target``. Removing the top ``m`` pixels of pi+ is ``[0, m)``, the bottom ``m``
(reversed pi+) is ``[M - m, M)``; ``lo = hi`` is ``x`` itself (REMOVE, ``y0``) or ``x_b`` (ADD, ``y_b``).

Two engine modes: :data:`OUTPUT` reads the forward function's own output at the target, one value per query. In
:data:`LOGIT_PROBABILITY` the forward function returns LOGITS and each query reads both the target's logit and its
softmax probability (``tf.nn.softmax`` over the row of logits, then gather) from the same forward: a ``(Q, 2)``
answer, no second forward.

Masks are built on the device from the rank maps inside ONE ``tf.function`` per (model, batch size, input
shape), traced once with an input signature whose image axis is ``None``: no retracing per image, per call or per
number of images, no ``model.predict`` per step. Queries go through it in fixed-size batches (the last one padded
by repeating its final query; padded outputs are dropped). Images, baselines and rank maps are uploaded once per
call; a batch of queries is one ``(7, B)`` int32 tensor.

Reference: Wang et al., "Interpreting Interpretations", Section 3.1 (``R_i(x, pi)``, ``R'_i(x_b, pi)``).
"""

from __future__ import annotations

import weakref
from typing import Any, Callable

import numpy as np

REMOVE = 0
ADD = 1
QUERY_FIELDS: tuple[str, ...] = ("image", "baseline", "rank", "lo", "hi", "mode", "target")
"""The int fields of a query, in the row order of the compiled function's query tensor ``(7, B)``."""

OUTPUT = "output"
"""Engine mode: the forward function's own output at the target, one value per query, ``(Q,)``."""
LOGIT_PROBABILITY = "logit_probability"
"""Engine mode: the forward function returns logits; per query its target logit and softmax probability,
``(Q, 2)`` (columns :data:`LOGIT_PROBABILITY_COLUMNS`)."""
ENGINE_MODES: tuple[str, ...] = (OUTPUT, LOGIT_PROBABILITY)
LOGIT_PROBABILITY_COLUMNS: tuple[str, str] = ("logit", "probability")
"""The columns of a :data:`LOGIT_PROBABILITY` answer, in order."""

_ENGINES: "weakref.WeakKeyDictionary[Any, dict]" = weakref.WeakKeyDictionary()
_STRONG: dict = {}  # for callables that cannot be weakly referenced


class CurveEngine:
    """One compiled query function for a model, a batch size and an input shape ``(H, W, C)``.

    Use :func:`get_engine` to reuse engines across calls (so nothing retraces).
    """

    def __init__(self, forward: Callable, batch_size: int, input_shape: tuple[int, int, int], mode: str = OUTPUT):
        """``mode``: :data:`OUTPUT` (``forward``'s output at the target) or :data:`LOGIT_PROBABILITY` (``forward``
        returns logits; the target's logit and its softmax probability, ``tf.nn.softmax`` over the row as Keras'
        softmax layers and activations compute it)."""
        import tensorflow as tf

        if int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if mode not in ENGINE_MODES:
            raise ValueError(f"unknown engine mode {mode!r}; choose one of {ENGINE_MODES}")
        self.mode = mode
        both = mode == LOGIT_PROBABILITY
        self.batch_size = int(batch_size)
        is_keras = isinstance(forward, tf.keras.Model)
        # A weak reference, so that the engine cached under the model (weak key) does not keep the model alive;
        # the model is only called while tracing, which happens while the caller holds it.
        try:
            ref = weakref.ref(forward)
        except TypeError:
            ref = lambda: forward  # noqa: E731 - not weak-referenceable: get_engine keeps it alive anyway
        self.input_shape = tuple(int(d) for d in input_shape)
        H, W, C = self.input_shape
        B = self.batch_size
        signature = [
            tf.TensorSpec([None, H, W, C], tf.float32),  # images
            tf.TensorSpec([None, H, W, C], tf.float32),  # baselines (one per image, or one shared)
            tf.TensorSpec([None, H, W], tf.int32),  # rank maps
            tf.TensorSpec([len(QUERY_FIELDS), B], tf.int32),  # one batch of queries, rows as QUERY_FIELDS
        ]

        def step(images, baselines, ranks, q):
            q_img, q_base, q_rank, q_lo, q_hi, q_mode, q_target = tf.unstack(q)
            x = tf.gather(images, q_img)
            b = tf.gather(baselines, q_base)
            r = tf.gather(ranks, q_rank)
            selected = (r >= q_lo[:, None, None]) & (r < q_hi[:, None, None])
            use_baseline = tf.not_equal(selected, tf.equal(q_mode, ADD)[:, None, None])
            # x (1 - m) + b m with a 0/1 mask is exact (x * 0 = 0, b * 1 = b for finite inputs) and ~1.6x faster
            # on the CPU than tf.where with a channel-broadcast condition (measured, benchmarks/RESULTS.md)
            m = tf.cast(use_baseline, x.dtype)[..., None]
            inputs = x * (1.0 - m) + b * m
            model = ref()
            out = model(inputs, training=False) if is_keras else model(inputs)
            out = tf.reshape(tf.cast(out, tf.float32), [B, -1])
            if both:  # one forward, two scores: the logit and the softmax of the same row of logits
                return tf.stack([tf.gather(out, q_target, axis=1, batch_dims=1),
                                 tf.gather(tf.nn.softmax(out, axis=-1), q_target, axis=1, batch_dims=1)], axis=1)
            return tf.gather(out, q_target, axis=1, batch_dims=1)

        self.function = tf.function(step, input_signature=signature)

    def tracing_count(self) -> int:
        """How many times the compiled function was traced (1 after first use, whatever the calls)."""
        return int(self.function.experimental_get_tracing_count())

    def run(self, images: np.ndarray, baselines: np.ndarray, ranks: np.ndarray, queries: dict[str, np.ndarray],
            progress: bool = False) -> np.ndarray:
        """Answer ``Q`` queries.

        Args:
            images: ``(N, H, W, C)`` float32 model-space images. baselines: ``(N, H, W, C)`` or ``(1, H, W, C)``.
            ranks: ``(P, H, W)`` int32 rank maps.
            queries: int arrays ``(Q,)`` under the keys :data:`QUERY_FIELDS`.
            progress: show a tqdm bar over batches.
        Returns:
            float64 ``(Q,)`` model outputs for the queries' targets (mode :data:`OUTPUT`), or ``(Q, 2)`` their
            logits and probabilities (mode :data:`LOGIT_PROBABILITY`).
        """
        return self.run_uploaded(self.upload(images, baselines, ranks), queries, progress)

    def upload(self, images: np.ndarray, baselines: np.ndarray, ranks: np.ndarray) -> tuple:
        """Images, baselines and rank maps as device tensors, for several :meth:`run_uploaded` calls (the rounds of
        ``steps="adaptive"``) without uploading them again."""
        import tensorflow as tf

        return (tf.constant(np.asarray(images, np.float32)), tf.constant(np.asarray(baselines, np.float32)),
                tf.constant(np.asarray(ranks, np.int32)))

    def run_uploaded(self, uploaded: tuple, queries: dict[str, np.ndarray], progress: bool = False) -> np.ndarray:
        """:meth:`run` on tensors from :meth:`upload`."""
        import tensorflow as tf

        q = np.stack([np.asarray(queries[k], dtype=np.int32) for k in QUERY_FIELDS])
        Q = q.shape[1]
        B = self.batch_size
        shape = (2,) if self.mode == LOGIT_PROBABILITY else ()
        if Q == 0:
            return np.zeros((0, *shape), np.float64)
        pad = (-Q) % B
        if pad:
            q = np.concatenate([q, np.repeat(q[:, -1:], pad, axis=1)], axis=1)
        imgs, bases, rks = uploaded
        starts = range(0, Q + pad, B)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="criteria forwards", unit="batch", total=(Q + pad) // B, leave=False)
        out = np.empty((Q + pad, *shape), np.float64)
        for s in starts:
            out[s:s + B] = self.function(imgs, bases, rks, tf.constant(q[:, s:s + B])).numpy()
        return out[:Q]


def get_engine(forward: Callable, batch_size: int, input_shape: tuple[int, int, int],
               mode: str = OUTPUT) -> CurveEngine:
    """The cached :class:`CurveEngine` for ``forward`` (a Keras model or callable), creating it on first use.

    Cached per forward object (weakly, so a deleted model frees its engine), batch size, input shape and mode.
    """
    key = (int(batch_size), tuple(int(d) for d in input_shape))
    if mode != OUTPUT:
        key = (*key, mode)
    try:
        table = _ENGINES.setdefault(forward, {})
    except TypeError:  # not weak-referenceable: keep it alive so its id is never reused
        table = _STRONG.setdefault(id(forward), (forward, {}))[1]
    if key not in table:
        table[key] = CurveEngine(forward, batch_size, input_shape, mode)
    return table[key]
