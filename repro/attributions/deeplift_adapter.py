"""Build a kundajelab ``deeplift`` 0.6.13 model from a live Keras chain model, and its RevealCancel scores.

deeplift's own h5 converter does not know Keras 2.14's ``Functional`` class and trips on the ``InputLayer`` entry
of a saved Sequential model. This adapter walks the *live* Keras layers instead and feeds
``deeplift.conversion.kerasapi_conversion.convert_sequential_model`` the list it expects::

    [{"class_name": "Conv2D", "config": {..., "weights": [kernel, bias], "batch_input_shape": (None, H, W, C)}},
     {"class_name": "MaxPooling2D", "config": {...}}, ..., {"class_name": "Dense", "config": {...}}]

The model must be a chain (Sequential, or Functional with one input and each layer fed by the previous one) of
:data:`SUPPORTED_LAYERS`; anything else raises :class:`~repro.errors.ReproError` listing the offending layers.
The final softmax (a ``Dense(activation="softmax")`` or a trailing ``Softmax``/``Activation("softmax")`` layer)
is removed, so the last deeplift layer is the pre-softmax Dense layer and the scores explain the logit.

Contract of :func:`deeplift_scorer` (DeepLIFT, Shrikumar et al. 2017): for input ``x``, reference ``r`` and
target ``t`` the map is ``C = m * (x - r)`` with deeplift's multipliers ``m`` under the RevealCancel rule for every
ReLU (Linear rule for Conv2D/Dense, gradient rule for max pooling), and summation-to-delta holds:
``sum(C) = logit_t(x) - logit_t(r)``.

:func:`keras_to_deeplift_config` only reads layers (safe in the eager process, where the graph worker calls it);
:func:`enter_graph_mode`, :func:`convert` and :func:`deeplift_scorer` run only inside the graph worker process
(:mod:`repro.attributions.graph_process`), never in the eager main process.

Reference: Shrikumar, Greenside, Kundaje, "Learning Important Features Through Propagating Activation
Differences", ICML 2017 (RevealCancel: Sec. 3.5.3).
"""

from __future__ import annotations

import sys
from typing import Any, Callable, ClassVar

import numpy as np

from repro.errors import ReproError

SUPPORTED_LAYERS: tuple[str, ...] = (
    "InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense", "ReLU", "Activation", "Softmax", "Dropout",
)
"""Keras layer classes the adapter converts. ``Dropout`` is the identity at inference (deeplift ``NoOp``);
``ReLU`` and ``Activation`` may carry ``relu`` or ``linear``; ``Softmax`` only as the last layer.
BatchNormalization, pooling other than max, padding, skip connections and other activations are rejected."""

_HIDDEN_ACTIVATIONS = ("relu", "linear")


def enter_graph_mode() -> "module":  # noqa: F821
    """Disable eager execution and point the ``tf`` name of every loaded ``deeplift*`` module at ``tf.compat.v1``.

    deeplift 0.6.13 calls ``tf.placeholder`` / ``tf.Session`` (TF1 names) on the module-level name ``tf``.
    Returns the ``tf.compat.v1`` module. Call once, in the worker process, before building any model.
    """
    import tensorflow as tf

    tf1 = tf.compat.v1
    tf1.disable_eager_execution()
    import deeplift.conversion.kerasapi_conversion  # noqa: F401 - loads every deeplift module that uses tf
    import deeplift.models  # noqa: F401

    for name, module in list(sys.modules.items()):
        if name.startswith("deeplift") and module is not None and hasattr(module, "tf"):
            module.tf = tf1
    return tf1


def _layer_entry(layer) -> dict:
    config = dict(layer.get_config())
    config["weights"] = [np.asarray(w) for w in layer.get_weights()]
    return {"class_name": layer.__class__.__name__, "config": config}


def _check_chain(keras_model) -> None:
    """Raise ReproError unless every layer of a Functional model is fed by exactly the previous layer."""
    if keras_model.__class__.__name__ == "Sequential":
        return
    if len(keras_model.inputs) != 1 or len(keras_model.outputs) != 1:
        raise ReproError(f"deeplift adapter: model {keras_model.name!r} must have one input and one output, "
                         f"got {len(keras_model.inputs)} inputs and {len(keras_model.outputs)} outputs")
    layer_configs = keras_model.get_config()["layers"]
    for prev, cfg in zip(layer_configs, layer_configs[1:]):
        nodes = cfg.get("inbound_nodes", [])
        inbound = [entry[0] for node in nodes for entry in (node if isinstance(node[0], list) else [node])]
        if inbound != [prev["name"]]:
            raise ReproError(f"deeplift adapter: model {keras_model.name!r} is not a chain of layers: layer "
                             f"{cfg['name']!r} is fed by {inbound}, expected [{prev['name']!r}]")


def keras_to_deeplift_config(keras_model: Any) -> list[dict]:
    """The ``model_config`` list ``convert_sequential_model`` expects, built from the live layers of a chain model.

    Args:
        keras_model: a Sequential or chain Functional ``tf.keras`` classifier ``(N, H, W, C) -> (N, classes)``
            ending in a softmax or a linear Dense layer.
    Returns:
        One entry per Keras layer after the input (``InputLayer`` dropped, its shape moved into the first entry's
        ``batch_input_shape``; ``ReLU`` layers rewritten as ``Activation("relu")``; the final softmax removed).
    Raises:
        ReproError: unsupported layer types or settings (all offenders listed), or a non-chain model.
    """
    _check_chain(keras_model)
    layers = [layer for layer in keras_model.layers if layer.__class__.__name__ != "InputLayer"]
    problems = []
    for i, layer in enumerate(layers):
        kind = layer.__class__.__name__
        cfg = layer.get_config()
        last = i == len(layers) - 1
        if kind not in SUPPORTED_LAYERS:
            problems.append(f"{layer.name} ({kind})")
            continue
        act = cfg.get("activation")
        if kind in ("Conv2D", "Dense", "Activation") and act not in _HIDDEN_ACTIVATIONS:
            if not (last and act == "softmax"):
                problems.append(f"{layer.name} ({kind} with activation {act!r})")
        if kind == "Softmax" and not last:
            problems.append(f"{layer.name} (Softmax before the last layer)")
        if kind == "ReLU" and (cfg.get("max_value") is not None or float(cfg.get("negative_slope", 0)) != 0
                               or float(cfg.get("threshold", 0)) != 0):
            problems.append(f"{layer.name} (ReLU with max_value/negative_slope/threshold)")
        if kind == "Conv2D" and (tuple(cfg.get("dilation_rate", (1, 1))) != (1, 1) or cfg.get("groups", 1) != 1):
            problems.append(f"{layer.name} (Conv2D with dilation or groups)")
        if kind in ("Conv2D", "MaxPooling2D") and cfg.get("data_format", "channels_last") != "channels_last":
            problems.append(f"{layer.name} ({kind} with data_format {cfg.get('data_format')!r})")
    if problems:
        raise ReproError(f"deeplift adapter: model {keras_model.name!r} has layers it cannot convert: "
                         f"{', '.join(problems)}. Supported: {', '.join(SUPPORTED_LAYERS)} (ReLU/linear "
                         f"activations; softmax only at the end)")

    entries = []
    for i, layer in enumerate(layers):
        entry = _layer_entry(layer)
        kind, cfg = entry["class_name"], entry["config"]
        last = i == len(layers) - 1
        if kind in ("Softmax",) or (kind == "Activation" and cfg.get("activation") == "softmax"):
            continue  # final softmax removed: the scores explain the logit
        if kind == "ReLU":
            entry = {"class_name": "Activation", "config": {"name": layer.name, "activation": "relu", "weights": []}}
        if last and cfg.get("activation") == "softmax":
            cfg["activation"] = "linear"
        entries.append(entry)
    if not entries or entries[-1]["class_name"] != "Dense" or entries[-1]["config"].get("activation") != "linear":
        raise ReproError(f"deeplift adapter: model {keras_model.name!r} must end in a Dense layer (softmax or "
                         f"linear) whose output is the logit; it ends in {layers[-1].name!r}")
    entries[0]["config"]["batch_input_shape"] = [None, *keras_model.input_shape[1:]]
    return entries


class _GraphKernel:
    """One graph variable standing in for a deeplift layer's numpy kernel.

    deeplift writes ``self.kernel * mask(self.kernel)`` and ``self.kernel.T`` with ``kernel`` a numpy array, which
    embeds a fresh constant copy of the kernel in the graph at every use (about 20 per Dense layer): for VGG16's
    411 MB ``fc1`` kernel that exceeds the 2 GB GraphDef limit and took more than 15 GB of memory. This proxy is
    converted to the same variable every time (so nothing is embedded or constant-folded) and keeps the numpy
    ``shape`` deeplift reads. :func:`open_session` loads the values.
    """

    _conversion_registered: ClassVar[bool] = False
    """Whether TensorFlow already converts this class to its variable (a process-wide registration)."""

    @classmethod
    def register_conversion(cls, tf1) -> None:
        """Teach TensorFlow to convert a kernel proxy to its variable; once per process (later calls do nothing)."""
        if not cls._conversion_registered:
            tf1.register_tensor_conversion_function(
                cls, lambda v, dtype=None, name=None, as_ref=False: tf1.convert_to_tensor(v.value))
            cls._conversion_registered = True

    def __init__(self, kernel: np.ndarray, tf1):
        self.shape = kernel.shape
        self.numpy = np.asarray(kernel, np.float32)
        self.value = tf1.Variable(tf1.zeros(kernel.shape, tf1.float32), trainable=False, use_resource=True)
        self.T = tf1.transpose(self.value)

    def __mul__(self, other):
        return self.value * other

    __rmul__ = __mul__


def open_session(deeplift_model: Any) -> "tf.compat.v1.Session":  # noqa: F821
    """Create the session deeplift will use (``deeplift.util._SESS``), initialise its variables and load the
    kernels; the numpy copies are then dropped."""
    import deeplift.util
    import tensorflow as tf

    tf1 = tf.compat.v1
    sess = tf1.Session()
    sess.run(tf1.global_variables_initializer())
    for layer in deeplift_model.get_layers():
        kernel = getattr(layer, "kernel", None)
        if isinstance(kernel, _GraphKernel) and kernel.numpy is not None:
            kernel.value.load(kernel.numpy, sess)
            kernel.numpy = None
    deeplift.util._SESS = sess  # deeplift 0.6.13 reads its session from this module global; no public setter
    return sess


def convert(model_config: list[dict], nonlinear_mode: str = "RevealCancel") -> Any:
    """A deeplift ``SequentialModel`` from :func:`keras_to_deeplift_config`'s list (graph mode must be on).

    Does what ``kerasapi_conversion.convert_sequential_model`` does (deeplift ``Input`` layer, then
    ``sequential_container_conversion``, then the forward graph), with each kernel embedded in the graph once.
    Its layer 0 is the input and its last layer is the pre-softmax Dense layer (the target layer, index -1).
    """
    import tensorflow as tf
    from deeplift import models
    from deeplift.conversion import kerasapi_conversion as kc
    from deeplift.layers import core

    tf1 = tf.compat.v1
    mode = getattr(core.NonlinearMxtsMode, nonlinear_mode, None)
    if mode is None:
        raise ReproError(f"unknown deeplift nonlinear mode {nonlinear_mode!r}; "
                         f"choose from {core.NonlinearMxtsMode.vals}")
    layers = [core.Input(batch_shape=model_config[0]["config"]["batch_input_shape"], name="input")]
    layers = kc.sequential_container_conversion(
        config=model_config, name="", verbose=False, nonlinear_mxts_mode=mode,
        dense_mxts_mode=core.DenseMxtsMode.Linear, conv_mxts_mode=core.ConvMxtsMode.Linear,
        maxpool_deeplift_mode=kc.default_maxpool_deeplift_mode, converted_layers=layers)
    _GraphKernel.register_conversion(tf1)
    for layer in layers:
        if isinstance(getattr(layer, "kernel", None), np.ndarray):
            layer.kernel = _GraphKernel(layer.kernel, tf1)
    layers[-1].build_fwd_pass_vars()
    return models.SequentialModel(layers)


def deeplift_scorer(model_config: list[dict], reference: np.ndarray, nonlinear_mode: str = "RevealCancel",
                    batch_size: int = 16) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Return ``score(x, targets) -> maps``: DeepLIFT contributions of the model-space input to the target logit.

    Args:
        model_config: :func:`keras_to_deeplift_config` of the model (built in the eager parent process and sent
            to the worker, so the worker never holds a Keras copy of the weights).
        reference: ``(H, W, C)`` reference input in model space (the black baseline).
        nonlinear_mode: deeplift ``NonlinearMxtsMode`` name; the paper uses ``"RevealCancel"``.
        batch_size: images per ``session.run``.
    Returns:
        A function mapping ``x`` ``(N, H, W, C)`` float32 and ``targets`` ``(N,)`` ints to contributions
        ``(N, H, W, C)`` float32 whose sum per image is ``logit_t(x) - logit_t(reference)`` (exactly when no max
        pooling window sees unequal reference activations; see ``docs/methods.md``).
    """
    num_classes = int(np.shape(model_config[-1]["config"]["weights"][0])[-1])
    model = convert(model_config, nonlinear_mode)
    contribs = model.get_target_contribs_func(find_scores_layer_idx=0, target_layer_idx=-1)
    open_session(model)
    reference = np.asarray(reference, np.float32)[None]

    def score(x: np.ndarray, targets: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        targets = np.asarray(targets, np.int64).reshape(-1)
        bad = targets[(targets < 0) | (targets >= num_classes)]
        if bad.size:
            raise ReproError(f"deeplift: target class {int(bad[0])} outside [0, {num_classes})")
        out = np.empty_like(x)
        for t in np.unique(targets):  # deeplift takes one task index per call
            idx = np.flatnonzero(targets == t)
            out[idx] = np.asarray(contribs(task_idx=int(t), input_data_list=[x[idx]],
                                           input_references_list=[reference], batch_size=batch_size,
                                           progress_update=None), np.float32)
        return out

    return score
