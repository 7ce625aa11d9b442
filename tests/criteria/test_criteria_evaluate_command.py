"""``repro evaluate``: file checks name the file; the core on an ImageModel equals ``evaluate``; the CLI writes
the results table (the model loader is replaced by a small CNN, so no embedded model or VGG16 is needed)."""

import numpy as np
import pytest

import repro.models
from repro.cli import main
from repro.commands.evaluate import evaluate_inputs, load_inputs
from repro.criteria import evaluate
from repro.errors import ReproError
from repro.results import RESULT_COLUMNS, read_results
from repro.testing import random_images, small_cnn

SHAPE = (6, 6, 3)


@pytest.fixture(scope="module")
def cnn():
    return small_cnn(input_shape=SHAPE, classes=3, seed=1)


@pytest.fixture
def files(tmp_path):
    raw = random_images(3, SHAPE, seed=0)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(3, *SHAPE)), rng.normal(size=(3, 3, 3))  # b is coarser (3x3 -> 6x6)
    np.save(tmp_path / "imgs.npy", raw)
    np.savez(tmp_path / "maps.npz", saliency=a, gradcam=b)
    np.save(tmp_path / "one.npy", a)
    np.save(tmp_path / "targets.npy", np.array([0, 1, 2]))
    return tmp_path, raw, a, b


def test_core_equals_evaluate(cnn, files):
    tmp, raw, a, b = files
    raw2, maps, targets = load_inputs(tmp / "imgs.npy", tmp / "maps.npz", tmp / "targets.npy", SHAPE, 3,
                                      resize_maps=True)  # gradcam's maps are coarser
    rows = evaluate_inputs(cnn, raw2, maps, targets, steps=None, batch_size=8, image_ids="imgs", resize_maps=True)
    direct = evaluate(cnn, cnn.preprocess(raw), b, targets=np.array([0, 1, 2]), steps=None, score="probability",
                      resize_maps=True)
    got = [r for r in rows if r["method"] == "gradcam" and r["score"] == "probability"]
    assert [r["image_id"] for r in got] == ["imgs:0", "imgs:1", "imgs:2"]
    np.testing.assert_allclose([r["tpn"] for r in got], direct.tpn, atol=1e-7)
    np.testing.assert_allclose([r["n_ord"] for r in got], direct.n_ord, atol=1e-7)
    logit = evaluate(cnn, cnn.preprocess(raw), b, targets=np.array([0, 1, 2]), steps=None, score="logit",
                     resize_maps=True)
    np.testing.assert_allclose([r["tpn"] for r in rows if r["method"] == "gradcam" and r["score"] == "logit"],
                               logit.tpn, atol=1e-7)
    assert len(rows) == 12 and list(rows[0]) == list(RESULT_COLUMNS)


def test_cli_writes_results_table(cnn, files, monkeypatch, capsys):
    tmp, *_ = files
    monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, **options: cnn)
    out = tmp / "res.csv"
    code = main(["evaluate", "--images", str(tmp / "imgs.npy"), "--maps", str(tmp / "one.npy"),
                 "--steps", "exact", "--out", str(out)])
    assert code == 0
    table = read_results(out)
    assert len(table) == 6 and table.column("method").tolist() == ["one"] * 6
    assert table.column("score").tolist() == ["logit", "probability"] * 3


@pytest.mark.parametrize("case, message", [
    ("missing_images", "imgs_missing.npy: images file not found"),
    ("wrong_shape", "bad.npy: images have shape (3, 5, 6, 3), expected (N, 6, 6, 3)"),
    ("n_mismatch", "maps.npz [saliency]: 2 maps for 3 images"),
    ("nan_maps", "one.npy: maps contain 1 NaN or infinite values"),
    ("bad_targets", "targets.npy: targets must be class indices in [0, 3)"),
    ("targets_shape", "targets.npy: targets have shape (2,)"),
    ("maps_directory", "is a directory"),
    ("not_npy", "cannot read maps"),
    ("npz_images", "imgs.npz: images is an .npz archive"),
    ("float_targets", "targets.npy: targets have shape (3,) and dtype float64, expected (3,) integers"),
])
def test_file_errors_name_the_file(files, case, message):
    tmp, raw, a, b = files
    images, maps, targets = tmp / "imgs.npy", tmp / "maps.npz", None
    if case == "missing_images":
        images = tmp / "imgs_missing.npy"
    elif case == "wrong_shape":
        np.save(tmp / "bad.npy", raw[:, :5])
        images = tmp / "bad.npy"
    elif case == "n_mismatch":
        np.savez(maps, saliency=a[:2])
    elif case == "nan_maps":
        a[1, 2, 3, 0] = np.nan
        np.save(tmp / "one.npy", a)
        maps = tmp / "one.npy"
    elif case == "bad_targets":
        np.save(tmp / "targets.npy", np.array([0, 1, 3]))
        targets = tmp / "targets.npy"
    elif case == "targets_shape":
        np.save(tmp / "targets.npy", np.array([0, 1]))
        targets = tmp / "targets.npy"
    elif case == "maps_directory":
        maps = tmp
    elif case == "npz_images":
        np.savez(tmp / "imgs.npz", images=raw)
        images = tmp / "imgs.npz"
    elif case == "float_targets":
        np.save(tmp / "targets.npy", np.array([0.0, 1.0, 2.5]))
        targets = tmp / "targets.npy"
    elif case == "not_npy":
        (tmp / "text.npy").write_text("not an array")
        maps = tmp / "text.npy"
    with pytest.raises(ReproError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
                       .replace("]", r"\]")):
        load_inputs(images, maps, targets, SHAPE, 3, resize_maps=True)


def test_cli_reports_errors_in_one_line(cnn, files, monkeypatch, capsys):
    tmp, *_ = files
    monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, **options: cnn)
    code = main(["evaluate", "--images", str(tmp / "nope.npy"), "--maps", str(tmp / "one.npy")])
    assert code == 2
    assert "nope.npy: images file not found" in capsys.readouterr().err


def test_cli_rejects_bad_batch_size(capsys):
    with pytest.raises(SystemExit) as info:
        main(["evaluate", "--images", "a.npy", "--maps", "b.npy", "--batch-size", "0"])
    assert info.value.code == 2
    assert "argument --batch-size: must be a positive integer (>= 1), got '0'" in capsys.readouterr().err


def test_cli_rejects_bad_steps(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--images", "a.npy", "--maps", "b.npy", "--steps", "0"])
    assert "argument --steps: must be a positive integer, 'exact' or 'adaptive', got '0'" in capsys.readouterr().err


def test_cli_writes_the_error_estimates_of_every_sampling_mode(cnn, files, monkeypatch):
    from repro.results import ESTIMATE_COLUMNS

    tmp, *_ = files
    monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, **options: cnn)
    tables = {}
    for mode in (["--steps", "exact"], ["--steps", "2"], ["--steps", "adaptive", "--tol", "0.05"]):
        out = tmp / f"{mode[1]}.csv"
        assert main(["evaluate", "--images", str(tmp / "imgs.npy"), "--maps", str(tmp / "maps.npz"), *mode,
                     "--resize-maps", "--out", str(out)]) == 0
        tables[mode[1]] = read_results(out)
        assert list(tables[mode[1]].columns) == list(RESULT_COLUMNS)
    for name in ESTIMATE_COLUMNS:
        assert np.nan_to_num(tables["exact"].column(name)).tolist() == [0.0] * 12, name
    finite = np.isfinite(tables["2"].column("n_ord"))
    assert (tables["2"].column("n_ord_err")[finite] > 0).any()  # 36 pixels on a 2-step grid: sampled
    # 36 pixels: M <= 2 * START_STEPS, so adaptive sampling evaluates every count (exact)
    np.testing.assert_array_equal(tables["adaptive"].column("n_ord"), tables["exact"].column("n_ord"))


@pytest.mark.parametrize("shape, problem", [
    ((3, 0, 6), "maps have shape (3, 0, 6), with an empty axis; every size must be at least 1"),
    ((3, 6, 6, 0), "maps have shape (3, 6, 6, 0), with an empty axis; every size must be at least 1"),
    ((0, 6, 6), "0 maps for 3 images in {images}"),
    ((3, 3, 6, 6), "maps have shape (3, 3, 6, 6): 6 channels for images with 3; expected (P, 6, 6), (P, 6, 6, 3) or "
                   "(P, 6, 6, 1); it looks like channels first ((6, 6, 3) read in the order (3, 6, 6)): use "
                   "np.transpose(maps, (0, 2, 3, 1))"),
])
def test_maps_with_an_empty_axis_or_other_channels_are_refused_naming_the_file_and_shape(files, shape, problem):
    tmp, *_ = files
    np.save(tmp / "odd.npy", np.ones(shape, np.float32))
    with pytest.raises(ReproError) as info:
        load_inputs(tmp / "imgs.npy", tmp / "odd.npy", None, SHAPE, 3)
    assert str(info.value) == f"{tmp / 'odd.npy'}: " + problem.format(images=tmp / "imgs.npy")
    np.savez(tmp / "odd.npz", saliency=np.ones((3, *SHAPE)), gradcam=np.ones(shape, np.float32))
    with pytest.raises(ReproError, match=r"odd\.npz \[gradcam\]: (maps have shape|0 maps)"):
        load_inputs(tmp / "imgs.npy", tmp / "odd.npz", None, SHAPE, 3)


def test_cli_refuses_maps_with_an_empty_axis_in_one_line_before_tensorflow(cnn, files, monkeypatch, capsys):
    tmp, *_ = files
    monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, **options: cnn)
    np.save(tmp / "empty.npy", np.ones((3, 0, 6), np.float32))
    out = tmp / "new" / "res.csv"
    assert main(["evaluate", "--images", str(tmp / "imgs.npy"), "--maps", str(tmp / "empty.npy"),
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"repro evaluate: error: {tmp / 'empty.npy'}: maps have shape (3, 0, 6), with an empty axis; "
                   "every size must be at least 1\n")
    assert not (tmp / "new").exists()  # the refused command leaves no new directory


def test_the_library_refuses_maps_with_an_empty_axis(cnn, files):
    from repro.criteria import evaluate_methods, evaluate_scores

    tmp, raw, a, b = files
    x = cnn.preprocess(raw)
    with pytest.raises(ValueError, match=r"^maps have shape \(3, 0, 6\), with an empty axis"):
        evaluate(cnn, x, np.ones((3, 0, 6)))
    with pytest.raises(ValueError, match=r"^maps of 'gradcam' have shape \(3, 6, 6, 0\), with an empty axis"):
        evaluate_methods(cnn, x, {"saliency": a, "gradcam": np.ones((3, 6, 6, 0))})
    with pytest.raises(ValueError, match=r"^maps of 'saliency' have shape \(3, 0, 0\), with an empty axis"):
        evaluate_scores(cnn, x, {"saliency": np.ones((3, 0, 0))})
