"""repro.models.keras3_file: a .keras file written by real Keras 3 (tests/assets/keras3, made by the script
beside it in a throwaway environment) is rebuilt with Keras 2.14 and reproduces the predictions Keras 3 gave; a
layer outside the supported set is refused in one line, and nothing in the file runs."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from repro.errors import ReproError
from repro.models.keras3_file import keras3_version, read_keras3_file
from repro.models.keras_file import read_keras_file

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "keras3"


def test_a_keras3_file_is_recognised_by_its_metadata(tmp_path):
    recorded = np.load(ASSETS / "tiny_keras3_predictions.npz")
    assert keras3_version(ASSETS / "tiny_keras3.keras") == str(recorded["keras_version"]) == "3.15.1"
    assert keras3_version(ASSETS / "tiny_keras3_predictions.npz") is None  # a zip without metadata.json
    old = tmp_path / "old.keras"
    with zipfile.ZipFile(old, "w") as archive:
        archive.writestr("metadata.json", '{"keras_version": "2.14.0"}')
    assert keras3_version(old) is None  # Keras 2's own .keras files load as before


def test_the_rebuilt_model_reproduces_the_predictions_keras3_gave():
    recorded = np.load(ASSETS / "tiny_keras3_predictions.npz")
    model = read_keras_file(ASSETS / "tiny_keras3.keras")  # the project's loader dispatches to the rebuild
    got = model.predict(recorded["inputs"], verbose=0)
    np.testing.assert_allclose(got, recorded["predictions"], rtol=0, atol=1e-6)
    assert [layer.name for layer in model.layers] == ["input", "conv1", "bn1", "pool1", "conv2", "relu2",
                                                      "flatten", "drop", "fc1", "predictions"]
    assert model.get_layer("predictions").get_config()["activation"] == "softmax"  # the logit stays identifiable


def test_a_layer_outside_the_supported_set_is_refused_in_one_line_and_never_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the Lambda would create its marker in the working directory
    with pytest.raises(ReproError) as err:
        read_keras3_file(ASSETS / "lambda_keras3.keras")
    message = str(err.value)
    assert "\n" not in message and "layer 'touch' (Lambda) cannot be mapped to Keras 2.14" in message
    assert "model.save_weights()" in message and "Keras 3.15.1" in message
    assert not os.path.exists(tmp_path / "KERAS3_LAMBDA_WAS_RUN")
