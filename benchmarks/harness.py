"""Measurement helpers shared by the benchmarks: wall-clock timing, a forward-counting model wrapper, bare batched
forwards, memory, the machine description, a least-squares line, and markdown tables.

Contract of the two timing primitives the efficiency ratio is built from:

* :class:`CountingForward` wraps a Keras model (or callable) ``(B, H, W, C) -> (B, classes)``; every call adds
  ``1`` to ``calls`` and ``B`` to ``rows`` through ``tf.Variable`` s, so calls made inside a ``tf.function``
  (where Python code runs only while tracing) are counted too. Its outputs equal the wrapped model's.
* :func:`bare_forward_seconds` times ``n_batches`` calls of ONE compiled ``model(x, training=False)`` with a fixed
  ``(B, H, W, C)`` signature on a batch already on the device, each call's output fetched to the host as the
  engine does. Engine overhead = engine time / bare time - 1 for the same number of batches of the same size.

Timings are ``time.perf_counter`` wall clock; no timed assertion is made anywhere (tests check arithmetic only).
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import resource
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np


class CountingForward:
    """A callable that forwards to ``model`` and counts calls and input rows, also inside ``tf.function``.

    Args:
        model: a Keras model (called with ``training=False``) or a callable ``(B, H, W, C) -> (B, classes)``.
    """

    def __init__(self, model: Any):
        import tensorflow as tf

        self.model = model
        self._is_keras = isinstance(model, tf.keras.Model)
        self._calls = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._rows = tf.Variable(0, dtype=tf.int64, trainable=False)

    def __call__(self, x, training: bool = False):
        import tensorflow as tf

        self._calls.assign_add(1)
        self._rows.assign_add(tf.cast(tf.shape(x)[0], tf.int64))
        return self.model(x, training=False) if self._is_keras else self.model(x)

    @property
    def calls(self) -> int:
        """Number of model calls (batches) so far."""
        return int(self._calls.numpy())

    @property
    def rows(self) -> int:
        """Number of input rows (single-image forwards, padding included) so far."""
        return int(self._rows.numpy())

    def reset(self) -> None:
        self._calls.assign(0)
        self._rows.assign(0)


def padded_rows(num_queries: int, batch_size: int) -> int:
    """Rows a fixed-batch engine runs for ``num_queries`` queries: ``ceil(Q / B) * B``."""
    if batch_size < 1 or num_queries < 0:
        raise ValueError(f"need batch_size >= 1 and num_queries >= 0, got {batch_size}, {num_queries}")
    return -(-num_queries // batch_size) * batch_size


def compiled_forward(model: Any, batch_size: int, input_shape: Sequence[int]) -> Callable:
    """One ``tf.function`` running ``model(x, training=False)`` with the fixed signature ``(B, H, W, C)``."""
    import tensorflow as tf

    is_keras = isinstance(model, tf.keras.Model)
    spec = tf.TensorSpec([int(batch_size), *map(int, input_shape)], tf.float32)

    @tf.function(input_signature=[spec])
    def forward(x):
        return model(x, training=False) if is_keras else model(x)

    return forward


def bare_forward_seconds(forward: Callable, n_batches: int, batch_size: int, input_shape: Sequence[int],
                         seed: int = 0, warmup: bool = True) -> float:
    """Wall time of ``n_batches`` calls of a compiled ``forward`` (from :func:`compiled_forward`) on one random batch.

    The batch is uploaded once; each output is fetched with ``.numpy()``. With ``warmup`` one untimed call runs
    first (tracing; needed once per compiled function).

    Returns:
        seconds for the ``n_batches`` timed calls.
    """
    import tensorflow as tf

    if n_batches < 0:
        raise ValueError(f"n_batches must be >= 0, got {n_batches}")
    x = tf.constant(np.random.default_rng(seed).uniform(0, 1, (int(batch_size), *input_shape)).astype(np.float32))
    if warmup:
        forward(x).numpy()
    start = time.perf_counter()
    for _ in range(int(n_batches)):
        forward(x).numpy()
    return time.perf_counter() - start


@dataclass
class Timed:
    """Result and wall time of one call."""

    value: Any
    seconds: float


def timed(fn: Callable[[], Any]) -> Timed:
    """Run ``fn()`` once and return its value with the wall time in seconds."""
    start = time.perf_counter()
    value = fn()
    return Timed(value, time.perf_counter() - start)


def peak_rss_mib() -> float:
    """High-water mark of this process's resident set size, MiB (``ru_maxrss``; KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024.0 * 1024.0) if platform.system() == "Darwin" else rss / 1024.0


def cpu_model() -> str:
    """The CPU model name from ``/proc/cpuinfo`` (Linux), else ``platform.processor()``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_description() -> dict[str, str]:
    """CPU model, cores, load, library versions and the UTC date, as strings for the report."""
    import numpy
    import tensorflow as tf

    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "date (UTC)": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "CPU": cpu_model(),
        "cores (logical / usable)": f"{os.cpu_count()} / {usable}",
        "load average (1, 5, 15 min) at start": load,
        "Python": platform.python_version(),
        "TensorFlow": tf.__version__,
        "numpy": numpy.__version__,
        "TF devices": ", ".join(d.device_type for d in tf.config.list_physical_devices()) or "none",
    }


@dataclass(frozen=True)
class LineFit:
    """Least-squares line ``y = slope * x + intercept`` and how well it fits."""

    slope: float
    intercept: float
    r2: float
    max_rel_residual: float
    """``max |y - fit| / y`` over the points (0 for an exact line)."""


def linear_fit(x: Sequence[float], y: Sequence[float]) -> LineFit:
    """Fit ``y = a x + b`` by least squares (``numpy.polyfit`` degree 1).

    Args:
        x, y: ``(L,)`` with ``L >= 2`` and at least two distinct ``x``.
    Returns:
        :class:`LineFit`; ``r2 = 1 - SS_res / SS_tot`` (1 when ``y`` is constant and fitted exactly).
    """
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    if x.shape != y.shape or x.ndim != 1 or x.size < 2 or np.unique(x).size < 2:
        raise ValueError(f"linear_fit needs two equal 1-D shapes with >= 2 distinct x, got {x.shape}, {y.shape}")
    a, b = np.polyfit(x, y, 1)
    fit = a * x + b
    ss_res = float(np.sum((y - fit) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else (1.0 if ss_res == 0 else 0.0)
    rel = float(np.max(np.abs(y - fit) / np.where(y != 0, np.abs(y), 1.0)))
    return LineFit(float(a), float(b), r2, rel)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats are printed with :func:`fmt`."""
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row needs {len(header)} cells: {[len(r) for r in rows]}")
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        lines.append("| " + " | ".join(fmt(c) for c in r) + " |")
    return "\n".join(lines)


def fmt(value: Any) -> str:
    """Compact number formatting for tables: 4 significant digits, scientific below 1e-3."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if np.isnan(v):
            return "n/a"
        if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
            return f"{v:.3g}"
        return f"{v:.4g}"
    return str(value)
