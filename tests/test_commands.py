"""Bad command-line input gives exit status 2 and a one-line message naming the file or option, never a traceback
from numpy or TensorFlow (the model loader is replaced by a small CNN, so no embedded model or VGG16 is needed)."""

import json

import numpy as np
import pytest

import repro.models
from repro.cli import main
from repro.testing import random_images, small_cnn

SHAPE = (6, 6, 3)


@pytest.fixture(scope="module")
def cnn():
    return small_cnn(input_shape=SHAPE, classes=3, seed=1)


@pytest.fixture
def files(tmp_path, cnn, monkeypatch):
    monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, **options: cnn)
    raw = random_images(3, SHAPE, seed=0)
    np.save(tmp_path / "imgs.npy", raw)
    np.savez(tmp_path / "imgs.npz", images=raw)
    np.save(tmp_path / "small.npy", raw[:, :5])
    np.save(tmp_path / "targets.npy", np.array([0, 1, 2]))
    np.save(tmp_path / "float_targets.npy", np.array([0.0, 1.5, 2.0]))
    np.save(tmp_path / "big_targets.npy", np.array([0, 1, 7]))
    return tmp_path


def _attribute(tmp, *extra):
    return main(["attribute", "--methods", "saliency", "random", "--out", str(tmp / "maps.npz"),
                 "--cache", str(tmp / "cache"), *extra])


@pytest.mark.parametrize("images, targets, message", [
    ("imgs.npz", None, "imgs.npz: images is an .npz archive, expected a single .npy array"),
    ("small.npy", None, "small.npy: images have shape (3, 5, 6, 3), expected (N, 6, 6, 3)"),
    ("missing.npy", None, "missing.npy: images file not found"),
    ("imgs.npy", "float_targets.npy", "float_targets.npy: targets have shape (3,) and dtype float64, "
                                      "expected (3,) integers"),
    ("imgs.npy", "big_targets.npy", "big_targets.npy: targets must be class indices in [0, 3), got min 0 max 7"),
    ("imgs.npy", "imgs.npz", "imgs.npz: targets is an .npz archive"),
])
def test_attribute_bad_files_name_the_file(files, capsys, images, targets, message):
    extra = ["--images", str(files / images)] + ([] if targets is None else ["--targets", str(files / targets)])
    assert _attribute(files, *extra) == 2
    err = capsys.readouterr().err
    assert f"repro attribute: error: {files}/{message}" in err
    assert "Traceback" not in err and not (files / "maps.npz").exists()


def test_attribute_writes_maps_and_second_run_reads_the_cache(files, cnn, monkeypatch):
    args = ["--images", str(files / "imgs.npy"), "--targets", str(files / "targets.npy"), "--seed", "3"]
    assert _attribute(files, *args) == 0
    with np.load(files / "maps.npz") as f:
        first = {k: f[k] for k in f.files}
    assert set(first) == {"saliency", "random"} and first["saliency"].shape == (3, *SHAPE)
    cached = sorted(p.relative_to(files / "cache") for p in (files / "cache").rglob("*.npz"))
    assert len(cached) == 6

    import repro.attributions.base as base

    def fail(*a, **k):
        raise AssertionError("recomputed a cached map")

    monkeypatch.setattr(base.AttributionMethod, "__call__", fail)
    assert _attribute(files, *args) == 0
    with np.load(files / "maps.npz") as f:
        for k in first:
            np.testing.assert_array_equal(f[k], first[k])


def test_attribute_never_serves_maps_of_other_weights_from_the_same_file(files, tmp_path, monkeypatch):
    """The same --weights path with new numbers (a retrain in place): the cache key follows the file's content, so
    the second run computes the new network's maps instead of returning the first network's."""
    other = small_cnn(input_shape=SHAPE, classes=3, seed=2)
    weights = tmp_path / "w.h5"
    args = ["--images", str(files / "imgs.npy"), "--targets", str(files / "targets.npy"), "--weights", str(weights)]
    maps = {}
    for content, model in ((b"first", small_cnn(input_shape=SHAPE, classes=3, seed=1)), (b"second", other)):
        weights.write_bytes(content)
        monkeypatch.setattr(repro.models, "load_model", lambda name, weights=None, model=model, **options: model)
        assert _attribute(files, *args) == 0
        with np.load(files / "maps.npz") as f:
            maps[content] = f["saliency"]
    assert len(list((files / "cache").rglob("*.npz"))) == 2 * 2 * 3  # two weights x two methods x three images
    assert not np.allclose(maps[b"first"], maps[b"second"])
    from repro.attributions import get_method

    x = other.preprocess(np.load(files / "imgs.npy"))
    np.testing.assert_allclose(maps[b"second"], get_method("saliency")(other, x, np.array([0, 1, 2])), rtol=1e-6)


def test_attribute_cache_key_holds_the_method_parameters(files):
    from repro.commands.attribute import make_method

    assert make_method("random", 3).params() == {"seed": 3}
    assert make_method("smoothgrad", 3).params()["samples"] == 50
    ig = make_method("integrated_gradients", 3).params()
    assert "seed" not in ig and ig["steps"] == 50 and ig["rule"] == "midpoint"
    assert _attribute(files, "--images", str(files / "imgs.npy"), "--seed", "1") == 0
    assert _attribute(files, "--images", str(files / "imgs.npy"), "--seed", "2") == 0
    # saliency has no seed: one set of 3 maps; random: one set per seed
    assert len(list((files / "cache").rglob("saliency/**/*.npz"))) == 3
    assert len(list((files / "cache").rglob("random/**/*.npz"))) == 6


@pytest.mark.parametrize("argv, option, message", [
    (["reproduce", "--chunk-size", "0"], "--chunk-size", "must be a positive integer (>= 1), got '0'"),
    (["reproduce", "--limit", "0"], "--limit", "must be a positive integer (>= 1), got '0'"),
    (["reproduce", "--limit", "-1"], "--limit", "must be a positive integer (>= 1), got '-1'"),
    (["reproduce", "--batch-size", "0"], "--batch-size", "must be a positive integer (>= 1), got '0'"),
    (["reproduce", "--seed", "-1"], "--seed", "must be a non-negative integer (>= 0), got '-1'"),
    (["reproduce", "--limit", "ten"], "--limit", "must be a positive integer (>= 1), got 'ten'"),
    (["evaluate", "--images", "a.npy", "--maps", "b.npy", "--batch-size", "0"], "--batch-size",
     "must be a positive integer"),
    (["attribute", "--images", "a.npy", "--out", "o.npz", "--seed", "-1"], "--seed", "must be a non-negative"),
    (["check-claims", "out", "--resamples", "0"], "--resamples", "must be a positive integer (>= 1), got '0'"),
    (["check-claims", "out", "--seed", "-1"], "--seed", "must be a non-negative integer (>= 0), got '-1'"),
    (["figures", "out", "--grid-images", "0"], "--grid-images", "must be a positive integer"),
    (["train-embedded", "--epochs", "0"], "--epochs", "must be a positive integer"),
    (["train-embedded", "--sanity-images", "-1"], "--sanity-images", "must be a non-negative integer"),
])
def test_numeric_options_are_checked(capsys, argv, option, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert f"argument {option}: {message}" in capsys.readouterr().err


def test_numeric_options_accept_valid_values():
    from repro.cli import build_parser

    args = build_parser("reproduce").parse_args(["reproduce", "--limit", "5", "--chunk-size", "2", "--seed", "0"])
    assert (args.num_images, args.chunk_size, args.seed) == (5, 2, 0)
    args = build_parser("check-claims").parse_args(["check-claims", "out", "--resamples", "10", "--seed", "0"])
    assert (args.resamples, args.seed) == (10, 0)


def test_train_embedded_malformed_report_names_the_file(tmp_path, capsys):
    weights = tmp_path / "w.h5"
    (tmp_path / "w.json").write_text("{not json")
    assert main(["train-embedded", "--out", str(weights), "--sanity-only"]) == 2
    assert f"{tmp_path / 'w.json'}: line 1: malformed JSON" in capsys.readouterr().err


def test_merge_config_errors_name_the_file(tmp_path, monkeypatch, capsys):
    import repro.pipeline

    out = tmp_path / "merged"
    out.mkdir()
    monkeypatch.setattr(repro.pipeline, "merge_runs", lambda shards, dest: dest / "results.csv")
    (out / "config.json").write_text("[1, 2")
    assert main(["merge", str(tmp_path / "a"), "--out", str(out)]) == 2
    assert f"{out / 'config.json'}: line 1: malformed JSON" in capsys.readouterr().err
    (out / "config.json").write_text(json.dumps({"seed": 0}))
    assert main(["merge", str(tmp_path / "a"), "--out", str(out)]) == 2
    assert f"{out / 'config.json'}: no 'profile' entry" in capsys.readouterr().err


def test_images_off_the_0_255_scale_get_one_warning_per_call(tmp_path, capsys):
    from repro.commands import load_images

    raw = np.zeros((4, 4, 4, 3), np.float32)
    raw[0] = 200.0
    raw[1] = 0.5  # looks already scaled to [0, 1]
    raw[2] = -120.0  # looks mean-centred
    raw[3] = 0.25
    np.save(tmp_path / "imgs.npy", raw)
    load_images(tmp_path / "imgs.npy", (4, 4, 3))
    assert capsys.readouterr().err == (
        f"[repro] warning: {tmp_path / 'imgs.npy'}: 2 of 4 images look already scaled (values in [0.25, 0.5]) and "
        "1 of 4 images have values outside [0, 255] (values in [-120, -120]), expected raw RGB in [0, 255]; the "
        "black baseline (raw 0) means nothing on another scale: give the raw pixels, not preprocessed or /255 "
        "images\n")


def test_ten_scaled_images_give_one_line_not_ten(tmp_path, capsys):
    from repro.commands import read_images

    np.save(tmp_path / "images.npy", np.linspace(0, 1, 10 * 48, dtype=np.float32).reshape(10, 4, 4, 3))
    ids, _ = read_images(tmp_path / "images.npy", (4, 4, 3))
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and ids == [f"images:{i}" for i in range(10)]
    assert err[0].startswith(f"[repro] warning: {tmp_path / 'images.npy'}: 10 of 10 images look already scaled "
                             "(values in [0, 1]), expected raw RGB in [0, 255]; ")


# ------------------------------------------------------------------------------------------- cache, progress, usage

def test_attribute_help_names_the_default_cache_and_no_cache(capsys):
    with pytest.raises(SystemExit):
        main(["attribute", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "map cache directory (default ./results/map_cache, under the current directory)" in out
    assert "--no-cache compute every map, read and write no cache" in out
    assert "--progress, --no-progress progress bars on stderr (default: shown when stderr is a terminal" in out


def test_attribute_no_cache_writes_no_cache_and_gives_the_same_maps(files, monkeypatch):
    monkeypatch.chdir(files)
    args = ["--images", str(files / "imgs.npy"), "--targets", str(files / "targets.npy")]
    assert _attribute(files, *args) == 0
    with np.load(files / "maps.npz") as f:
        cached = {k: f[k] for k in f.files}
    out = files / "fresh.npz"
    assert main(["attribute", "--methods", "saliency", "random", "--out", str(out), "--no-cache", *args]) == 0
    assert not (files / "results").exists()  # not the default ./results/map_cache either
    with np.load(out) as f:
        assert set(f.files) == {"saliency", "random"}
        for k in f.files:
            np.testing.assert_array_equal(f[k], cached[k])


def test_attribute_cache_and_no_cache_together_are_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["attribute", "--images", "a.npy", "--out", "o.npz", "--cache", "c", "--no-cache"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: repro attribute") and "argument --no-cache: not allowed with argument --cache" in err


@pytest.mark.parametrize("command, required", [
    ("reproduce", []),
    ("attribute", ["--images", "a.npy", "--out", "o.npz"]),
    ("evaluate", ["--images", "a.npy", "--maps", "m.npy"]),
])
def test_progress_flags_are_the_same_on_every_command(command, required):
    from repro.cli import build_parser

    parse = build_parser(command).parse_args
    default = parse([command, *required])  # stderr is not a terminal under pytest: no bars by default
    assert default.progress is False
    shown = parse([command, *required, "--progress"])
    assert shown.progress is True
    hidden = parse([command, *required, "--progress", "--no-progress"])
    assert hidden.progress is False


def test_progress_bars_are_shown_by_default_on_a_terminal(monkeypatch):
    import sys

    from repro.cli import build_parser

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    args = build_parser("reproduce").parse_args(["reproduce"])
    assert args.progress is True
    assert build_parser("reproduce").parse_args(["reproduce", "--no-progress"]).progress is False


@pytest.mark.parametrize("argv, usage, unknown", [
    (["evaluate", "--images", "a.npy", "--maps", "m.npy", "--mapz", "x"], "usage: repro evaluate", "--mapz x"),
    (["attribute", "--images", "a.npy", "--out", "o.npz", "--methodz", "saliency"], "usage: repro attribute",
     "--methodz saliency"),
    (["check-claims", "out", "--strikt"], "usage: repro check-claims", "--strikt"),
])
def test_a_misspelled_option_prints_the_subcommands_usage(capsys, argv, usage, unknown):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(usage) and "usage: repro [-h]" not in err
    assert err.endswith(f"error: unrecognized arguments: {unknown}\n")


# ------------------------------------------------------------------------------------------- CriteriaResult rows

def test_criteria_result_rows_are_the_rows_repro_evaluate_writes(files, cnn, tmp_path):
    from repro.commands.evaluate import evaluate_inputs
    from repro.criteria import evaluate_scores
    from repro.results import RESULT_COLUMNS, read_results, results_text

    raw = np.load(files / "imgs.npy")
    maps = {"m": np.random.default_rng(0).normal(size=(3, *SHAPE))}
    targets = np.array([0, 1, 2])
    rows = evaluate_inputs(cnn, raw, maps, targets, steps=None, image_ids="imgs", score="logit")
    res = evaluate_scores(cnn, cnn.preprocess(raw), maps, targets=targets, steps=None)["logit"]["m"]
    assert list(rows[0]) == list(RESULT_COLUMNS) and np.isnan(rows[0]["tpn"])  # y0 <= 0: NaN != NaN, so as text
    assert results_text(res.rows("m", "imgs")) == results_text(rows)
    named = res.rows("m", ["a.png", "b.png", "c.png"], [5, 6, 7], reading="x=y")
    assert [(r["image_id"], r["label"], r["reading"], r["score"]) for r in named] == [
        ("a.png", 5, "x=y", "logit"), ("b.png", 6, "x=y", "logit"), ("c.png", 7, "x=y", "logit")]
    assert [r["image_id"] for r in res.subset([2, 0]).rows()] == ["image:2", "image:0"]  # by image, not by pair
    path = res.write_csv(tmp_path / "scores.csv", "m", "imgs")
    assert path.read_text() == results_text(rows) == results_text(read_results(path))
# ------------------------------------------------------------------------------------------- refused: no new --out

@pytest.mark.parametrize("case", ["no --images", "a model file that is not there"])
def test_a_refused_reproduce_leaves_no_new_out_directory(tmp_path, capsys, case):
    extra = [] if case == "no --images" else ["--images", str(tmp_path)]
    out = tmp_path / "new" / "run"
    assert main(["reproduce", "--profile", "custom", "--model", str(tmp_path / "missing.h5"), *extra,
                 "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("repro reproduce: error: ") and len(err.splitlines()) == 1
    assert not (tmp_path / "new").exists()


def test_a_refused_reproduce_leaves_no_default_out_directory_and_keeps_an_existing_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["reproduce", "--profile", "custom", "--model", "missing.h5", "--images", str(tmp_path)]
    assert main(argv) == 2  # refused after reproduce made its default --out, results/custom
    assert not (tmp_path / "results").exists()
    (tmp_path / "mine").mkdir()
    assert main([*argv, "--out", "mine"]) == 2
    assert (tmp_path / "mine").is_dir()  # not made by the command: kept, empty or not


def test_a_refused_evaluate_leaves_no_new_parent_of_its_out_file(files, capsys):
    out = files / "new" / "deeper" / "res.csv"
    assert main(["evaluate", "--images", str(files / "imgs.npy"), "--maps", str(files / "nope.npy"),
                 "--out", str(out)]) == 2
    assert "nope.npy" in capsys.readouterr().err
    assert not (files / "new").exists()


def test_only_new_directories_holding_no_file_are_removed(tmp_path):
    from repro.cli import remove_new_empty_directories

    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "kept" / "sub").mkdir(parents=True)
    (tmp_path / "kept" / "config.json").write_text("{}")
    removed = remove_new_empty_directories([tmp_path / "a", tmp_path / "kept", tmp_path / "gone"])
    assert removed == [tmp_path / "a" / "b" / "c", tmp_path / "a" / "b", tmp_path / "a"]
    assert not (tmp_path / "a").exists()
    assert (tmp_path / "kept" / "config.json").is_file() and (tmp_path / "kept" / "sub").is_dir()  # left as it is


def test_evaluate_prints_the_summary_table_after_the_rows_line(files, capsys):
    from repro.results import read_results

    np.save(files / "sal.npy", np.random.default_rng(1).normal(size=(3, *SHAPE)))
    out = files / "res.csv"
    assert main(["evaluate", "--images", str(files / "imgs.npy"), "--maps", str(files / "sal.npy"),
                 "--targets", str(files / "targets.npy"), "--steps", "exact", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"[repro] wrote 6 rows (1 method(s) x 3 image(s) x score) to {out}"
    table = read_results(out)

    def cells(score: str) -> tuple[str, str]:
        """The two cells of N-Ord in the table, from the CSV's numbers."""
        rows = table.filter(score=score)
        v = rows.column("n_ord")
        q25, median, q75 = np.percentile(v[np.isfinite(v)], [25, 50, 75])
        return f"{median:.4g} [{q75 - q25:.4g}]", f"{int(np.isfinite(v).sum())} / {int(np.isnan(v).sum())} / 0"

    for start, score in ((1, "logit"), (7, "probability")):
        value, count = cells(score)
        assert lines[start] == f"score {score}: median [IQR] over the images (linear quartiles)"
        assert lines[start + 1].split() == ["method", "N-Ord", "1", "-", "S-Ord", "TPN", "TPS"]
        assert lines[start + 2].startswith(f"sal     {value}  ")  # exact mode: err 0
        assert lines[start + 3] == "n finite / NaN count / err (median of the sampling error estimates)"
        assert lines[start + 4].startswith(f"sal     {count}  ")
    assert lines[6] == "" and len(lines) == 12 and max(map(len, lines[1:])) <= 100
