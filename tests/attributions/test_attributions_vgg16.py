"""Every in-process method on VGG16(weights=None) at 224x224, one image (a handful of forwards each)."""

import numpy as np
import pytest

from repro.attributions import get_method

SMALL = {"integrated_gradients": {"steps": 4, "batch_size": 4}, "smoothgrad": {"samples": 4, "batch_size": 4}}


@pytest.fixture(scope="module")
def vgg16():
    from repro.models import load_vgg16

    return load_vgg16(weights=None)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["saliency", "integrated_gradients", "smoothgrad", "guided_backprop", "gradcam",
                                  "random"])
def test_method_runs_on_vgg16(name, vgg16):
    raw = np.random.default_rng(0).uniform(0, 255, size=(1, 224, 224, 3)).astype(np.float32)
    x = vgg16.preprocess(raw)
    maps = get_method(name, **SMALL.get(name, {}))(vgg16, x, np.array([7]))
    assert maps.shape == ((1, 224, 224) if name in ("gradcam", "random") else (1, 224, 224, 3))
    assert maps.dtype == np.float32 and np.all(np.isfinite(maps))
    if name == "gradcam":
        assert maps.min() >= 0
