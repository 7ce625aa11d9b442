"""keras.applications networks by name through the one registry: constructor, preprocessing of their own module,
input size, Grad-CAM layer, weights (no download in the tests: random weights, seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from repro.errors import ReproError, WeightsNotFoundError
from repro.models import MODELS, load_model, model_loader, preprocess_function
from repro.models.applications import CONSTRUCTORS, NETWORKS, keras_module
from repro.models.preprocessing import MODULE_MODES, keras_module_preprocess

ISSUE_NETWORKS = ("ResNet50", "InceptionV3", "MobileNetV2", "DenseNet121", "EfficientNetB0")


def test_every_keras_application_is_registered_by_lower_case_name():
    import tensorflow as tf

    apps = tf.keras.applications
    constructors = {n for n in dir(apps) if n[0].isupper() and callable(getattr(apps, n))}
    assert set(NETWORKS) == constructors - {"VGG16"}
    for name in ISSUE_NETWORKS:
        assert MODELS[name.lower()] == f"repro.models.applications:load_{name.lower()}"
        assert model_loader(name) is model_loader(name.lower())  # any case
    assert MODELS["vgg16"] == "repro.models.vgg16:load_vgg16"  # the paper's loader is kept


def test_each_module_preprocess_input_is_the_mode_it_is_documented_as():
    raw = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype(np.float32)
    modules = {keras_module(c) for c in CONSTRUCTORS.values()}
    assert modules <= set(MODULE_MODES)
    for module in modules:
        keep = raw.copy()
        np.testing.assert_allclose(keras_module_preprocess(module)(raw), preprocess_function(MODULE_MODES[module])(raw),
                                   rtol=1e-6, atol=1e-5, err_msg=module)
        np.testing.assert_array_equal(raw, keep)  # never modified in place


def test_resnet50_by_name_random_weights_small_input():
    model = load_model("ResNet50", "random", input_size=32)
    assert model.name == "resnet50@32px" and model.input_shape == (32, 32, 3) and model.num_classes == 1000
    assert model.conv_layer == "conv5_block3_out" and model.class_names[0] == "tench"
    np.testing.assert_allclose(model.baseline[0, 0], [-103.939, -116.779, -123.68], rtol=1e-6)  # caffe, BGR
    again = load_model("resnet50", "random", input_size=32)  # seeded: the same untrained network
    for a, b in zip(model.keras_model.get_weights()[:4], again.keras_model.get_weights()[:4]):
        np.testing.assert_array_equal(a, b)


def test_preprocess_override_is_part_of_the_model_name():
    model = load_model("embedded", preprocess="tf")
    assert model.name == "embedded+tf"
    np.testing.assert_array_equal(model.baseline, np.full((64, 64, 3), -1.0, np.float32))
    assert load_model("embedded").name == "embedded"


def test_mobilenetv2_preprocesses_to_minus_one_and_its_layer_is_out_relu():
    model = load_model("mobilenetv2", "random", input_size=32)
    assert model.conv_layer == "out_relu"
    np.testing.assert_array_equal(model.baseline, np.full((32, 32, 3), -1.0, np.float32))


def test_weights_and_sizes_are_refused_in_one_line(tmp_path):
    with pytest.raises(WeightsNotFoundError, match=r"absent\.h5: no such weights file\. ResNet50 ImageNet weights"):
        load_model("resnet50", tmp_path / "absent.h5")
    with pytest.raises(ReproError, match="takes 64x64 inputs; --input-size 32 is not possible"):
        load_model("embedded", input_size=32)
    with pytest.raises(ReproError, match="unknown model 'resnet': --model takes embedded, vgg16"):
        load_model("resnet")
