"""Grad-CAM's layer, found automatically: the last 4-D feature map before global pooling / flatten (a pooling
window right after the last convolution is stepped over, as the paper's block5_conv3 on VGG16)."""

from __future__ import annotations

import numpy as np
import pytest

import custom_nets as nets
from repro.attributions import get_method
from repro.attributions.gradcam import find_gradcam_layer, gradcam_layer_problem
from repro.errors import ReproError
from repro.models import load_model


def test_the_layer_of_the_small_models():
    assert find_gradcam_layer(nets.residual_bn()) == "block_out"  # after the residual Add, before global pooling
    assert find_gradcam_layer(nets.sequential_softmax()) == "conv2"  # pool2 stepped over
    assert find_gradcam_layer(nets.conv_net("concat")) == "concat"
    assert find_gradcam_layer(nets.conv_net("avgpool")) == "conv"
    assert find_gradcam_layer(nets.conv_net("relu6", "layer")) == "conv_relu6"


def test_the_registered_models_keep_their_layer_and_the_rule_finds_it_too():
    embedded = load_model("embedded")
    assert embedded.conv_layer == "conv4" == find_gradcam_layer(embedded.keras_model)


def test_a_squeeze_output_is_not_a_feature_map():
    """MobileNetV3 / EfficientNet style: a (N, 1, 1, K) output after global pooling is not Grad-CAM's layer."""
    import tensorflow as tf

    L = tf.keras.layers
    inp = L.Input((16, 16, 3), name="image")
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="features")(inp)
    x = L.GlobalAveragePooling2D(keepdims=True, name="squeeze")(x)
    x = L.Conv2D(4, 1, name="logits_conv")(x)
    out = L.Activation("softmax", name="softmax")(L.Flatten(name="flatten")(x))
    assert find_gradcam_layer(tf.keras.Model(inp, out)) == "features"


def test_no_feature_map_and_nested_models_are_refused_with_the_reason():
    import tensorflow as tf

    L = tf.keras.layers
    flat = tf.keras.Sequential([L.InputLayer((4, 4, 3)), L.Flatten(), L.Dense(3, activation="softmax")])
    assert find_gradcam_layer(flat, strict=False) is None
    with pytest.raises(ReproError, match="no layer with a 4-D feature-map output"):
        find_gradcam_layer(flat)
    base = nets.conv_net("plain")
    features = tf.keras.Model(base.input, base.get_layer("conv").output, name="backbone")
    nested = tf.keras.Sequential([L.InputLayer((16, 16, 3)), features, L.GlobalAveragePooling2D(),
                                  L.Dense(3, activation="softmax")])
    assert "nested model 'backbone'" in gradcam_layer_problem(nested, None)


def test_gradcam_layer_override_is_checked_and_used(tmp_path):
    path = tmp_path / "m.keras"
    nets.sequential_softmax().save(path)
    default = load_model(path, preprocess="unit")
    assert default.conv_layer == "conv2"
    other = load_model(path, preprocess="unit", gradcam_layer="conv1")
    assert other.conv_layer == "conv1" and other.name == f"{default.name}+gradcam=conv1"
    with pytest.raises(ReproError, match=r"layer 'fc1' \(Dense\) has output shape \(None, 16\)"):
        load_model(path, preprocess="unit", gradcam_layer="fc1")
    with pytest.raises(ReproError, match="has no layer 'nope'"):
        load_model(path, preprocess="unit", gradcam_layer="nope")
    x = other.preprocess(np.random.default_rng(0).uniform(0, 255, (2, 16, 16, 3)))
    a = get_method("gradcam")(default, x, np.array([0, 1]))
    b = get_method("gradcam")(other, x, np.array([0, 1]))
    assert a.shape == b.shape == (2, 16, 16) and not np.allclose(a, b)
