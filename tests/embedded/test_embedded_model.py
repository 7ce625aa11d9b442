"""The shipped embedded model: architecture limited to supported layer types, loading, errors, held-out accuracy."""

import json

import numpy as np
import pytest

from repro.data.shapes import CLASS_NAMES, generate_arrays
from repro.embedded.model import REPORT_FILE, WEIGHTS_FILE, build_embedded, load_embedded
from repro.errors import WeightsNotFoundError
from repro.models import load_model, unit_preprocess

ALLOWED = {"Conv2D", "MaxPooling2D", "Flatten", "Dense"}
ACCURACY_MARGIN = 0.03
"""Allowed shortfall of the accuracy on a fresh 200-image held-out slice below the reported accuracy: three
binomial standard errors at p = 0.97, n = 200 (sqrt(0.97 * 0.03 / 200) = 0.012)."""


@pytest.fixture(scope="module")
def model():
    return load_embedded()


@pytest.fixture(scope="module")
def report():
    return json.loads(REPORT_FILE.read_text())


def test_architecture_uses_only_layers_every_method_supports():
    keras_model = build_embedded()
    kinds = [layer.__class__.__name__ for layer in keras_model.layers]
    assert set(kinds) <= ALLOWED, kinds
    convs = [layer for layer in keras_model.layers if layer.__class__.__name__ == "Conv2D"]
    assert all(c.kernel_size == (3, 3) and c.activation.__name__ == "relu" for c in convs)
    assert keras_model.layers[-1].activation.__name__ == "softmax"
    assert keras_model.output_shape == (None, len(CLASS_NAMES))


def test_loads_shipped_weights_with_the_common_model_interface(model):
    assert model.name == "embedded" and list(model.class_names) == list(CLASS_NAMES)
    assert model.input_shape == (64, 64, 3) and model.num_classes == 3
    convs = [layer.name for layer in model.keras_model.layers if layer.__class__.__name__ == "Conv2D"]
    assert model.conv_layer == convs[-1]
    np.testing.assert_array_equal(model.baseline, np.zeros((64, 64, 3), np.float32))
    assert model.preprocess is unit_preprocess
    assert load_model("embedded").keras_model.count_params() == model.keras_model.count_params()


def test_shipped_files_are_small_and_report_is_complete(report):
    assert WEIGHTS_FILE.stat().st_size < 2 * 1024 * 1024
    for key in ("settings", "test_accuracy", "test_accuracy_per_class", "train_accuracy", "total_seconds"):
        assert key in report
    assert report["settings"]["seed"] == 0 and report["class_names"] == list(CLASS_NAMES)
    assert report["test_accuracy"] >= 0.97  # the target


def test_accuracy_on_a_fresh_held_out_slice(model, report):
    # Images 1500.. of the test split: held out from training and not part of the reported test set either.
    start = report["settings"]["test_size"]
    raw, labels = generate_arrays(report["settings"]["seed"], "test", range(start, start + 200))
    pred = np.argmax(model.predict(unit_preprocess(raw)), axis=1)
    assert np.mean(pred == labels) >= report["test_accuracy"] - ACCURACY_MARGIN


def test_black_image_is_predicted_neither(model):
    # A flat black background without objects is a "neither" scene of the data set.
    probs = model.predict(model.baseline[None])[0]
    assert int(np.argmax(probs)) == CLASS_NAMES.index("neither")


def test_missing_or_foreign_weights_name_the_file(tmp_path):
    with pytest.raises(WeightsNotFoundError, match=r"nope\.h5: no such embedded-model weights file.*make embedded"):
        load_embedded(tmp_path / "nope.h5")
    bad = tmp_path / "bad.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(WeightsNotFoundError, match=r"bad\.h5: not weights of the embedded model"):
        load_embedded(bad)
