"""Which method runs on which model: the support table (repro.attributions.support) against what each library
actually does on small models built here. The fast tests check the table's verdicts and reasons; the slow one runs
every verdict: an accepted method computes a finite map, a refused one really fails (or, for Guided
Backpropagation, really gives the plain gradient x input, which is why it is refused)."""

from __future__ import annotations

import re

import numpy as np
import pytest

import custom_nets as nets
from repro.attributions import get_method
from repro.attributions.support import check_support, resolve_methods
from repro.errors import ReproError

REFUSED = {
    # model: {method: a phrase of the one-line reason}; every other method runs
    "residual_bn": {"deeplift": "does not support BatchNormalization (2 layers, e.g. stem_bn), Add (1, e.g. "
                                "residual_add), GlobalAveragePooling2D"},
    "sequential_softmax": {},
    "relu6_dense": {"deeplift": "conv_relu6 (ReLU with max_value", "lrp": "does not support ReLU (1 layer",
                    "guided_backprop": "also has Relu6 (1 op, e.g. conv_relu6)"},
    "depthwise_dense": {"deeplift": "does not support DepthwiseConv2D", "lrp": "does not support DepthwiseConv2D"},
    "swish_dense": {"deeplift": "Conv2D with activation 'swish'", "lrp": "non-ReLU activations: activation 'swish'",
                    "guided_backprop": "also has Sigmoid (1 op, e.g. conv)"},
    "zeropad_dense": {"deeplift": "does not support ZeroPadding2D", "lrp": "but ZeroPadding2D (1 layer, e.g. pad) "
                                                                         "changes its input to (18, 18, 3)"},
    "relu_layer_dense": {"lrp": "does not support ReLU (1 layer, e.g. conv_relu)"},
    "concat_dense": {"deeplift": "does not support Concatenate"},
    "avgpool_dense": {"deeplift": "does not support AveragePooling2D"},
    "plain_layer": {"lrp": "model_wo_softmax cannot remove a separate Softmax layer"},
    "plain_activation": {},
    "plain_function": {"deeplift": "does not support TFOpLambda", "lrp": "cannot remove a separate TFOpLambda"},
}


def build(name: str):
    if name == "residual_bn":
        return nets.residual_bn()
    if name == "sequential_softmax":
        return nets.sequential_softmax()
    kind, softmax = name.rsplit("_", 1)
    return nets.conv_net(kind, softmax)


@pytest.mark.parametrize("name", list(REFUSED))
def test_the_support_table_of_small_models(name):
    model = nets.wrap(build(name))
    support = check_support(model, probe=False)
    assert set(support.refused) == set(REFUSED[name])
    for method, phrase in REFUSED[name].items():
        assert phrase in support.refused[method], support.refused[method]
        assert "\n" not in support.refused[method]
    assert support.runs == tuple(m for m in ("saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                                             "guided_backprop", "gradcam", "random") if m not in REFUSED[name])


def test_default_methods_skip_with_reasons_and_a_requested_refused_method_stops():
    model = nets.wrap(nets.conv_net("swish"))
    methods, skipped = resolve_methods(model, None, probe=False)
    assert methods == ("saliency", "integrated_gradients", "smoothgrad", "gradcam", "random")
    assert set(skipped) == {"deeplift", "lrp", "guided_backprop"}
    with pytest.raises(ReproError, match=r"--methods: refused on model 'swish_dense': guided_backprop: the paper's"):
        resolve_methods(model, ["saliency", "guided_backprop"], probe=False)
    assert resolve_methods(model, ["saliency"], probe=False) == (("saliency",), {})


def test_lrp_on_many_batchnorm_layers_is_skipped_by_default_and_tried_when_asked_for():
    import tensorflow as tf

    from repro.attributions.support import LRP_BATCHNORM_LIMIT

    L = tf.keras.layers
    inp = L.Input((8, 8, 3), name="image")
    x = inp
    for i in range(LRP_BATCHNORM_LIMIT + 1):
        x = L.Activation("relu", name=f"relu{i}")(L.BatchNormalization(name=f"bn{i}")(L.Conv2D(4, 3, padding="same",
                                                                                              name=f"conv{i}")(x)))
    out = L.Dense(3, activation="softmax", name="predictions")(L.Flatten(name="flatten")(x))
    model = nets.wrap(tf.keras.Model(inp, out, name="deep_bn"))
    methods, skipped = resolve_methods(model, None, probe=False)
    assert "lrp" not in methods and "BatchNormalization layers (17 here" in skipped["lrp"]
    assert resolve_methods(model, ["lrp"], probe=False) == (("lrp",), {})


def test_guided_backprop_is_refused_because_the_override_would_not_reach_the_activation():
    """On a ReLU6 or swish network the 'guided' map is exactly the plain gradient x input: nothing is guided."""
    x = np.random.default_rng(0).uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    targets = np.array([0, 1])
    for kind in ("relu6", "swish"):
        model = nets.wrap(nets.conv_net(kind))
        np.testing.assert_allclose(get_method("guided_backprop")(model, x, targets),
                                   get_method("saliency")(model, x, targets), rtol=1e-6, atol=1e-7)
    relu = nets.wrap(nets.conv_net("plain"))
    assert not np.allclose(get_method("guided_backprop")(relu, x, targets), get_method("saliency")(relu, x, targets))


LIBRARY_FAILURES = {
    ("relu6_dense", "lrp"): "NotImplementedError",
    ("swish_dense", "lrp"): "NotImplementedError",
    ("zeropad_dense", "lrp"): "do not fit the first layer's input",
    ("plain_layer", "lrp"): "Keyword argument not understood",
    ("residual_bn", "deeplift"): "is not a chain of layers",
    ("zeropad_dense", "deeplift"): "cannot convert: pad (ZeroPadding2D)",
}
"""What the library itself says when a refused method is run anyway."""


@pytest.mark.slow
def test_every_verdict_is_what_the_library_does():
    from repro.attributions.graph_worker import close_workers

    x = np.random.default_rng(0).uniform(0, 1, (1, 16, 16, 3)).astype(np.float32)
    try:
        for name in ("residual_bn",):  # accepted methods run (the probe runs each: LRP on BatchNorm + residual Add)
            model = nets.wrap(build(name))
            support = check_support(model, probe=True)
            assert set(support.refused) == set(REFUSED[name]), support.lines()
            close_workers()
        for (name, method), failure in LIBRARY_FAILURES.items():  # refused methods fail when run anyway
            model = nets.wrap(build(name))
            with pytest.raises(ReproError, match=re.escape(failure)):
                get_method(method)(model, x, np.array([0]))
            close_workers()
    finally:
        close_workers()
