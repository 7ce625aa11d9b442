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


def test_every_map_reading_of_a_method_is_a_parameter_in_its_cache_key(setup):
    """The readings ``input_reference`` and ``guided_backprop`` (repro.readings.MAP_READINGS) are method
    parameters: each value constructs, shows in ``params()`` (so a changed value is a new cache key) and, apart
    from the default, changes the map on a model whose black image is not 0 in model space."""
    from repro.models import ImageModel
    from repro.readings import DEFAULTS, MAP_READINGS, READINGS

    model, x, targets = setup
    shifted = ImageModel("shifted", model.keras_model, lambda raw: np.asarray(raw, np.float32) / 255 - 0.5,
                         model.class_names, model.conv_layer)
    parameter = {"input_reference": "input_reference", "guided_backprop": "variant"}
    for reading, parameter_name in parameter.items():
        for name in MAP_READINGS[reading]:
            default = get_method(name, **FAST.get(name, {}))
            assert default.params()[parameter_name] == DEFAULTS[reading]
            base_maps = default(shifted, x, targets)
            for value in READINGS[reading][1:]:
                other = get_method(name, **FAST.get(name, {}), **{parameter_name: value})
                assert other.params()[parameter_name] == value and other.params() != default.params()
                assert np.abs(other(shifted, x, targets) - base_maps).max() > 1e-3 * np.abs(base_maps).max()
