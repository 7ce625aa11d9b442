"""Loading a model file never runs code from it unless the user says they trust it: a Lambda layer whose code
touches a marker file, saved as .h5 and as .keras, is refused in one line by the API and by every command that
takes --model, and the marker never appears; with --trust-model-code it loads (and the marker appears: the
positive control that the file's code really would have run)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from repro.cli import main
from repro.errors import ReproError
from repro.models import load_model
from repro.models.model_code import code_layers, read_model_config

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")


def lambda_model_file(path: Path, marker: Path) -> Path:
    """A small classifier whose Lambda layer creates ``marker`` whenever it is built, saved to ``path``; the
    marker its own construction made is removed."""
    import tensorflow as tf

    command = f"touch {marker}"
    inputs = tf.keras.Input((8, 8, 3))
    x = tf.keras.layers.Lambda(lambda t: (os.system(command), t)[1], name="marker_lambda")(inputs)
    x = tf.keras.layers.Flatten()(x)
    outputs = tf.keras.layers.Dense(3, activation="softmax")(x)
    tf.keras.Model(inputs, outputs).save(path)
    marker.unlink(missing_ok=True)
    return path


@pytest.fixture(params=[".h5", ".keras"])
def lambda_file(request, tmp_path) -> tuple[Path, Path]:
    marker = tmp_path / "MARKER"
    return lambda_model_file(tmp_path / f"lambda{request.param}", marker), marker


def one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_the_config_names_the_lambda_layer_without_building_anything(lambda_file):
    path, marker = lambda_file
    assert list(code_layers(read_model_config(path))) == ["marker_lambda"]
    assert not marker.exists()


def test_the_api_refuses_the_file_and_runs_nothing(lambda_file):
    path, marker = lambda_file
    with pytest.raises(ReproError, match=r"layer 'marker_lambda' is a Lambda layer.*--trust-model-code"):
        load_model(path, preprocess="none")
    assert not marker.exists()


def test_trusting_the_file_loads_it_and_its_code_runs(lambda_file):
    path, marker = lambda_file
    model = load_model(path, preprocess="none", trust_code=True)
    assert model.num_classes == 3
    assert marker.exists()  # the positive control: the refused load would have run this code


@pytest.mark.parametrize("command", ["evaluate", "attribute", "reproduce"])
def test_every_command_that_takes_a_model_refuses_it_in_one_line(lambda_file, tmp_path, capsys, command):
    path, marker = lambda_file
    images = tmp_path / "images.npy"
    np.save(images, np.zeros((2, 8, 8, 3), np.float32))
    np.save(tmp_path / "maps.npy", np.ones((2, 8, 8), np.float32))
    folder = tmp_path / "folder"
    folder.mkdir()
    args = {
        "evaluate": ["evaluate", "--model", str(path), "--preprocess", "none", "--images", str(images),
                     "--maps", str(tmp_path / "maps.npy"), "--out", str(tmp_path / "out.csv")],
        "attribute": ["attribute", "--model", str(path), "--preprocess", "none", "--images", str(images),
                      "--out", str(tmp_path / "maps.npz")],
        "reproduce": ["reproduce", "--profile", "custom", "--model", str(path), "--preprocess", "none",
                      "--images", str(folder), "--out", str(tmp_path / "run")],
    }[command]
    assert main(args) == 2
    line = one_line(capsys.readouterr().err)
    assert f"model file {path}: layer 'marker_lambda' is a Lambda layer" in line and "--trust-model-code" in line
    assert not marker.exists()
