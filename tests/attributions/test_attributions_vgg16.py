"""Every method on VGG16(weights=None) at 224x224, one image: the in-process ones (a handful of forwards each) and
the two graph-mode workers (DeepLIFT and LRP, whose workers stay up for the other tests of the ``vgg16`` group)."""

import numpy as np
import pytest

from repro.attributions import get_method
from repro.testing import random_images

SMALL = {"integrated_gradients": {"steps": 4, "batch_size": 4}, "smoothgrad": {"samples": 4, "batch_size": 4}}

pytestmark = pytest.mark.xdist_group("vgg16")  # one process shares tests/conftest.py's vgg16 and its workers


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


@pytest.mark.slow
def test_both_graph_methods_run_on_vgg16_at_224(vgg16):
    x = vgg16.preprocess(random_images(1, (224, 224, 3), seed=7))
    target = np.array([3])
    delta = (vgg16.logits_model(x).numpy()[0, 3] - vgg16.logits_model(vgg16.baseline[None]).numpy()[0, 3])
    for name in ("deeplift", "lrp"):
        maps = get_method(name)(vgg16, x, target)
        assert maps.shape == (1, 224, 224, 3) and maps.dtype == np.float32 and np.isfinite(maps).all()
        assert np.abs(maps).max() > 0
        if name == "deeplift":
            # deeplift's only max-pooling rule is the gradient rule, so on VGG16 summation-to-delta is not exact
            # (the reference's pooled activations differ near the borders); docs/methods.md records the measured
            # gap. Only the sign is a property of the method here: a large relative gap would flag a wrong target.
            assert np.sign(maps.sum()) == np.sign(delta)
