"""The graph-mode worker process of DeepLIFT and LRP: how it is started, what it runs, and each method's table entry.

kundajelab ``deeplift`` 0.6.13 and iNNvestigate 2.1.2 need ``tf.compat.v1.disable_eager_execution()``, which
cannot be undone in a process that already runs eager code. So they run in a fresh interpreter started by
:func:`_spawn` (``python -m repro.attributions.graph_process FD``: the ``spawn`` start method's isolation, never a
``fork`` of a process with TensorFlow initialised, and no re-run of the caller's ``__main__``), talking over a
socket pair (``multiprocessing.connection``); its stderr goes to a temporary log (:func:`_log_tail`)::

    parent (eager)                                   worker (graph mode, fresh interpreter)
    {method, settings, batch_size, arrays,   --->    disable eager; score = WORKER_METHODS[method].build(...)
     model payload}                          <---    ("ready", None)  (graph built once: VGG16 ~20-60 s)
    ("attribute", x[batch], targets[batch])  --->    maps = score(x, targets)
                                             <---    ("ok", maps) | ("error", message)
    ("close",)                               --->    exits (so does a closed or broken pipe)

Each method's knowledge is one :class:`WorkerSpec` of :data:`WORKER_METHODS`; nothing else branches on its name:
``payload(keras_model)`` is the model as sent, all in the start message, no file on disk (DeepLIFT: the layer
list with numpy weights, built and validated in the parent, so an unsupported model fails before any process
starts; LRP: ``model.to_json()`` and the weights as numpy arrays); ``arrays(image_model, params)`` the scorer's
start arrays (DeepLIFT: ``reference``, the baseline; LRP: ``input_bounds``, the z^B pixel box or ``None``);
``settings`` the method's settings passed on to ``build(payload, arrays, batch_size, **settings) -> score``, which
runs in the worker with graph mode on.

Errors while building or scoring are sent back as ``("error", message)`` naming the problem (the worker keeps
serving after a failed batch). The parent-side handle, its cache and the method classes are
:mod:`repro.attributions.graph_worker`. This is the only module that enters TF1 graph mode, and only inside a
worker process (:func:`_build_scorer`, run by :func:`_serve`).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
import tempfile
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Callable

import numpy as np

from repro.attributions.deeplift_adapter import deeplift_scorer, enter_graph_mode, keras_to_deeplift_config
from repro.attributions.lrp import lrp_scorer, pixel_bounds
from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.models import ImageModel

Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]


# ------------------------------------------------------------------------------------------ the methods' table
@dataclass(frozen=True)
class WorkerSpec:
    """One method's knowledge, parent and worker side (see the module docstring)."""

    payload: Callable[[Any], dict]  # parent: keras_model -> the model as sent to the worker
    arrays: Callable[[ImageModel, dict], dict]  # parent: (model, params) -> the scorer's start arrays
    settings: tuple[str, ...]  # the params passed to ``build`` as keyword arguments
    build: Callable[..., Scorer]  # worker: (payload, arrays, batch_size, **settings) -> score(x, targets)


def _deeplift_build(payload: dict, arrays: dict, batch_size: int, nonlinear_mode: str) -> Scorer:
    enter_graph_mode()
    layers = payload.pop("layers")  # the scorer keeps no numpy copy of the weights once they are loaded
    return deeplift_scorer(layers, arrays["reference"], nonlinear_mode=nonlinear_mode, batch_size=batch_size)


def _lrp_payload(keras_model: Any) -> dict:
    return {"model_json": keras_model.to_json(), "weights": keras_model.get_weights()}


def _lrp_build(payload: dict, arrays: dict, batch_size: int, analyzer: str, epsilon: float) -> Scorer:
    import tensorflow as tf

    model = tf.keras.models.model_from_json(payload["model_json"])
    model.set_weights(payload.pop("weights"))  # the scorer keeps no numpy copy once they are loaded
    return lrp_scorer(model, analyzer=analyzer, epsilon=epsilon, input_bounds=arrays["input_bounds"])


WORKER_METHODS: dict[str, WorkerSpec] = {
    "deeplift": WorkerSpec(
        payload=lambda keras_model: {"layers": keras_to_deeplift_config(keras_model)},
        arrays=lambda model, params: {"reference": np.asarray(model.baseline, np.float32)},
        settings=("nonlinear_mode",), build=_deeplift_build),
    "lrp": WorkerSpec(
        payload=_lrp_payload,
        arrays=lambda model, params: {"input_bounds": pixel_bounds(model.preprocess, model.input_shape)
                                      if params["input_rule"] == "bounded" else None},
        settings=("analyzer", "epsilon"), build=_lrp_build),
}
"""Method name -> :class:`WorkerSpec`: the only place the worker's per-method knowledge lives."""


# ----------------------------------------------------------------------------------------------- worker side
def _build_scorer(message: dict) -> Scorer:
    """In the worker: enter graph mode and build the method's graph once (the message is consumed)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.compat.v1.disable_eager_execution()
    build = WORKER_METHODS[message["method"]].build
    return build(message.pop("model"), message["arrays"], message["batch_size"], **message["settings"])


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ReproError):
        return str(exc)
    last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    where = f" (at {Path(last[0].filename).name}:{last[0].lineno})" if last else ""
    return f"{exc.__class__.__name__}: {exc}{where}"


def _serve(conn: Connection) -> None:
    """Worker loop: receive the start message, build once, then answer ``("attribute", x, targets)`` until closed."""
    quiet = io.StringIO()  # deeplift prints progress to stdout; keep the parent's stdout clean
    try:
        with contextlib.redirect_stdout(quiet):
            score = _build_scorer(conn.recv())
        conn.send(("ready", None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises ReproError
        conn.send(("error", f"could not build the model: {_describe(exc)}"))
        return
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # parent gone
            return
        if message[0] == "close":
            return
        try:
            with contextlib.redirect_stdout(quiet):
                maps = np.asarray(score(message[1], message[2]), np.float32)
            quiet.seek(0)
            quiet.truncate()
            conn.send(("ok", maps))
        except BaseException as exc:  # noqa: BLE001
            conn.send(("error", _describe(exc)))


# ----------------------------------------------------------------------------------------------- parent side
def _spawn(method: str) -> tuple[subprocess.Popen, Connection, IO[bytes]]:
    """Start ``python -m repro.attributions.graph_process FD``: a fresh interpreter (the effect of the ``spawn``
    start method, without re-running the caller's ``__main__``, so scripts and notebooks need no main guard),
    connected by a socket pair. Its stderr goes to a temporary log quoted when it dies."""
    import repro

    parent_conn, child_conn = Pipe()
    log = tempfile.TemporaryFile(prefix=f"repro-{method}-worker-", suffix=".log")
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    root = str(Path(repro.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join([root, *filter(None, [env.get("PYTHONPATH")])])
    fd = child_conn.fileno()
    process = subprocess.Popen([sys.executable, "-m", "repro.attributions.graph_process", str(fd)],
                               pass_fds=(fd,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=log, env=env, close_fds=True,
                               start_new_session=True)  # Ctrl-C goes to the parent, which closes it
    child_conn.close()
    return process, parent_conn, log


def _log_tail(log: IO[bytes] | None, chars: int = 600) -> str:
    """The last non-empty lines of a worker's stderr log (at most ``chars`` characters), or ``""``."""
    if log is None or log.closed:
        return ""
    with contextlib.suppress(Exception):
        log.flush()
        log.seek(0)
        lines = [ln for ln in log.read().decode("utf-8", "replace").splitlines() if ln.strip()]
        return " | ".join(lines[-4:])[-chars:]
    return ""


if __name__ == "__main__":  # the worker process: python -m repro.attributions.graph_process FD
    _serve(Connection(int(sys.argv[1])))
