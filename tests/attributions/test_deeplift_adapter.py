"""The deeplift adapter's layer walk (eager: no graph mode needed to build the conversion list)."""

import numpy as np
import pytest

from repro.attributions.deeplift_adapter import SUPPORTED_LAYERS, _GraphKernel, keras_to_deeplift_config
from repro.errors import ReproError
from repro.testing import small_cnn


def _functional_cnn(extra=None):
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    L = tf.keras.layers
    inp = L.Input((8, 8, 3), name="pixels")
    h = L.Conv2D(4, 3, padding="same", name="c1")(inp)
    h = L.ReLU(name="r1")(h)
    h = L.MaxPooling2D(2, name="p1")(h)
    if extra is not None:
        h = extra(h)
    h = L.Flatten(name="f")(h)
    h = L.Dropout(0.5, name="drop")(h)
    out = L.Dense(3, activation="softmax", name="out")(h)
    return tf.keras.Model(inp, out, name="functional_cnn")


def test_sequential_small_cnn_converts_layer_by_layer_with_weights():
    km = small_cnn().keras_model
    entries = keras_to_deeplift_config(km)
    assert [e["class_name"] for e in entries] == ["Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten",
                                                    "Dense", "Dense"]
    assert entries[0]["config"]["batch_input_shape"] == [None, 16, 16, 3]
    # the softmax is removed: the last Dense is the logit layer
    assert entries[-1]["config"]["activation"] == "linear"
    assert entries[0]["config"]["activation"] == "relu"
    for entry, layer in zip(entries, [l for l in km.layers]):
        for got, want in zip(entry["config"]["weights"], layer.get_weights()):
            np.testing.assert_array_equal(got, want)


def test_functional_model_with_input_layer_and_relu_layer():
    km = _functional_cnn()
    assert km.layers[0].__class__.__name__ == "InputLayer"
    entries = keras_to_deeplift_config(km)
    assert [e["class_name"] for e in entries] == ["Conv2D", "Activation", "MaxPooling2D", "Flatten", "Dropout",
                                                    "Dense"]
    assert entries[1]["config"]["activation"] == "relu"  # keras ReLU layer -> deeplift Activation("relu")
    assert entries[0]["config"]["batch_input_shape"] == [None, 8, 8, 3]
    assert entries[-1]["config"]["activation"] == "linear"


def test_rejects_batch_normalization_with_the_layer_named():
    import tensorflow as tf

    km = _functional_cnn(extra=tf.keras.layers.BatchNormalization(name="bn"))
    with pytest.raises(ReproError, match=r"cannot convert: bn \(BatchNormalization\).*Supported: InputLayer"):
        keras_to_deeplift_config(km)


def test_rejects_non_relu_activation_and_lists_every_offender():
    import tensorflow as tf

    L = tf.keras.layers
    km = tf.keras.Sequential([L.InputLayer((4, 4, 1)), L.Conv2D(2, 3, activation="tanh", name="ct"),
                              L.GlobalAveragePooling2D(name="gap"), L.Dense(2, activation="softmax")])
    with pytest.raises(ReproError, match=r"ct \(Conv2D with activation 'tanh'\), gap \(GlobalAveragePooling2D\)"):
        keras_to_deeplift_config(km)


def test_rejects_a_skip_connection():
    import tensorflow as tf

    L = tf.keras.layers
    inp = L.Input((4, 4, 1))
    a = L.Conv2D(1, 3, padding="same", name="a")(inp)
    s = L.Add(name="skip")([inp, a])
    out = L.Dense(2, activation="softmax")(L.Flatten()(s))
    with pytest.raises(ReproError, match="cannot convert: skip \\(Add\\)|not a chain"):
        keras_to_deeplift_config(tf.keras.Model(inp, out))


def test_supported_layers_cover_the_issue_list():
    assert {"Conv2D", "MaxPooling2D", "Flatten", "Dense", "ReLU"} <= set(SUPPORTED_LAYERS)


def test_kernel_proxy_conversion_is_registered_once_per_process(monkeypatch):
    """The registration is the class's own state (no graph mode needed: a stand-in records the calls)."""
    monkeypatch.setattr(_GraphKernel, "_conversion_registered", False)  # restored after the test
    registered = []

    class FakeTF1:
        def register_tensor_conversion_function(self, cls, fn):
            registered.append(cls)

    _GraphKernel.register_conversion(FakeTF1())
    _GraphKernel.register_conversion(FakeTF1())
    assert registered == [_GraphKernel]
