"""The one test every registered method passes: shape, dtype, finiteness, determinism, batch independence."""

import json

import numpy as np
import pytest

from repro.attributions import METHODS, get_method
from repro.testing import random_images, small_cnn

GRAPH_WORKER = {"deeplift", "lrp"}
"""Run in a TF1 worker process: their contract is tested in tests/attributions/test_graph_worker.py."""
EAGER_METHODS = [m for m in METHODS if m not in GRAPH_WORKER]
FAST = {"integrated_gradients": {"steps": 6}, "smoothgrad": {"samples": 6}}
"""Fewer path points / noisy samples than Appendix II, to keep the contract test quick."""
CHANNEL_FREE = {"gradcam", "random"}
"""Methods with one score per pixel, (N, H, W)."""


@pytest.fixture(scope="module")
def setup():
    model = small_cnn(seed=7)
    x = model.preprocess(random_images(3, model.input_shape, seed=8))
    return model, x, np.array([2, 0, 1])


@pytest.mark.parametrize("name", EAGER_METHODS)
def test_every_method_meets_the_contract(name, setup):
    model, x, targets = setup
    method = get_method(name, **FAST.get(name, {}))
    assert method.name == name
    maps = method(model, x, targets)
    n, h, w, c = x.shape
    assert maps.shape == ((n, h, w) if name in CHANNEL_FREE else (n, h, w, c))
    assert maps.dtype == np.float32 and np.all(np.isfinite(maps))
    assert np.abs(maps).max() > 0
    scale = 1e-5 * np.abs(maps).max()
    # same settings (same seed) -> same map, from a fresh instance
    np.testing.assert_allclose(get_method(name, **FAST.get(name, {}))(model, x, targets), maps, rtol=0, atol=scale)
    # one image at a time, and the batch reversed, give the same maps
    for i in range(n):
        np.testing.assert_allclose(method(model, x[i:i + 1], targets[i:i + 1])[0], maps[i], rtol=0, atol=scale)
    np.testing.assert_allclose(method(model, x[::-1], targets[::-1])[::-1], maps, rtol=0, atol=scale)
    # batch_size changes speed, not maps, and is not part of the cache key
    if "batch_size" in vars(method):
        one = get_method(name, batch_size=1, **FAST.get(name, {}))
        np.testing.assert_allclose(one(model, x, targets), maps, rtol=0, atol=scale)
        assert "batch_size" not in method.params()
    json.dumps(method.params())  # the cache key is plain data


@pytest.mark.parametrize("name", EAGER_METHODS)
def test_every_method_rejects_bad_targets_and_shapes(name, setup):
    model, x, targets = setup
    method = get_method(name, **FAST.get(name, {}))
    with pytest.raises(ValueError, match="targets must lie in"):
        method(model, x, np.array([0, 1, model.num_classes]))
    with pytest.raises(ValueError, match="images has shape"):
        method(model, x[:, :8], targets)


@pytest.mark.parametrize("name", ["smoothgrad", "random"])
def test_seeded_methods_change_with_the_seed(name, setup):
    model, x, targets = setup
    a = get_method(name, seed=1, **FAST.get(name, {}))(model, x, targets)
    b = get_method(name, seed=2, **FAST.get(name, {}))(model, x, targets)
    assert np.abs(a - b).max() > 1e-3 * np.abs(a).max()
