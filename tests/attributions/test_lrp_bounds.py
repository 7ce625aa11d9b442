"""The z^B rule's pixel box in model space (numpy only; the LRP rule itself is tested in test_graph_worker.py)."""

import numpy as np

from repro.attributions.lrp import pixel_bounds
from repro.models import CAFFE_BGR_MEANS, unit_preprocess, vgg16_preprocess


def test_vgg16_box_is_minus_means_to_255_minus_means():
    low, high = pixel_bounds(vgg16_preprocess, (2, 3, 3))
    assert low.shape == high.shape == (2, 3, 3)
    np.testing.assert_allclose(low, np.broadcast_to(-CAFFE_BGR_MEANS, (2, 3, 3)), atol=1e-4)
    np.testing.assert_allclose(high, np.broadcast_to(255.0 - CAFFE_BGR_MEANS, (2, 3, 3)), atol=1e-4)


def test_unit_box_is_zero_one():
    low, high = pixel_bounds(unit_preprocess, (2, 2, 3))
    np.testing.assert_array_equal(low, 0.0)
    np.testing.assert_array_equal(high, 1.0)
