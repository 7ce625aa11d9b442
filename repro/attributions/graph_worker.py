"""DeepLIFT and LRP: the eager parent's side of their graph-mode worker processes, and the two method classes.

kundajelab ``deeplift`` and iNNvestigate run in TF1 graph mode, so each (method, settings, model, worker options)
gets one persistent worker process, started lazily; the process, its message protocol and each method's table
entry (:data:`WORKER_METHODS`, re-exported here) are :mod:`repro.attributions.graph_process`. This module holds
the handle (:class:`GraphWorker`), the cache of running workers (:func:`get_worker`, :func:`close_workers`) and
:class:`DeepLift` and :class:`LRP`, registered in :data:`repro.attributions.METHODS`.

Contract: :meth:`GraphWorker.attribute` gives float32 maps ``(N, H, W, C)`` for model-space ``x`` and ``targets``;
``batch_size`` changes speed, never the numbers. A worker snapshots the weights at start (after changing them, call
:func:`close_workers`), serves any number of batches and is closed by :meth:`GraphWorker.close`, by
:func:`close_workers`, by ``close()`` of the method instance that started it, when its Keras model is
garbage-collected, or at interpreter exit. Errors in the worker come back as :class:`~repro.errors.ReproError`
naming the method and the problem; a worker that dies or exceeds its timeout is detected by polling, never waited
on forever. Nothing in this module enters graph mode.
"""

from __future__ import annotations

import atexit
import contextlib
import subprocess
import time
import weakref
from multiprocessing.connection import Connection
from typing import IO, TYPE_CHECKING, Any, Callable

import numpy as np

from repro.attributions._common import check_positive_int
from repro.attributions.base import AttributionMethod
from repro.attributions.graph_process import WORKER_METHODS, Scorer, WorkerSpec, _log_tail, _spawn
from repro.attributions.lrp import ANALYZERS
from repro.batching import batch_slices
from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.models import ImageModel

__all__ = ["CALL_TIMEOUT_S", "DEEPLIFT_RULES", "START_TIMEOUT_S", "WORKER_METHODS", "DeepLift", "GraphWorker", "LRP",
           "Scorer", "WorkerSpec", "close_workers", "get_worker"]

START_TIMEOUT_S = 1800.0
"""Seconds a worker may take to load the model and build its graph (LRP on VGG16: ~30-40 s on 2 busy cores)."""
CALL_TIMEOUT_S = 3600.0
"""Seconds one batch may take inside the worker before the parent gives up and kills it."""
_POLL_S = 0.5
DEEPLIFT_RULES: tuple[str, ...] = ("RevealCancel", "Rescale")
"""DeepLIFT's rules for ReLUs (deeplift ``NonlinearMxtsMode`` names); the paper uses RevealCancel."""


# ----------------------------------------------------------------------------------------------- parent side
_WORKERS: dict[tuple, "GraphWorker"] = {}
"""The persistent cache of :func:`get_worker`: cache key -> running worker (a worker removes itself on close)."""
_ATEXIT_REGISTERED = False


class GraphWorker:
    """One spawned graph-mode process serving one (method, settings, model). See the module docstring.

    Args:
        method: a key of :data:`WORKER_METHODS` (``"deeplift"`` or ``"lrp"``).
        keras_model: the eager ``tf.keras`` classifier (softmax output) to rebuild in the worker.
        params: the method's settings (what :meth:`AttributionMethod.params` returns; at least the entry's
            ``settings``).
        arrays: the scorer's start arrays (what the entry's ``arrays`` returns).
        batch_size: images per message (and per ``session.run``).
        start_timeout, call_timeout: seconds before a silent worker is declared hung and killed.
        key: the :func:`get_worker` cache key this worker is stored under (it leaves the cache when closed).
    """

    def __init__(self, method: str, keras_model: Any, params: dict, arrays: dict, batch_size: int = 16,
                 start_timeout: float = START_TIMEOUT_S, call_timeout: float = CALL_TIMEOUT_S,
                 key: tuple | None = None) -> None:
        if method not in WORKER_METHODS:
            raise ReproError(f"graph worker: unknown method {method!r}; choose from {', '.join(WORKER_METHODS)}")
        spec = WORKER_METHODS[method]
        self.method = method
        self.process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._log: IO[bytes] | None = None
        self._key = key
        self._model_ref = weakref.ref(keras_model)
        self.batch_size = int(batch_size)
        self.call_timeout = float(call_timeout)
        missing = [name for name in spec.settings if name not in params]
        if missing:
            raise ReproError(f"{method} worker: settings {missing} missing from {sorted(params)}")
        try:
            message = {"method": method, "settings": {name: params[name] for name in spec.settings},
                       "batch_size": self.batch_size, "arrays": dict(arrays),
                       "model": spec.payload(keras_model)}  # DeepLIFT: validated here, before any start-up
            self.process, self._conn, self._log = _spawn(method)
            self._conn.send(message)
            del message  # the weights' copy
            _ensure_atexit()
            self._expect("ready", start_timeout, "starting")
        except BaseException:
            self.close()
            raise
        weakref.finalize(keras_model, self.close)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def serves(self, keras_model: Any) -> bool:
        """Whether this worker is running and was started from this very Keras model object."""
        return self.alive and self._model_ref() is keras_model

    def _died(self, doing: str) -> ReproError:
        code = self.process.poll() if self.process is not None else None
        tail = _log_tail(self._log)
        self.close()
        return ReproError(f"{self.method} worker died while {doing} (exit code {code}; killed or out of memory?)"
                          + (f"; its last output: {tail}" if tail else ""))

    def _expect(self, kind: str, timeout: float, doing: str) -> Any:
        deadline = time.monotonic() + timeout
        while not self._conn.poll(_POLL_S):
            if not self.alive:
                raise self._died(doing)
            if time.monotonic() > deadline:
                self.close()
                raise ReproError(f"{self.method} worker did not answer within {timeout:.0f} s while {doing}; "
                                 f"it was stopped")
        try:
            status, payload = self._conn.recv()
        except (EOFError, OSError):
            raise self._died(doing) from None
        if status == "error":
            if doing == "starting":
                self.close()
            raise ReproError(f"{self.method} worker failed while {doing}: {payload}")
        if status != kind:
            self.close()
            raise ReproError(f"{self.method} worker sent {status!r} while {doing}, expected {kind!r}")
        return payload

    def attribute(self, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Maps ``(N, H, W, C)`` float32 for model-space ``x`` ``(N, H, W, C)`` and ``targets`` ``(N,)``,
        sent in batches of ``batch_size``."""
        x = np.asarray(x, np.float32)
        targets = np.asarray(targets, np.int64).reshape(-1)
        if not self.alive:
            raise ReproError(f"{self.method} worker is not running (closed or died); start a new one")
        out = []
        try:
            for sl in batch_slices(len(x), self.batch_size):
                try:
                    self._conn.send(("attribute", x[sl], targets[sl]))
                except (BrokenPipeError, OSError):
                    raise self._died("receiving a batch") from None
                out.append(self._expect("ok", self.call_timeout, f"explaining images {sl.start}..{sl.stop - 1}"))
        except ReproError:
            raise
        except BaseException:  # e.g. KeyboardInterrupt mid-batch: a late answer would desynchronise the pipe
            self.close()
            raise
        return np.concatenate(out, axis=0) if out else np.zeros_like(x)

    def request_stop(self) -> None:
        """Ask a running worker to exit, without waiting (:meth:`close` then waits and cleans up)."""
        if self.alive:
            with contextlib.suppress(Exception):
                self._conn.send(("close",))

    def close(self) -> None:
        """Stop the worker (politely, then by its pid) and release the pipe. Safe to call twice."""
        process = getattr(self, "process", None)
        conn = getattr(self, "_conn", None)
        if process is not None and process.poll() is None:
            self.request_stop()
            try:
                process.wait(timeout=2)  # TensorFlow's interpreter shutdown can be slow; nothing to save
            except subprocess.TimeoutExpired:
                process.kill()  # our own child, by its pid
                process.wait(timeout=5)
        if conn is not None:
            conn.close()
        log = getattr(self, "_log", None)
        if log is not None:
            log.close()
        self.process = None
        key = getattr(self, "_key", None)
        if key is not None and _WORKERS.get(key) is self:
            del _WORKERS[key]

    def __enter__(self) -> "GraphWorker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ensure_atexit() -> None:
    global _ATEXIT_REGISTERED
    if not _ATEXIT_REGISTERED:
        atexit.register(close_workers)
        _ATEXIT_REGISTERED = True


def close_workers() -> None:
    """Close every worker this process started (all are asked to stop first, then each is waited for)."""
    workers = list(_WORKERS.values())
    for worker in workers:
        worker.request_stop()
    for worker in workers:
        worker.close()
    _WORKERS.clear()


def get_worker(method: str, keras_model: Any, params: dict, make_arrays: Callable[[], dict],
               **options: Any) -> GraphWorker:
    """The running worker for (method, params, keras_model), starting one if needed (the persistent cache).

    ``make_arrays()`` gives the extra arrays the worker is started with; it is called only when one starts.
    ``options`` are :class:`GraphWorker`'s ``batch_size``, ``start_timeout`` and ``call_timeout``.
    """
    return _cached_worker(method, keras_model, params, make_arrays, **options)[0]


def _cached_worker(method: str, keras_model: Any, params: dict, make_arrays: Callable[[], dict],
                   **options: Any) -> tuple[GraphWorker, bool]:
    """:func:`get_worker`, and whether this call started the worker (rather than finding it running)."""
    key = (method, tuple(sorted((k, repr(v)) for k, v in params.items())), id(keras_model),
           tuple(sorted(options.items())))
    worker = _WORKERS.get(key)
    if worker is not None and worker.serves(keras_model):
        return worker, False
    if worker is not None:
        worker.close()
    worker = GraphWorker(method, keras_model, params, make_arrays(), key=key, **options)
    _WORKERS[key] = worker
    return worker, True

# ----------------------------------------------------------------------------------------------- the methods
class _GraphMethod(AttributionMethod):
    """Shared plumbing: settings -> a persistent worker (its :data:`WORKER_METHODS` entry) -> maps.

    The worker is shared through :func:`get_worker` by every instance with the same settings and worker options;
    :meth:`close` stops the workers this instance started (what ``Study.close`` and the attribute command call).
    """

    def __init__(self, batch_size: int = 16, start_timeout: float = START_TIMEOUT_S,
                 call_timeout: float = CALL_TIMEOUT_S) -> None:
        self._options = {"batch_size": check_positive_int("batch_size", batch_size),
                         "start_timeout": float(start_timeout), "call_timeout": float(call_timeout)}
        self._started: list[GraphWorker] = []

    def worker(self, model: ImageModel) -> GraphWorker:
        """The persistent worker serving this method's settings on ``model`` (started on first use)."""
        params = self.params()
        worker, started = _cached_worker(self.name, model.keras_model, params,
                                         lambda: WORKER_METHODS[self.name].arrays(model, params), **self._options)
        if started:
            self._started = [w for w in self._started if w.process is not None] + [worker]  # drop closed ones
        return worker

    def attribute(self, model: ImageModel, x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return self.worker(model).attribute(x, targets)

    def close(self) -> None:
        """Stop the worker processes this instance started and wait for them to exit (a worker it found already
        running, started by another instance, is left alone). The next call starts a new worker. Safe to call
        twice."""
        workers, self._started = self._started, []
        for worker in workers:
            worker.request_stop()
        for worker in workers:
            worker.close()


class DeepLift(_GraphMethod):
    """DeepLIFT with the RevealCancel rule and the black reference, through kundajelab ``deeplift`` 0.6.13.

    The map is deeplift's contribution of each model-space input value to the target logit,
    ``m * (x - b)`` with ``b`` = ``model.baseline``; per image it sums to ``logit_t(x) - logit_t(b)``
    (exactly when max pooling sees the argmax of the reference at the input's argmax, see ``docs/methods.md``).

    Args:
        nonlinear_mode: deeplift ``NonlinearMxtsMode`` for ReLUs; the paper: ``"RevealCancel"``.
        batch_size, start_timeout, call_timeout: worker options (do not change the map).

    Reference: Shrikumar et al., ICML 2017; the paper's Appendix II ("black image as the baseline ... RevealCancel").
    """

    name = "deeplift"

    def __init__(self, nonlinear_mode: str = "RevealCancel", **options: Any) -> None:
        super().__init__(**options)
        if nonlinear_mode not in DEEPLIFT_RULES:
            raise ReproError(f"unknown DeepLIFT rule {nonlinear_mode!r}; choose from {', '.join(DEEPLIFT_RULES)}")
        self.nonlinear_mode = str(nonlinear_mode)
        self.reference = "black"


class LRP(_GraphMethod):
    """LRP-alpha2-beta1 with Montavon et al.'s tricks, through iNNvestigate 2.1.2 (see :mod:`repro.attributions.lrp`).

    Default: ``"lrp.sequential_preset_b"`` (alpha2-beta1 on conv layers, epsilon = 0.1 on dense layers) with the
    z^B rule on the first layer, bounded by the model-space values of raw pixels 0 and 255. The reading ``lrp_rule``
    sets ``analyzer`` and ``input_rule`` together (:data:`repro.attributions.lrp.LRP_RULES`).

    Args:
        analyzer: an iNNvestigate analyzer of :data:`repro.attributions.lrp.ANALYZERS`.
        epsilon: epsilon of the dense layers' rule.
        input_rule: ``"bounded"`` (z^B on the first layer) or ``"none"`` (the analyzer's own rule there).
        batch_size, start_timeout, call_timeout: worker options (do not change the map).

    Reference: Montavon, Samek, Mueller, Digital Signal Processing 73 (2018); the paper's Appendix II.
    """

    name = "lrp"

    def __init__(self, analyzer: str = "lrp.sequential_preset_b", epsilon: float = 0.1,
                 input_rule: str = "bounded", **options: Any) -> None:
        super().__init__(**options)
        if analyzer not in ANALYZERS:
            raise ReproError(f"unknown LRP analyzer {analyzer!r}; choose from {', '.join(ANALYZERS)}")
        if input_rule not in ("bounded", "none"):
            raise ReproError(f"input_rule must be 'bounded' or 'none', got {input_rule!r}")
        self.analyzer = analyzer
        self.epsilon = float(epsilon)
        self.input_rule = input_rule

