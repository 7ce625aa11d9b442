"""The reading ``perturbation_baseline`` (``black`` / ``zero``) through a chunk of the pipeline
(:func:`repro.stages.compute_chunk`): closed-form N-Ord and S-Ord on a linear model whose black image is not 0 in
model space, and the shortcut on a model whose black image is 0."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from repro.config import StudyConfig
from repro.models import ImageModel, unit_preprocess
from repro.study import Study
from repro.stages import compute_chunk, perturbation_baseline

# two pixels, three channels; only channel 0 has weight: logit_0 = 2 x[p0] + 1 x[p1], logit_1 = -logit_0
W = np.zeros((1, 2, 3, 2), np.float32)
W[0, 0, 0], W[0, 1, 0] = (2.0, -2.0), (1.0, -1.0)
RAW = np.stack([np.full((1, 2, 3), 255.0, np.float32),              # x = (0.5, 0.5) in model space
                np.array([[[255.0] * 3, [0.0] * 3]], np.float32)])  # x = (0.5, -0.5)


def linear_model(preprocess) -> ImageModel:
    import tensorflow as tf

    L = tf.keras.layers
    keras_model = tf.keras.Sequential([L.InputLayer(input_shape=(1, 2, 3)), L.Flatten(),
                                       L.Dense(2, activation="softmax", name="predictions")], name="two_pixels")
    keras_model.get_layer("predictions").set_weights([W.reshape(6, 2), np.zeros(2, np.float32)])
    return ImageModel("two_pixels", keras_model, preprocess, ["a", "b"], "")


def chunk_rows(model: ImageModel, tmp_path, readings=("perturbation_baseline",)) -> dict:
    """The rows of one chunk of both images, Saliency (grad x input = w * x here) only, exact curves:
    ``(image, reading tag, score) -> row``."""
    cfg = StudyConfig(methods=("saliency",), steps=None, readings=readings, num_examples=0, chunk_size=2)
    source = SimpleNamespace(ids=["a", "b"], labels=np.zeros(2, np.int64), load=lambda idx: RAW[idx])
    rows = compute_chunk(Study(cfg=cfg, out=tmp_path, model=model, source=source), 0)
    return {(r["image_id"], r["reading"], r["score"]): r for r in rows}


def test_the_two_baselines_in_model_space():
    shifted = linear_model(lambda raw: np.asarray(raw, np.float32) / 255 - 0.5)
    np.testing.assert_array_equal(perturbation_baseline(shifted, "black"), np.full((1, 2, 3), -0.5))
    np.testing.assert_array_equal(perturbation_baseline(shifted, "zero"), np.zeros((1, 2, 3)))
    with pytest.raises(ValueError, match="unknown perturbation_baseline 'grey'; choose from black, zero"):
        perturbation_baseline(shifted, "grey")


def test_zero_baseline_moves_n_ord_and_s_ord_by_the_closed_form(tmp_path):
    """f = logit_0 = 2 x_0 + x_1 with x = raw / 255 - 0.5, so black is b = -0.5 and the zero reading b = 0.

    Image a, x = (0.5, 0.5), map w * x = (1, 0.5): pi+ = (p0, p1), M = 2, y0 = 1.5.
      black: y_b = -1.5; removing: R = (1.5, -0.5, -1.5), N-Ord = mean(3, 1, 0) = 4/3;
             adding from x_b: R' = (-1.5, 0.5, 1.5), S-Ord = mean(min(R', 1.5)) - 1.5 = 1/6 - 1.5 = -4/3.
      zero:  y_b = 0;    R = (1.5, 0.5, 0), N-Ord = mean(1.5, 0.5, 0) = 2/3;
             R' = (0, 1, 1.5), S-Ord = 5/6 - 1.5 = -2/3.
    Image b, x = (0.5, -0.5), map (1, -0.5): pi+ = (p0), M = 1, y0 = 0.5.
      black: y_b = -1.5; R = (0.5, -1.5), N-Ord = mean(2, 0) = 1; R' = (-1.5, 0.5), S-Ord = -0.5 - 0.5 = -1.
      zero:  y_b = 0;    R = (0.5, -0.5), N-Ord = 0.25;          R' = (0, 1), S-Ord = 0.5 - 0.5 = 0.
    """
    rows = chunk_rows(linear_model(lambda raw: np.asarray(raw, np.float32) / 255 - 0.5), tmp_path)
    expected = {("a", ""): (-1.5, 4 / 3, -4 / 3), ("a", "perturbation_baseline=zero"): (0.0, 2 / 3, -2 / 3),
                ("b", ""): (-1.5, 1.0, -1.0), ("b", "perturbation_baseline=zero"): (0.0, 0.25, 0.0)}
    assert {(i, tag) for i, tag, score in rows} == set(expected)
    for (image, tag), (yb, n_ord, s_ord) in expected.items():
        row = rows[image, tag, "logit"]
        assert row["method"] == "saliency" and row["target"] == 0
        assert (row["yb"], row["n_ord"], row["s_ord"]) == pytest.approx((yb, n_ord, s_ord), abs=1e-5)
        assert row["y0"] == pytest.approx(rows[image, "", "logit"]["y0"])  # same image, same f(x)
    own_only = chunk_rows(linear_model(lambda raw: np.asarray(raw, np.float32) / 255 - 0.5), tmp_path, readings=())
    for key, row in own_only.items():  # the reading's extra forwards leave the run's own numbers as they were
        assert row["n_ord"] == pytest.approx(rows[key]["n_ord"], abs=1e-6)


def test_where_black_is_zero_the_zero_rows_are_the_default_rows(tmp_path):
    """``x = raw / 255``: black is 0 in model space, so both readings are one baseline and one engine pass; the
    ``perturbation_baseline=zero`` rows are the own rows bit for bit."""
    model = linear_model(unit_preprocess)
    assert not np.any(model.baseline)
    rows = chunk_rows(model, tmp_path)
    zero = {key: row for key, row in rows.items() if key[1] == "perturbation_baseline=zero"}
    assert len(zero) == 2 * 2  # images x scores
    for (image, tag, score), row in zero.items():
        assert {**row, "reading": ""} == rows[image, "", score]
