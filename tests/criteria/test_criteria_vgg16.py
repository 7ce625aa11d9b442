"""The engine on VGG16 (weights=None) at 224 x 224 with its non-zero Caffe baseline: a handful of forwards."""

import numpy as np
import pytest


@pytest.mark.slow
@pytest.mark.xdist_group("vgg16")  # tests/conftest.py's vgg16, shared by one process
def test_vgg16_all_positive_map_reaches_baseline_and_original(vgg16):
    from repro.criteria import evaluate

    model = vgg16
    assert np.allclose(model.baseline[0, 0], [-103.939, -116.779, -123.68])
    raw = np.random.default_rng(0).uniform(0, 255, size=(1, 224, 224, 3)).astype(np.float32)
    x = model.preprocess(raw)
    maps = np.random.default_rng(1).uniform(0.1, 1.0, size=(1, 224, 224))  # every pixel positive: M = P
    res = evaluate(model, x, maps, targets=np.array([7]), steps=2, batch_size=8, score="probability")
    c = res.curves[0]
    assert res.num_positive[0] == 224 * 224
    # Removing all of pi+ = every pixel is the baseline image itself; adding all of pi+ into x_b gives back x.
    probs_x, probs_b = model.predict(np.concatenate([x, model.baseline[None]]))[:, 7]
    assert c.necessity.y[-1] == pytest.approx(probs_b, abs=1e-6)
    assert c.sufficiency.y[-1] == pytest.approx(probs_x, abs=1e-6)
    assert res.y0[0] == pytest.approx(probs_x, abs=1e-6) and res.yb[0] == pytest.approx(probs_b, abs=1e-6)
    assert np.isfinite([res.n_ord[0], res.s_ord[0], res.tpn[0], res.tps[0]]).all()
    # K = 2: top curves at m in {0, P/2} U {k-spaced} U {P}, bottom at k-spaced counts: a few forwards only.
    assert res.num_forwards <= 2 + 2 * (4 - 1) + 2 * (3 - 2)
