"""Random: i.i.d. standard normal per pixel, seeded per image."""

import numpy as np

from repro.attributions._common import image_seed
from repro.attributions.random import RandomAttribution
from repro.testing import small_cnn


def test_random_scores_are_standard_normal_per_pixel():
    """4 x 16 x 16 = 1024 draws: mean within 4/sqrt(1024) of 0, std within 10% of 1 (about 4.5 standard errors),
    positive share within 0.5 +- 4 * 0.5/sqrt(1024), and the seeded draw is the numpy one."""
    model = small_cnn()
    x = np.random.default_rng(0).uniform(0, 1, size=(4, 16, 16, 3)).astype(np.float32)
    maps = RandomAttribution(seed=3)(model, x, np.zeros(4, np.int64))
    assert maps.shape == (4, 16, 16) and maps.dtype == np.float32
    assert abs(maps.mean()) < 4 / 32 and abs(maps.std() - 1) < 0.1
    assert abs((maps > 0).mean() - 0.5) < 4 * 0.5 / 32
    expected = np.random.default_rng(image_seed(x[2], 3)).standard_normal((16, 16))
    np.testing.assert_allclose(maps[2], expected, rtol=0, atol=1e-6)


def test_image_seed_depends_on_seed_and_image_bytes_only():
    x = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    s = image_seed(x, 0)
    assert s.shape == (2,) and s.dtype == np.int64 and np.all((0 <= s) & (s < 2 ** 32))
    np.testing.assert_array_equal(s, image_seed(x.astype(np.float64), 0))  # hashed as float32
    assert not np.array_equal(s, image_seed(x, 1))
    y = x.copy()
    y[0, 0, 0] += 1
    assert not np.array_equal(s, image_seed(y, 0))
