"""DeepLIFT and LRP through the graph-mode worker: numbers from the rules' closed forms, errors, persistence.

Workers are module-scoped (each start-up imports TensorFlow in a fresh interpreter: several seconds).
"""

import json

import numpy as np
import pytest

from repro.attributions import METHODS, get_method, method_class
from repro.attributions.graph_worker import (_WORKERS, CALL_TIMEOUT_S, START_TIMEOUT_S, WORKER_METHODS, DeepLift,
                                             GraphWorker, LRP, close_workers, get_worker)
from repro.errors import ReproError
from repro.models import CAFFE_BGR_MEANS, ImageModel, vgg16_preprocess
from repro.testing import linear_classifier, random_images, small_cnn


@pytest.fixture(scope="module", autouse=True)
def _close_workers_after_module():
    yield
    close_workers()


def _with_random_bias(model: ImageModel, seed: int = 3) -> ImageModel:
    last = model.keras_model.layers[-1]
    kernel, bias = last.get_weights()
    last.set_weights([kernel, np.random.default_rng(seed).normal(0, 0.5, bias.shape).astype(np.float32)])
    return model


@pytest.fixture(scope="module")
def cnn():
    return small_cnn()


@pytest.fixture(scope="module")
def linear():
    return _with_random_bias(linear_classifier())


# --------------------------------------------------------------------------------------------------- DeepLIFT
def test_deeplift_summation_to_delta_on_small_cnn(cnn):
    """RevealCancel: sum of contributions = logit_t(x) - logit_t(baseline), per image."""
    x = cnn.preprocess(random_images(6))
    targets = np.array([0, 1, 2, 3, 2, 0])
    maps = get_method("deeplift")(cnn, x, targets)
    assert maps.shape == x.shape and maps.dtype == np.float32 and np.isfinite(maps).all()
    logits = cnn.logits_model(x).numpy()
    ref_logits = cnn.logits_model(cnn.baseline[None]).numpy()[0]
    delta = logits[np.arange(6), targets] - ref_logits[targets]
    np.testing.assert_allclose(maps.reshape(6, -1).sum(axis=1), delta, rtol=1e-4, atol=1e-6)


def test_deeplift_worker_persists_batches_and_is_deterministic(cnn):
    x = cnn.preprocess(random_images(5, seed=1))
    targets = np.array([3, 1, 3, 0, 2])
    method = DeepLift()
    worker = method.worker(cnn)
    assert DeepLift().worker(cnn) is worker  # same settings + model -> the same running process
    full = method(cnn, x, targets)
    worker.batch_size = 2  # batches of 2, 2, 1: same numbers
    try:
        np.testing.assert_allclose(method(cnn, x, targets), full, rtol=0, atol=1e-6)
    finally:
        worker.batch_size = 16
    np.testing.assert_array_equal(method(cnn, x, targets), full)
    np.testing.assert_allclose(method(cnn, x[::-1], targets[::-1])[::-1], full, rtol=0, atol=1e-6)
    json.dumps(method.params())  # the cache key is plain data


def test_deeplift_equals_grad_times_input_on_a_linear_model(linear):
    """Proposition 8 (baseline 0): DeepLIFT = grad x input = W[:, t] * x, computed from the Dense weights."""
    x = linear.preprocess(random_images(4, (8, 8, 3), seed=2))
    targets = np.array([0, 1, 2, 1])
    kernel, _ = linear.keras_model.layers[-1].get_weights()
    expected = (x.reshape(4, -1) * kernel[:, targets].T).reshape(x.shape)
    maps = get_method("deeplift")(linear, x, targets)
    np.testing.assert_allclose(maps, expected, rtol=1e-5, atol=1e-7)


def test_deeplift_params_are_the_cache_key():
    assert DeepLift().params() == {"nonlinear_mode": "RevealCancel", "reference": "black"}
    assert DeepLift(batch_size=3).params() == DeepLift().params()  # batching does not change the map
    with pytest.raises(ReproError, match="unknown DeepLIFT rule 'Magic'"):
        DeepLift(nonlinear_mode="Magic")


# --------------------------------------------------------------------------------------------------------- LRP
def test_lrp_bounded_rule_on_a_single_dense_layer_with_vgg_box(linear):
    """The default LRP on Flatten -> Dense: the Dense layer is the first layer, so the z^B rule applies:
    R_i = (x_i w_i - l_i w_i^+ - h_i w_i^-) / sum_i'(x_i' w_i' - l_i' w_i'^+ - h_i' w_i'^-) * z_t, with z_t the
    target logit (bias included) and the VGG16 box l = -means, h = 255 - means (per channel)."""
    model = ImageModel("linear_vgg", linear.keras_model, vgg16_preprocess, linear.class_names, "")
    x = model.preprocess(random_images(3, (8, 8, 3), seed=4))
    targets = np.array([2, 0, 1])
    kernel, bias = model.keras_model.layers[-1].get_weights()
    w = kernel[:, targets].T  # (N, D)
    xf = x.reshape(3, -1).astype(np.float64)
    low = np.broadcast_to(-CAFFE_BGR_MEANS, (8, 8, 3)).reshape(-1)
    high = np.broadcast_to(255.0 - CAFFE_BGR_MEANS, (8, 8, 3)).reshape(-1)
    share = xf * w - low * np.maximum(w, 0) - high * np.minimum(w, 0)
    logit = (xf * w).sum(axis=1) + bias[targets]
    expected = share / share.sum(axis=1, keepdims=True) * logit[:, None]
    maps = get_method("lrp")(model, x, targets)
    assert maps.shape == x.shape and maps.dtype == np.float32
    np.testing.assert_allclose(maps.reshape(3, -1), expected, rtol=1e-3, atol=1e-5 * np.abs(expected).max())
    np.testing.assert_allclose(maps.reshape(3, -1).sum(axis=1), logit, rtol=1e-4)  # conservation


@pytest.mark.slow  # one more worker start-up
def test_lrp_epsilon_rule_on_a_single_dense_layer(linear):
    """Without the input rule, the preset's epsilon rule applies to the Dense layer:
    R_i = x_i w_i * z_t / (z_t + 0.1 sign(z_t)) -- grad x input (Proposition 8) up to the factor z/(z + eps)."""
    x = linear.preprocess(random_images(4, (8, 8, 3), seed=5))
    targets = np.array([1, 1, 0, 2])
    kernel, bias = linear.keras_model.layers[-1].get_weights()
    gxi = x.reshape(4, -1).astype(np.float64) * kernel[:, targets].T
    z = gxi.sum(axis=1) + bias[targets]
    expected = gxi * (z / (z + 0.1 * np.where(z >= 0, 1.0, -1.0)))[:, None]
    maps = LRP(input_rule="none")(linear, x, targets)
    np.testing.assert_allclose(maps.reshape(4, -1), expected, rtol=1e-4, atol=1e-7)


def test_lrp_on_small_cnn_meets_the_contract(cnn):
    """Shape, dtype, finiteness, determinism and batch independence (the shared contract test skips LRP)."""
    x = cnn.preprocess(random_images(3, seed=6))
    targets = np.array([2, 0, 1])
    method = LRP()
    maps = method(cnn, x, targets)
    assert maps.shape == x.shape and maps.dtype == np.float32 and np.isfinite(maps).all()
    assert np.abs(maps).max() > 0
    scale = 1e-5 * np.abs(maps).max()
    np.testing.assert_allclose(LRP()(cnn, x, targets), maps, rtol=0, atol=scale)
    np.testing.assert_allclose(method(cnn, x[::-1], targets[::-1])[::-1], maps, rtol=0, atol=scale)
    np.testing.assert_allclose(method(cnn, x[1:2], targets[1:2])[0], maps[1], rtol=0, atol=scale)
    json.dumps(method.params())


def test_lrp_settings_validation():
    assert LRP().params() == {"analyzer": "lrp.sequential_preset_b", "epsilon": 0.1, "input_rule": "bounded"}
    with pytest.raises(ReproError, match="unknown LRP analyzer 'lrp.z'.*lrp.sequential_preset_b"):
        LRP(analyzer="lrp.z")
    with pytest.raises(ReproError, match="input_rule must be 'bounded' or 'none'"):
        LRP(input_rule="flat")


# ------------------------------------------------------------------------------------------------ the table
def test_every_graph_method_has_one_table_entry_whose_settings_it_has():
    graph_methods = {name for name, path in METHODS.items() if path.startswith("repro.attributions.graph_worker:")}
    assert graph_methods == set(WORKER_METHODS) == {"deeplift", "lrp"}
    for name in graph_methods:
        assert set(WORKER_METHODS[name].settings) <= set(method_class(name)().params())


def test_unknown_method_or_missing_setting_fails_before_any_worker_starts(linear):
    running = dict(_WORKERS)
    with pytest.raises(ReproError, match="unknown method 'occlusion'; choose from deeplift, lrp"):
        GraphWorker("occlusion", linear.keras_model, {}, {})
    with pytest.raises(ReproError, match=r"lrp worker: settings \['epsilon'\] missing"):
        GraphWorker("lrp", linear.keras_model, {"analyzer": "lrp.sequential_preset_b"}, {"input_bounds": None})
    assert _WORKERS == running


def test_cached_worker_serves_its_model_and_makes_start_arrays_only_at_start(linear, cnn):
    worker = DeepLift().worker(linear)  # the Proposition 8 test's worker when run in file order
    assert worker.serves(linear.keras_model) and not worker.serves(cnn.keras_model)
    options = {"batch_size": 16, "start_timeout": START_TIMEOUT_S, "call_timeout": CALL_TIMEOUT_S}  # the defaults
    cached = get_worker("deeplift", linear.keras_model, DeepLift().params(),
                        lambda: pytest.fail("a running worker's start arrays were made again"), **options)
    assert cached is worker and worker in _WORKERS.values()



@pytest.mark.slow  # two worker start-ups: 8 s
def test_method_close_stops_the_worker_it_started_and_leaves_others(linear):
    """What Study.close and the attribute command call: the process has exited when close() returns."""
    x = linear.preprocess(random_images(2, (8, 8, 3), seed=11))
    targets = np.array([0, 2])
    owner = get_method("deeplift", batch_size=7)  # worker options unlike the other tests': a worker of its own
    borrower = DeepLift(batch_size=7)
    maps = owner(linear, x, targets)
    worker = owner.worker(linear)
    process = worker.process
    assert borrower.worker(linear) is worker
    borrower.close()  # it found the worker running: not its to stop
    assert worker.alive and process.poll() is None
    owner.close()
    assert process.poll() is not None and not worker.alive and worker not in _WORKERS.values()
    owner.close()  # safe to call twice
    np.testing.assert_array_equal(owner(linear, x, targets), maps)  # the next call starts a new worker
    restarted = owner.worker(linear)
    assert restarted is not worker and restarted.alive
    process = restarted.process
    owner.close()
    assert process.poll() is not None and restarted not in _WORKERS.values()
    assert callable(getattr(get_method("lrp"), "close", None))

# ------------------------------------------------------------------------------------------------------ errors
def test_error_inside_the_worker_is_a_repro_error_and_the_worker_survives(cnn):
    worker = DeepLift().worker(cnn)
    x = cnn.preprocess(random_images(1))
    with pytest.raises(ReproError, match=r"deeplift worker failed while explaining images 0..0: .*target class 7"):
        worker.attribute(x, np.array([7]))
    assert worker.alive
    assert worker.attribute(x, np.array([1])).shape == x.shape


@pytest.mark.slow  # one more worker start-up
def test_model_the_worker_cannot_build_fails_at_start_with_the_reason(linear):
    with pytest.raises(ReproError, match=r"lrp worker failed while starting: could not build the model: "
                                         r".*unknown LRP analyzer 'lrp.bogus'"):
        GraphWorker("lrp", linear.keras_model, {"analyzer": "lrp.bogus", "epsilon": 0.1}, {"input_bounds": None})


def test_unsupported_model_fails_before_any_worker_starts():
    import tensorflow as tf

    L = tf.keras.layers
    km = tf.keras.Sequential([L.InputLayer((4, 4, 1)), L.Flatten(), L.BatchNormalization(name="bn"),
                              L.Dense(2, activation="softmax")])
    model = ImageModel("bn_model", km, lambda raw: raw / 255.0, ["a", "b"], "")
    with pytest.raises(ReproError, match=r"deeplift adapter: .* cannot convert: bn \(BatchNormalization\)"):
        get_method("deeplift")(model, np.zeros((1, 4, 4, 1), np.float32), np.array([0]))


def test_killed_worker_gives_repro_error_not_a_hang(linear):
    worker = DeepLift().worker(linear)  # the Proposition 8 test's worker when run in file order
    assert isinstance(worker, GraphWorker) and worker.alive
    worker.process.kill()  # our own child, by its pid
    worker.process.wait(timeout=30)
    x = linear.preprocess(random_images(2, (8, 8, 3)))
    with pytest.raises(ReproError, match="deeplift worker (is not running|died)"):
        worker.attribute(x, np.array([0, 1]))
    worker.close()  # idempotent after death
    assert worker not in _WORKERS.values()  # a dead worker is never handed out again


@pytest.mark.slow  # one more worker start-up
def test_deeplift_summation_to_delta_is_exact_without_max_pooling():
    """Functional model with an InputLayer, a ReLU layer, random biases and a non-zero reference: with no max
    pooling every deeplift rule used (Linear, RevealCancel) satisfies summation-to-delta exactly."""
    import tensorflow as tf

    tf.keras.utils.set_random_seed(5)
    L = tf.keras.layers
    inp = L.Input((8, 8, 3))
    h = L.Conv2D(4, 3, padding="same", activation="relu", bias_initializer="random_normal")(inp)
    h = L.ReLU()(L.Conv2D(4, 3, strides=2, bias_initializer="random_normal")(h))
    h = L.Dense(8, activation="relu", bias_initializer="random_normal")(L.Flatten()(h))
    out = L.Dense(3, activation="softmax", bias_initializer="random_normal")(h)
    model = ImageModel("chain", tf.keras.Model(inp, out), lambda raw: raw / 255.0 - 0.3, ["a", "b", "c"], "")
    assert np.all(model.baseline == np.float32(-0.3))
    x = model.preprocess(random_images(4, (8, 8, 3), seed=9))
    targets = np.array([0, 1, 2, 0])
    maps = get_method("deeplift")(model, x, targets)
    logits = model.logits_model(x).numpy()
    ref = model.logits_model(model.baseline[None]).numpy()[0]
    np.testing.assert_allclose(maps.reshape(4, -1).sum(axis=1), logits[np.arange(4), targets] - ref[targets],
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", ["lrp", "deeplift"])
def test_a_parent_killed_while_its_worker_starts_leaves_no_file_behind(method, tmp_path):
    """The model goes to the worker in its start message, never through a temporary file: a SIGKILL of the parent
    right after the worker was started (the worker then dies with its closed pipe) leaves nothing in the temporary
    directory (the worker's log is an unlinked TemporaryFile)."""
    import os
    import subprocess
    import sys

    code = (
        "import os, signal\n"
        "import numpy as np\n"
        "import repro.attributions.graph_worker as gw\n"
        "from repro.attributions import get_method\n"
        "from repro.testing import linear_classifier\n"
        "gw._ensure_atexit = lambda: os.kill(os.getpid(), signal.SIGKILL)  # killed once the start message is sent\n"
        "model = linear_classifier()\n"
        f"get_method({method!r})(model, np.zeros((1, 8, 8, 3), np.float32), np.array([0]))\n"
    )
    env = {**os.environ, "TMPDIR": str(tmp_path), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=300)
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == []
