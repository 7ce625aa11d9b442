"""Your own model from a .keras / .h5 file: loaded back through the registry's load_model, it gives the same
criteria as the in-memory model (to 1e-6), and every problem of the file is refused in one line."""

from __future__ import annotations

import numpy as np
import pytest

import custom_nets as nets
from repro.criteria import evaluate
from repro.errors import ReproError
from repro.models import ImageModel, load_model, preprocess_function, top1_targets

pytestmark = pytest.mark.filterwarnings("ignore:You are saving your model as an HDF5 file")

CRITERIA = ("n_ord", "s_ord", "tpn", "tps")


def _raw(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 255, (n, size, size, 3)).astype(np.float32)


@pytest.mark.parametrize("build", [nets.residual_bn, nets.sequential_softmax])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_the_criteria_of_a_saved_and_reloaded_model_agree_with_the_model_in_memory(build, suffix, tmp_path):
    keras_model = build()
    path = tmp_path / f"model{suffix}"
    keras_model.save(path)
    in_memory = ImageModel("memory", keras_model, preprocess_function("tf"), ["a", "b", "c", "d"], "")
    loaded = load_model(path, preprocess="tf")
    assert loaded.name.startswith("file:model:") and loaded.name.endswith(":tf")
    raw = _raw(3)
    x = in_memory.preprocess(raw)
    np.testing.assert_array_equal(loaded.preprocess(raw), x)
    np.testing.assert_array_equal(loaded.baseline, np.full((16, 16, 3), -1.0, np.float32))  # black, tf mode
    targets = top1_targets(in_memory, x)
    np.testing.assert_array_equal(top1_targets(loaded, x), targets)
    maps = np.random.default_rng(1).normal(size=(3, 16, 16)).astype(np.float32)
    for score in ("logit", "probability"):
        want = evaluate(in_memory, x, maps, targets=targets, steps=8, score=score)
        got = evaluate(loaded, x, maps, targets=targets, steps=8, score=score)
        for name in CRITERIA:
            np.testing.assert_allclose(getattr(got, name), getattr(want, name), rtol=1e-6, atol=1e-6,
                                       err_msg=f"{name} ({score})")


def test_a_model_file_needs_its_preprocessing(tmp_path):
    path = tmp_path / "m.keras"
    nets.sequential_softmax().save(path)
    with pytest.raises(ReproError, match=r"m\.keras: say how raw RGB .* --preprocess caffe\|tf\|torch\|unit\|none"):
        load_model(path)
    with pytest.raises(ReproError, match="unknown --preprocess 'bgr'"):
        load_model(path, preprocess="bgr")
    with pytest.raises(ReproError, match="--weights is for named networks"):
        load_model(path, "imagenet", preprocess="none")


def test_missing_damaged_and_foreign_files_are_refused_in_one_line(tmp_path):
    with pytest.raises(ReproError, match="absent.keras: no such file"):
        load_model(tmp_path / "absent.keras", preprocess="unit")
    bad = tmp_path / "damaged.h5"
    bad.write_bytes(b"not an hdf5 file")
    with pytest.raises(ReproError, match=r"damaged\.h5: Keras cannot load it") as err:
        load_model(bad, preprocess="unit")
    assert "\n" not in str(err.value)


def test_a_free_input_size_needs_input_size_and_a_fixed_one_must_match(tmp_path):
    import tensorflow as tf

    L = tf.keras.layers
    inp = L.Input((None, None, 3), name="image")
    x = L.Conv2D(4, 3, padding="same", activation="relu", name="conv")(inp)
    out = L.Dense(3, activation="softmax", name="predictions")(L.GlobalAveragePooling2D(name="gap")(x))
    path = tmp_path / "free.keras"
    tf.keras.Model(inp, out).save(path)
    with pytest.raises(ReproError, match=r"its input size is free .*give --input-size"):
        load_model(path, preprocess="unit")
    model = load_model(path, preprocess="unit", input_size=20)
    assert model.input_shape == (20, 20, 3) and model.conv_layer == "conv"
    fixed = tmp_path / "fixed.h5"
    nets.sequential_softmax().save(fixed)
    assert load_model(fixed, preprocess="unit", input_size=16).input_shape == (16, 16, 3)
    with pytest.raises(ReproError, match="its input is 16x16, not --input-size 32"):
        load_model(fixed, preprocess="unit", input_size=32)


def test_a_changed_file_is_a_different_model_for_the_map_cache(tmp_path):
    path = tmp_path / "m.keras"
    nets.sequential_softmax(seed=0).save(path)
    first = load_model(path, preprocess="unit").name
    assert load_model(path, preprocess="unit").name == first
    assert load_model(path, preprocess="caffe").name != first
    nets.sequential_softmax(seed=1).save(path)
    assert load_model(path, preprocess="unit").name != first
