"""Foundation: models, preprocessing, baseline and the score function."""

import numpy as np
import pytest

from repro.errors import WeightsNotFoundError
from repro.models import CAFFE_BGR_MEANS, vgg16_preprocess
from repro.testing import random_images, small_cnn


def test_vgg16_preprocess_of_black_is_minus_caffe_means():
    out = vgg16_preprocess(np.zeros((1, 4, 4, 3), np.float32))
    np.testing.assert_allclose(out[0, 0, 0], -np.array([103.939, 116.779, 123.68]), rtol=0, atol=1e-5)
    np.testing.assert_allclose(out[0, 2, 3], -CAFFE_BGR_MEANS, atol=1e-5)


def test_vgg16_preprocess_flips_to_bgr_and_does_not_mutate():
    raw = np.zeros((1, 1, 1, 3), np.float32)
    raw[..., 0] = 200.0  # red
    before = raw.copy()
    out = vgg16_preprocess(raw)
    np.testing.assert_array_equal(raw, before)
    np.testing.assert_allclose(out[0, 0, 0], [-103.939, -116.779, 200.0 - 123.68], atol=1e-4)


def test_score_function_probabilities_sum_to_one_and_match_softmax_of_logits():
    m = small_cnn()
    x = m.preprocess(random_images(5))
    probs = m.score_model("probability")(x).numpy()
    logits = m.score_model("logit")(x).numpy()
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    softmax = np.exp(logits - logits.max(1, keepdims=True))
    softmax /= softmax.sum(1, keepdims=True)
    np.testing.assert_allclose(probs, softmax, atol=1e-6)


def test_predict_is_the_keras_forward_and_traces_once_across_calls():
    m = small_cnn()
    x = m.preprocess(random_images(4))
    expected = m.keras_model(x, training=False).numpy()
    for _ in range(3):
        np.testing.assert_allclose(m.predict(x, batch_size=4), expected, atol=1e-6)
    assert m._cache["forward"].experimental_get_tracing_count() == 1


def test_logits_model_shares_weights():
    m = small_cnn()
    x = m.preprocess(random_images(2))
    last = m.keras_model.layers[-1]
    before = m.logits_model(x).numpy()
    last.bias.assign(last.bias + 1.0)
    np.testing.assert_allclose(m.logits_model(x).numpy(), before + 1.0, atol=1e-5)


def test_missing_local_weights_file_names_the_file(tmp_path):
    from repro.models import build_vgg16

    with pytest.raises(WeightsNotFoundError, match="nope.h5: no such weights file.*~/.keras/models"):
        build_vgg16(tmp_path / "nope.h5")


@pytest.mark.slow
@pytest.mark.xdist_group("vgg16")
def test_vgg16_without_weights_builds_and_predicts(vgg16):
    m = vgg16  # tests/conftest.py: load_vgg16(weights=None), built once for the vgg16 group
    assert m.input_shape == (224, 224, 3) and m.num_classes == 1000
    assert m.conv_layer == "block5_conv3" and len(m.class_names) == 1000
    np.testing.assert_allclose(m.baseline[0, 0], -CAFFE_BGR_MEANS, atol=1e-5)
    p = m.predict(m.preprocess(np.zeros((1, 224, 224, 3), np.float32)))
    assert p.shape == (1, 1000)
    np.testing.assert_allclose(p.sum(), 1.0, atol=1e-5)


def test_registry_names_loaders_and_cli_choices():
    import argparse

    from repro.commands import attribute, evaluate
    from repro.models import MODEL_NAMES, MODELS, SCORE_MODES, model_loader

    assert MODEL_NAMES == tuple(MODELS) and MODEL_NAMES[:2] == ("embedded", "vgg16")
    assert {"resnet50", "inceptionv3", "mobilenetv2", "densenet121", "efficientnetb0"} <= set(MODELS)
    assert all(callable(model_loader(name)) for name in MODELS)
    for command in (attribute, evaluate):
        parser = argparse.ArgumentParser()
        command.add_arguments(parser)
        choices = {a.dest: a.choices for a in parser._actions}
        assert choices["model"] is None  # a registry name (checked by load_model) or a model file
        if "score" in choices:
            assert tuple(choices["score"]) == SCORE_MODES


def test_unknown_model_lists_the_registered_names():
    from repro.errors import ReproError
    from repro.models import load_model

    with pytest.raises(ReproError, match="unknown model 'resnet': --model takes embedded, vgg16, any other"):
        load_model("resnet")


def test_no_import_circle_between_core_registry_and_families():
    """The core imports no model family; a family imports the core, never the registry's loaders."""
    import subprocess
    import sys

    code = ("import sys; import repro.models; assert 'repro.embedded.model' not in sys.modules; "
            "import repro.embedded.model as e; assert e.ImageModel is repro.models.ImageModel")
    subprocess.run([sys.executable, "-c", code], check=True)
    import ast
    from pathlib import Path

    import repro.models.core as core

    tree = ast.parse(Path(core.__file__).read_text())
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in imported if m and (m.startswith("repro.models") or m.startswith("repro.embedded"))}


def test_top1_targets_of_an_image_model_and_of_its_keras_model_agree():
    from repro.models import top1_targets

    m = small_cnn()
    x = m.preprocess(random_images(7))
    expected = np.argmax(m.keras_model(x, training=False).numpy(), axis=-1)
    for model in (m, m.keras_model, lambda t: m.keras_model(t, training=False)):
        for batch_size in (1, 3, 32):
            got = top1_targets(model, x, batch_size=batch_size)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, expected)


def test_score_function_rule():
    import gc
    import weakref

    from repro.models import score_function

    m = small_cnn()
    assert score_function(m) is m.keras_model is score_function(m, "probability")
    assert score_function(m, "logit") is m.logits_model
    assert score_function(m.keras_model, "probability") is m.keras_model
    logits = score_function(m.keras_model, "logit")
    assert score_function(m.keras_model, "logit") is logits  # built once: the engine compiled for it is reused
    x = m.preprocess(random_images(2))
    np.testing.assert_allclose(logits(x).numpy(), m.logits_model(x).numpy(), atol=1e-6)
    plain = lambda t: t  # noqa: E731
    assert score_function(plain) is plain
    with pytest.raises(ValueError, match="used as they are"):
        score_function(plain, "probability")
    with pytest.raises(ValueError, match="unknown score"):
        score_function(m, "softmax")
    ref = weakref.ref(m.keras_model)
    del m, logits
    gc.collect()
    assert ref() is None  # the logits cache does not keep the Keras model alive
