"""The documented resize equals Keras's own loader, ``keras.utils.load_img(target_size=(224, 224),
keep_aspect_ratio=True, interpolation="bilinear")``, pixel for pixel (the reference implementation)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from repro.data.images import read_rgb


@pytest.mark.parametrize("height,width", [(375, 500), (500, 375), (224, 224), (1, 1), (3, 2), (301, 300),
                                          (100, 1000)])
def test_read_rgb_matches_keras_load_img_keep_aspect_ratio(tmp_path, height, width):
    load_img = pytest.importorskip("tensorflow").keras.utils.load_img
    rgb = np.random.default_rng(height * 1000 + width).integers(0, 256, (height, width, 3), dtype=np.uint8)
    path = tmp_path / "x.png"
    Image.fromarray(rgb).save(path)
    ours = read_rgb(path, 224)
    keras = np.asarray(load_img(path, target_size=(224, 224), keep_aspect_ratio=True, interpolation="bilinear"),
                       dtype=np.float32)
    np.testing.assert_array_equal(ours, keras)


def test_differs_from_keras_default_squash(tmp_path):
    """Keras's default ``load_img(target_size=...)`` squashes a 2:1 image; ours crops its centre square."""
    load_img = pytest.importorskip("tensorflow").keras.utils.load_img
    rgb = np.zeros((224, 448, 3), np.uint8)
    rgb[:, :112] = 255  # white left quarter, outside the centre square
    path = tmp_path / "wide.png"
    Image.fromarray(rgb).save(path)
    assert read_rgb(path, 224).max() == 0
    assert np.asarray(load_img(path, target_size=(224, 224))).max() == 255
