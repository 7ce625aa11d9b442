"""Which attribution method runs on which model, decided before any map is computed.

:func:`check_support` gives, for an :class:`~repro.models.ImageModel` and a list of methods, the methods that run
and, for every other one, ONE line saying why it is refused: which layer type (or activation) the library does
not support. :func:`resolve_methods` turns that into a run's method list: by default every method that applies
(the others skipped with their reason); a method the user asked for by name that cannot run is an error.

What decides, per method (each check is what the library itself does, run on the model, not a guess; the tests
build one small model per case and check that a refused method really fails or would be wrong, and that an
accepted one really runs):

* ``saliency``, ``integrated_gradients``, ``smoothgrad``: any model whose class logit has a gradient with respect
  to the input (``probe``: one gradient on the black baseline);
* ``guided_backprop``: the paper's rule overrides the gradient of TensorFlow's ``Relu`` op only
  (:mod:`repro.attributions.guided`); any other activation op (``Relu6`` of MobileNetV2, the ``Sigmoid`` of swish
  in EfficientNet, ``Tanh``, ``LeakyRelu``, ...) would keep its plain gradient, so the map would be partly or wholly
  an ordinary gradient x input. The model's graph is traced and such ops are looked for (:data:`NON_RELU_OPS`);
* ``gradcam``: a layer with a 4-D feature map (:func:`repro.attributions.gradcam.gradcam_layer_problem`); ``probe``:
  one map through tf-keras-vis;
* ``deeplift``: the converter of :mod:`repro.attributions.deeplift_adapter` takes a chain of
  :data:`~repro.attributions.deeplift_adapter.SUPPORTED_LAYERS` only (no BatchNormalization, residual ``Add``,
  ``Concatenate``, depthwise convolution, padding or global pooling); the refusal names the layer types found;
  ``probe``: the graph worker is started and explains the baseline image;
* ``lrp``: iNNvestigate 2.1.2's own model checks, run on the model (``innvestigate.backend.checks``): every layer
  must be one of its ``CONVNET_LAYERS`` (a Keras ``ReLU`` layer and ``DepthwiseConv2D`` are not) with no
  activation but ReLU or linear (2.1.2 raises ``NotImplementedError`` after its "not advised for non-ReLU
  activations" warning); ``innvestigate.model_wo_softmax`` cannot strip a separate ``Softmax`` layer; and the
  z^B input rule of :mod:`repro.attributions.lrp` needs the first layer with a kernel to see the image itself (a
  ``ZeroPadding2D`` or ``Rescaling`` before it changes its input). ``probe``: the graph worker is started and
  explains the baseline image, so a failure the checks do not foresee (e.g. a layer name iNNvestigate also gives
  one of its own layers) is found here, not in the middle of a run. Building iNNvestigate's analyzer slows down
  steeply with BatchNormalization layers (:data:`LRP_BATCHNORM_LIMIT`, measured), so by default a model with more
  of them skips LRP with that reason; asking for ``lrp`` by name tries anyway (the worker's start timeout then
  applies);
* ``random``: always.

The graph workers a probe starts are the ones the run then uses (:func:`repro.attributions.graph_worker.get_worker`
shares a worker between instances with the same settings and model); ``close_workers`` stops them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from repro.errors import ReproError

if TYPE_CHECKING:
    from repro.models import ImageModel

NON_RELU_OPS: tuple[str, ...] = ("Relu6", "LeakyRelu", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "Softsign", "Erf",
                                 "Erfc", "Exp", "Softmax", "LogSoftmax")
"""TensorFlow activation ops that Guided Backpropagation's ``Relu`` override does not reach."""

GRADIENT_METHODS: tuple[str, ...] = ("saliency", "integrated_gradients", "smoothgrad")

LRP_BATCHNORM_LIMIT = 16
"""Above this many BatchNormalization layers LRP is skipped unless asked for by name. Measured on the 2-core CPU
of this project (a chain of conv-BN-ReLU blocks on 16 x 16 inputs, time to start the worker and build the
analyzer): 8 BN layers 57 s, 12 89 s, 16 143 s, against 14 s for 8 blocks without BN; InceptionV3 (94 BN layers,
75 x 75 input) had not finished after 1400 s."""


@dataclass(frozen=True)
class Support:
    """The outcome of :func:`check_support`: methods that run, in the order asked, and the refused ones."""

    model: str
    runs: tuple[str, ...]
    refused: dict[str, str] = field(default_factory=dict)
    """method -> why it is refused (one line, no method name in front)."""

    def lines(self) -> list[str]:
        """One line per refused method: ``"<method>: <reason>"``."""
        return [f"{name}: {reason}" for name, reason in self.refused.items()]


def _examples(layers: Sequence[Any]) -> str:
    """``"BatchNormalization (53 layers, e.g. conv1_bn), Add (16, e.g. conv2_block1_add)"``."""
    groups: dict[str, list[str]] = {}
    for kind, name in layers:
        groups.setdefault(kind, []).append(name)
    parts = []
    for i, (kind, names) in enumerate(groups.items()):
        count = f"{len(names)} layer{'s' if len(names) > 1 else ''}" if i == 0 else str(len(names))
        parts.append(f"{kind} ({count}, e.g. {names[0]})")
    return ", ".join(parts)


# ------------------------------------------------------------------------------------------------- the checks
def gradient_problem(model: "ImageModel", probe: bool = True) -> str | None:
    """``None`` if the target logit has a gradient with respect to the input (checked on the baseline)."""
    if not probe:
        return None
    import tensorflow as tf

    x = tf.constant(np.asarray(model.baseline, np.float32)[None])
    with tf.GradientTape() as tape:
        tape.watch(x)
        score = model.logits_model(x, training=False)[:, 0]
    grad = tape.gradient(score, x)
    if grad is None:
        return "the class logit has no gradient with respect to the input (a non-differentiable layer)"
    if not np.isfinite(grad.numpy()).all():
        return "the gradient of the class logit with respect to the input is not finite on the black image"
    return None


def graph_op_layers(model: "ImageModel", op_types: Sequence[str]) -> list[tuple[str, str]]:
    """``(op type, layer name)`` of every op of the given types in the traced logits model (the layer name is the
    op's name scope under the model's)."""
    import tensorflow as tf

    logits = model.logits_model
    spec = tf.TensorSpec((1, *model.input_shape), tf.float32)
    graph = tf.function(lambda x: logits(x, training=False)).get_concrete_function(spec).graph
    found = []
    for op in graph.get_operations():
        if op.type in op_types:
            parts = op.name.split("/")
            found.append((op.type, parts[1] if len(parts) > 2 else parts[0]))
    return found


def guided_backprop_problem(model: "ImageModel") -> str | None:
    """``None`` when every activation op of the network is a ``Relu`` (the op the override replaces)."""
    found = graph_op_layers(model, NON_RELU_OPS)
    if not found:
        return None
    return (f"the paper's ReLU gradient override reaches only Relu ops; this network also has "
            f"{_examples(found).replace(' layers,', ' ops,').replace(' layer,', ' op,')}, whose plain gradient "
            "would pass unguided")


def gradcam_problem(model: "ImageModel") -> str | None:
    from repro.attributions.gradcam import gradcam_layer_problem

    return gradcam_layer_problem(model.keras_model, model.conv_layer)


def deeplift_problem(model: "ImageModel") -> str | None:
    """``None`` when :func:`repro.attributions.deeplift_adapter.keras_to_deeplift_config` converts the model; else
    the layer types it does not support (or its own message when the types are supported but not their settings or
    the connections)."""
    from repro.attributions.deeplift_adapter import SUPPORTED_LAYERS, keras_to_deeplift_config

    try:
        keras_to_deeplift_config(model.keras_model)
        return None
    except ReproError as exc:
        message = str(exc)
    bad = [(layer.__class__.__name__, layer.name) for layer in model.keras_model.layers
           if layer.__class__.__name__ not in SUPPORTED_LAYERS]
    if bad:
        return (f"the deeplift converter does not support {_examples(bad)}; it takes a chain of "
                f"{', '.join(k for k in SUPPORTED_LAYERS if k != 'InputLayer')} layers")
    message = message.replace("deeplift adapter: ", "the deeplift converter refuses it: ")
    return message.split(". Supported:")[0]


def lrp_problem(model: "ImageModel", input_rule: str = "bounded", requested: bool = False) -> str | None:
    """``None`` when iNNvestigate's own checks (and the project's z^B input rule) accept the model, and, unless
    ``requested`` by name, it has at most :data:`LRP_BATCHNORM_LIMIT` BatchNormalization layers."""
    import tensorflow as tf
    from innvestigate.backend import checks

    from repro.models.core import output_layer

    keras_model = model.keras_model
    last = output_layer(keras_model)
    if isinstance(last, tf.keras.layers.Softmax) or last.__class__.__name__ == "TFOpLambda":
        return (f"iNNvestigate's model_wo_softmax cannot remove a separate {last.__class__.__name__} layer "
                f"({last.name}; it sets an 'activation' on it): end the model in Dense(..., activation='softmax')")
    layers = _all_layers(keras_model)
    not_convnet = [(layer.__class__.__name__, layer.name) for layer in layers if not checks.is_convnet_layer(layer)]
    if not_convnet:
        return (f"iNNvestigate 2.1.2 does not support {_examples(not_convnet)} (not among its CONVNET_LAYERS; its "
                "'only tested for convolutional neural networks' check stops the analyzer)")
    non_relu = [(f"activation {_activation(layer)!r}", layer.name) for layer in layers
                if layer is not last and not checks.only_relu_activation(layer)]
    if non_relu:
        return (f"iNNvestigate 2.1.2's LRP presets refuse non-ReLU activations: {_examples(non_relu)} (its "
                "'not advised for networks with non-ReLU activations' check raises NotImplementedError)")
    if input_rule == "bounded":
        first = next((layer for layer in keras_model.layers if getattr(layer, "kernel", None) is not None), None)
        if first is not None and tuple(first.input_shape[1:]) != tuple(model.input_shape):
            size = int(np.prod(first.input_shape[1:]))
            if size != int(np.prod(model.input_shape)):
                before = [layer for layer in keras_model.layers[1:keras_model.layers.index(first)]]
                what = _examples([(lay.__class__.__name__, lay.name) for lay in before]) or "an earlier layer"
                return (f"the z^B input rule (repro/attributions/lrp.py) bounds the pixels seen by the first layer "
                        f"with a kernel ({first.name}), but {what} changes its input to {first.input_shape[1:]}")
    batchnorm = [layer for layer in layers if isinstance(layer, tf.keras.layers.BatchNormalization)]
    if not requested and len(batchnorm) > LRP_BATCHNORM_LIMIT:
        return (f"iNNvestigate's analyzer takes very long to build with BatchNormalization layers ({len(batchnorm)} "
                f"here; measured 143 s for 16, InceptionV3's 94 unfinished after 1400 s): skipped by default, ask for "
                "lrp with --methods to try anyway")
    return None


def _all_layers(keras_model) -> list:
    out = []
    for layer in keras_model.layers:
        out.append(layer)
        if hasattr(layer, "layers") and hasattr(layer, "inputs"):  # a nested model: iNNvestigate walks into it
            out.extend(_all_layers(layer))
    return out


def _activation(layer) -> str:
    from repro.models.core import activation_name

    return activation_name(layer) or layer.__class__.__name__


STATIC_CHECKS: dict[str, Callable[..., str | None]] = {
    "guided_backprop": lambda model, requested: guided_backprop_problem(model),
    "gradcam": lambda model, requested: gradcam_problem(model),
    "deeplift": lambda model, requested: deeplift_problem(model),
    "lrp": lambda model, requested: lrp_problem(model, requested=requested),
}
"""Checks that read the model (and, for guided backprop, its traced graph), per method: ``(model, requested)``,
``requested`` telling whether the method was asked for by name."""


def probe_problem(model: "ImageModel", method: Any) -> str | None:
    """Run ``method`` on the model's black image, explaining class 0; ``None`` when it returns a finite map of the
    input's size, else the failure in one line."""
    x = np.asarray(model.baseline, np.float32)[None]
    try:
        maps = np.asarray(method(model, x, np.zeros(1, np.int64)))
    except (ReproError, Exception) as exc:  # noqa: BLE001 - any failure of the library is the answer
        text = " ".join(str(exc).split()) or exc.__class__.__name__
        for prefix in (f"{method.name} worker failed while starting: ", "could not build the model: "):
            text = text.replace(prefix, "")
        return f"it fails on this model: {text[:240]}"
    if not np.isfinite(maps).all():
        return "it returns non-finite values on this model's black image"
    return None


# -------------------------------------------------------------------------------------------------- the table
def check_support(model: "ImageModel", methods: Sequence[str] | None = None, probe: bool = True,
                  make_method: Callable[[str], Any] | None = None, requested: bool = False) -> Support:
    """Which of ``methods`` (default: every registered one) run on ``model``, and why each other one is refused.

    Args:
        requested: the methods were asked for by name (a method skipped only by default, LRP on a network with many
            BatchNormalization layers, is then tried).
        probe: also run each method that passes its checks once, on the black image (graph methods: start the
            worker the run will use); ``False``: the checks that only read the model (no map computed).
        make_method: ``name -> method instance`` for the probes (default ``get_method(name)``), so the probe uses
            the run's settings (and so its graph worker).
    Results are cached on the model (``model._cache``) per (method, probe, requested).
    """
    from repro.attributions import METHODS, get_method

    names = list(METHODS) if methods is None else list(methods)
    make = make_method or (lambda name: get_method(name))
    memo = model._cache.setdefault("support", {})
    refused: dict[str, str] = {}
    for name in names:
        key = (name, probe, requested)
        if key not in memo:
            memo[key] = _problem(model, name, probe, make, requested)
        if memo[key]:
            refused[name] = memo[key]
    return Support(model.name, tuple(n for n in names if n not in refused), refused)


def _problem(model: "ImageModel", name: str, probe: bool, make: Callable[[str], Any], requested: bool
             ) -> str | None:
    if name == "random":
        return None
    if name in GRADIENT_METHODS:
        return gradient_problem(model, probe)
    check = STATIC_CHECKS.get(name)
    problem = check(model, requested) if check is not None else None
    if problem or not probe:
        return problem
    if name == "guided_backprop":
        return None  # plain TensorFlow gradients; the op check above is what decides
    return probe_problem(model, make(name))


def resolve_methods(model: "ImageModel", requested: Sequence[str] | None, probe: bool = True,
                    make_method: Callable[[str], Any] | None = None) -> tuple[tuple[str, ...], dict[str, str]]:
    """The methods a run computes: ``requested`` (all of them must run on the model), or by default every
    registered method that does. Returns ``(methods, skipped)``, ``skipped`` mapping each default method left out
    to its reason.

    Raises:
        ReproError: a requested method cannot run (one line per method, saying why), or none can.
    """
    support = check_support(model, requested, probe=probe, make_method=make_method,
                            requested=requested is not None)
    if requested is not None and support.refused:
        raise ReproError(f"--methods: refused on model {model.name!r}: " + "; ".join(support.lines()))
    if not support.runs:
        raise ReproError(f"no attribution method runs on model {model.name!r}: " + "; ".join(support.lines()))
    return support.runs, dict(support.refused)
