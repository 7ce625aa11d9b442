"""No input that yields a plausible wrong number, and one set of defaults: maps in a layout other than those
accepted are refused (a channels-first map is named as such) by the API and by ``repro evaluate``; the API and the
CLI give the same numbers for the same model, images and maps without options; the API says which settings made
its numbers; raw pixels given to the API get one warning per call; a model without a softmax is refused by both."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from repro.cli import main
from repro.criteria import evaluate
from repro.criteria.adaptive import DEFAULT_STEPS, DEFAULT_TOL
from repro.criteria.layouts import map_layout_problem
from repro.readings import DEFAULTS
from repro.testing import linear_classifier, random_images

SHAPE = (8, 8, 3)


def one_line(err: str) -> str:
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


# ------------------------------------------------------------------------------------------------ layouts

@pytest.mark.parametrize("shape, expected", [
    ((4, 8, 8), ""),
    ((4, 8, 8, 3), ""),
    ((4, 8, 8, 1), ""),
    ((4, 3, 8, 8), "maps have shape (4, 3, 8, 8): 8 channels for images with 3; expected (P, 8, 8), (P, 8, 8, 3) or "
                   "(P, 8, 8, 1); it looks like channels first ((8, 8, 3) read in the order (3, 8, 8)): use "
                   "np.transpose(maps, (0, 2, 3, 1))"),
    ((4, 4, 8), "maps have shape (4, 4, 8): 4 x 8 for images of 8 x 8; pass resize_maps=True (--resize-maps) to "
                "upsample coarser maps; expected (P, 8, 8), (P, 8, 8, 3) or (P, 8, 8, 1)"),
    ((4, 16, 8), "maps have shape (4, 16, 8): 16 x 8 for images of 8 x 8; expected (P, 8, 8), (P, 8, 8, 3) or "
                 "(P, 8, 8, 1)"),
    ((4, 8), "maps have shape (4, 8), expected (P, 8, 8), (P, 8, 8, 3) or (P, 8, 8, 1)"),
    ((4, 8, 0), "maps have shape (4, 8, 0), with an empty axis; every size must be at least 1"),
])
def test_the_accepted_layouts_and_what_every_other_one_is_told(shape, expected):
    assert map_layout_problem(shape, SHAPE) == expected


def test_height_and_width_swapped_is_named_and_coarser_maps_pass_only_when_asked():
    assert map_layout_problem((2, 6, 4), (4, 6, 3)).endswith(
        "it looks like height and width swapped ((4, 6) read in the order (6, 4)): use np.transpose(maps, (0, 2, 1))")
    assert map_layout_problem((2, 2, 3), (4, 6, 3), resize=True) == ""
    assert map_layout_problem((2, 2, 3), (4, 6, 3)) != ""


def test_the_api_refuses_channels_first_maps_instead_of_reading_them_as_coarse_ones():
    model = linear_classifier(SHAPE)
    x = model.preprocess(random_images(2, SHAPE))
    hwc = np.random.default_rng(0).normal(size=(2, *SHAPE)).astype(np.float32)
    with pytest.raises(ValueError, match=re.escape("channels first")):
        evaluate(model, x, hwc.transpose(0, 3, 1, 2), steps=4)
    coarse = hwc[:, ::2, ::2].sum(-1)
    with pytest.raises(ValueError, match="resize_maps=True"):
        evaluate(model, x, coarse, steps=4)
    assert np.isfinite(evaluate(model, x, coarse, steps=4, resize_maps=True).y0).all()


# ------------------------------------------------------------------------------------------------ the CLI

@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Three raw images of the embedded model's size, plain-gradient-like maps (HWC), the same channels first."""
    from repro.embedded.model import load_embedded

    folder = tmp_path_factory.mktemp("inputs")
    model = load_embedded()
    raw = np.random.default_rng(0).uniform(0, 255, (3, *model.input_shape)).astype(np.float32)
    maps = np.random.default_rng(1).normal(size=raw.shape).astype(np.float32)
    np.save(folder / "images.npy", raw)
    np.save(folder / "grad.npy", maps)
    np.save(folder / "grad_chw.npy", maps.transpose(0, 3, 1, 2))
    return folder, model, raw, maps


def test_the_cli_refuses_channels_first_maps_in_one_line_naming_the_file(files, tmp_path, capsys):
    folder, model, _, _ = files
    H, W, C = model.input_shape
    argv = ["evaluate", "--images", str(folder / "images.npy"), "--maps", str(folder / "grad_chw.npy"),
            "--out", str(tmp_path / "r.csv"), "--steps", "4"]
    assert main(argv) == 2
    line = one_line(capsys.readouterr().err)
    assert f"{folder / 'grad_chw.npy'}: maps have shape (3, {C}, {H}, {W})" in line
    assert "it looks like channels first" in line and "np.transpose(maps, (0, 2, 3, 1))" in line
    assert not (tmp_path / "r.csv").exists()


def test_the_api_and_the_cli_give_the_same_numbers_without_options(files, tmp_path, capsys):
    folder, model, raw, maps = files
    out = tmp_path / "r.csv"
    assert main(["evaluate", "--images", str(folder / "images.npy"), "--maps", str(folder / "grad.npy"),
                 "--out", str(out)]) == 0
    with open(out, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["score"] == DEFAULTS["score"]]
    res = evaluate(model, model.preprocess(raw), maps)  # no options: the study's defaults
    assert res.settings == {"score": "logit", "steps": DEFAULT_STEPS, "tol": DEFAULT_TOL, "eps": res.settings["eps"],
                            "batch_size": 64}
    assert res.score == "logit" and res.steps == "adaptive"
    for name in ("n_ord", "s_ord", "tpn", "tps", "y0", "yb"):
        np.testing.assert_array_equal([float(r[name]) for r in rows], getattr(res, name), err_msg=name)


# ------------------------------------------------------------------------------------------------ warnings and refusals

def test_raw_pixels_given_to_the_api_get_one_warning_per_call(files, capsys):
    _, model, raw, maps = files
    evaluate(model, raw, maps, steps=4)  # raw 0..255 where model-space inputs are expected
    err = capsys.readouterr().err
    warnings = [ln for ln in err.splitlines() if "warning" in ln]
    assert len(warnings) == 1, err
    assert "3 of 3 images have values in [" in warnings[0] and "model.preprocess(raw)" in warnings[0]
    evaluate(model, model.preprocess(raw), maps, steps=4)
    assert "warning" not in capsys.readouterr().err


def test_a_model_without_a_softmax_is_refused_by_the_api_by_default_as_by_the_cli(tmp_path, capsys):
    import tensorflow as tf

    inputs = tf.keras.Input(SHAPE)
    outputs = tf.keras.layers.Dense(3)(tf.keras.layers.Flatten()(inputs))  # no softmax: no identifiable logit
    keras_model = tf.keras.Model(inputs, outputs)
    x = random_images(2, SHAPE) / 255.0
    maps = np.ones((2, 8, 8), np.float32)
    with pytest.raises(ValueError, match="score='logit' needs an ImageModel or a Keras model ending in a softmax"):
        evaluate(keras_model, x, maps, baseline=np.zeros(SHAPE, np.float32), steps=4)
    res = evaluate(keras_model, x, maps, baseline=np.zeros(SHAPE, np.float32), steps=4, score=None)  # opted in
    assert res.score == "output" and res.settings["score"] == "output"
    keras_model.save(tmp_path / "plain.keras")
    np.save(tmp_path / "images.npy", random_images(2, SHAPE))
    np.save(tmp_path / "maps.npy", maps)
    assert main(["evaluate", "--model", str(tmp_path / "plain.keras"), "--preprocess", "none", "--images",
                 str(tmp_path / "images.npy"), "--maps", str(tmp_path / "maps.npy"),
                 "--out", str(tmp_path / "r.csv")]) == 2
    assert "softmax" in one_line(capsys.readouterr().err)
