"""The pipeline end to end: settings, resume after a kill, shards and merge, the paper profile on VGG16."""

import csv
import json

import numpy as np
import pytest

from repro.cli import main
from repro.errors import ReproError
from repro.config import check_same_settings, make_config, parse_shard
from repro.criteria.result import nan_reason
from repro.results import RESULT_COLUMNS
from conftest import run_small

TINY = ["--profile", "embedded", "--limit", "4", "--quick", "--chunk-size", "2", "--no-progress"]


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_parse_shard_reads_text_and_slurm():
    assert parse_shard("1/4", environ={}) == (1, 4)
    assert parse_shard(None, environ={}) == (0, 1)
    env = {"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "5"}
    assert parse_shard(None, environ=env) == (2, 5)
    with pytest.raises(ReproError, match="i/N"):
        parse_shard("two", environ={})


def test_make_config_rejects_bad_settings():
    with pytest.raises(ReproError, match="unknown profile"):
        make_config("imagenet")
    with pytest.raises(ReproError, match="unknown method"):
        make_config(methods=["saliency", "occlusion"])
    with pytest.raises(ReproError, match="0 <= i < N"):
        make_config(shard=(2, 2))
    assert make_config(steps="exact").steps is None
    assert make_config(quick=True).ig_steps == 8


def test_settings_mismatch_is_refused_and_named(tmp_path):
    with pytest.raises(ReproError, match=r"steps: 10 != 20"):
        check_same_settings(tmp_path / "config.json", {"steps": 10, "shard": [0, 2]}, {"steps": 20, "shard": [1, 2]})
    check_same_settings(tmp_path / "config.json", {"steps": 10, "shard": [0, 2]}, {"steps": 10, "shard": [1, 2]})


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Every method and every map reading on 4 embedded images (30 s): its tests share one xdist worker
    (``xdist_group``), so that it is computed once."""
    out = tmp_path_factory.mktemp("run") / "embedded"
    assert main(["reproduce", *TINY, "--out", str(out)]) == 0
    return out


@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_embedded_run_writes_table_figures_and_claims(tiny_run):
    rows = read_rows(tiny_run / "results.csv")
    assert list(rows[0]) == list(RESULT_COLUMNS)
    jobs = make_config("embedded", quick=True).map_jobs()
    # own maps, input_reference (SM, SG, GB), guided_backprop (GB), lrp_rule (LRP), target (all),
    # perturbation_baseline (all)
    assert len(jobs) == 8 + 3 + 1 + 1 + 8 + 8
    assert len(rows) == 4 * len(jobs) * 2  # per image, map job and class score
    assert {r["method"] for r in rows} == {"saliency", "integrated_gradients", "smoothgrad", "deeplift", "lrp",
                                           "guided_backprop", "gradcam", "random"}
    for r in rows:
        if not nan_reason(r["reason"]):  # all four are numbers ("" or flags of a ~0 penalty, which keep them)
            assert float(r["one_minus_s_ord"]) == pytest.approx(1 - float(r["s_ord"]))
            assert float(r["n_ord"]) >= 0 and float(r["tpn"]) >= 0 and float(r["tps"]) >= 0
    assert len(list((tiny_run / "figures").glob("*.png"))) >= 6
    assert (tiny_run / "claims.md").is_file() and (tiny_run / "claims.json").is_file()
    assert len(list((tiny_run / "examples").glob("*.npz"))) == 4


@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_readings_that_cannot_change_a_map_reuse_the_default_maps(tiny_run):
    """The embedded baseline is 0, so ``x - x_b = x``: ``input_reference=input_minus_baseline`` is the default's maps
    (same cache keys); ``target=label`` is the default's where the label is the top-1 class (all 4 images);
    ``perturbation_baseline=zero`` is the default's maps AND forwards (black is 0 in model space). Only the 8 own
    maps, GB's ``plain`` variant and LRP's ``alpha2beta1`` are computed: 10 per image, not 29."""
    assert len(list((tiny_run / "maps").rglob("*.npz"))) == 4 * 10
    rows = read_rows(tiny_run / "results.csv")
    own = {(r["image_id"], r["method"], r["score"]): r for r in rows if r["reading"] == ""}
    shifted = [r for r in rows if r["reading"] == "input_reference=input_minus_baseline"]
    assert {r["method"] for r in shifted} == {"saliency", "smoothgrad", "guided_backprop"}
    zero = [r for r in rows if r["reading"] == "perturbation_baseline=zero"]
    assert len(zero) == 4 * 8 * 2
    for r in shifted + zero:
        assert {**r, "reading": ""} == own[(r["image_id"], r["method"], r["score"])]


@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_rerun_of_a_finished_run_is_a_noop(tiny_run, capsys):
    before = {p: p.stat().st_mtime_ns for p in tiny_run.rglob("*") if p.is_file()}
    assert main(["reproduce", *TINY, "--out", str(tiny_run)]) == 0
    after = {p: p.stat().st_mtime_ns for p in tiny_run.rglob("*") if p.is_file()}
    assert before == after
    assert "up to date" in capsys.readouterr().out


@pytest.mark.usefixtures("without_figures")
def test_killed_run_resumes_to_identical_results(small_run, tmp_path, monkeypatch):
    import repro.pipeline as pipeline

    out = tmp_path / "killed"
    real = pipeline.compute_chunk
    calls = []

    def dies_on_second_chunk(study, c, cache=None):
        calls.append(c)
        if len(calls) == 2:
            raise KeyboardInterrupt  # as if killed while computing chunk 1
        return real(study, c, cache)

    monkeypatch.setattr(pipeline, "compute_chunk", dies_on_second_chunk)
    assert run_small(out) == 130
    assert (out / "chunks" / "chunk_00000.csv").exists() and not (out / "results.csv").exists()
    assert not list((out / "chunks").glob("*.tmp*"))
    monkeypatch.setattr(pipeline, "compute_chunk", real)
    done = []
    monkeypatch.setattr(pipeline, "compute_chunk", lambda s, c, cache=None: done.append(c) or real(s, c, cache))
    assert run_small(out) == 0
    assert done == [1]  # the finished chunk 0 was not recomputed
    assert (out / "results.csv").read_text() == (small_run / "results.csv").read_text()


def test_shards_merge_to_the_unsharded_table_and_refuse_mixed_settings(small_run, tmp_path):
    for i in range(2):
        assert run_small(tmp_path / f"s{i}", "--shard", f"{i}/2") == 0
    assert not (tmp_path / "s0" / "results.csv").exists()
    assert main(["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m"),
                 "--no-figures"]) == 0
    assert (tmp_path / "m" / "results.csv").read_text() == (small_run / "results.csv").read_text()
    cfg = json.loads((tmp_path / "s1" / "config.json").read_text())
    cfg["steps"] = 20
    (tmp_path / "s1" / "config.json").write_text(json.dumps(cfg))
    assert main(["merge", str(tmp_path / "s0"), str(tmp_path / "s1"), "--out", str(tmp_path / "m2")]) == 2


@pytest.mark.slow
@pytest.mark.xdist_group("vgg16")
def test_paper_profile_runs_every_stage_on_vgg16_without_weights(tmp_path, monkeypatch, vgg16):
    """``--weights none`` loads VGG16 with its seeded random weights: tests/conftest.py's ``vgg16`` is that network
    (served here with the DeepLIFT and LRP workers the other VGG16 tests of its process started)."""
    import repro.models.vgg16
    from PIL import Image

    monkeypatch.setattr(repro.models.vgg16, "load_vgg16", lambda weights=None: vgg16)

    rng = np.random.default_rng(0)
    val = tmp_path / "val"
    val.mkdir()
    ids = ["ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG"]
    manifest = tmp_path / "manifest.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image_id", "label", "wnid", "class_name"])
        w.writerow([ids[0], 0, "n01440764", "tench"])
        w.writerow([ids[1], 999, "n15075141", "toilet_tissue"])
    for name in ids:
        Image.fromarray(rng.integers(0, 256, (240, 300, 3), dtype=np.uint8)).save(val / name)
    out = tmp_path / "paper"
    args = ["reproduce", "--profile", "paper", "--weights", "none", "--imagenet-dir", str(val),
            "--manifest", str(manifest), "--steps", "1", "--quick", "--no-progress", "--out", str(out)]
    status = main(args)
    claims = json.loads((out / "claims.json").read_text())
    # the paper profile exits 1 exactly when a claim fails (two random-weight images cannot show the paper's medians)
    failed = [c for c in claims["claims"] if c["holds"] is not True] + [t for t in claims["toys"] if not t["holds"]]
    assert claims["profile"] == "paper" and status == (1 if failed else 0)
    assert all(t["holds"] for t in claims["toys"])  # the toy examples do not depend on the model
    rows = read_rows(out / "results.csv")
    assert len(rows) == 2 * 8 * 2  # the paper profile computes no map readings by default; both class scores
    assert {r["image_id"] for r in rows} == set(ids)
    assert all(np.isfinite(float(r["y0"])) for r in rows)


def test_changing_a_method_default_recomputes_its_maps(tmp_path, monkeypatch):
    """The map cache keys on the method's full parameters: a changed default never serves the old maps, and a
    run directory made under the old default refuses to resume under the new one."""
    from repro.attributions.gradients import IntegratedGradients
    from repro.cache import MapCache
    from repro.pipeline import open_study, run_study

    cfg = make_config("embedded", quick=True, num_images=2, methods=("integrated_gradients",))
    cache = MapCache(tmp_path / "shared")
    calls = []
    real = IntegratedGradients.attribute
    monkeypatch.setattr(IntegratedGradients, "attribute", lambda *a: calls.append(len(a[2])) or real(*a))

    def run(out):
        run_study(open_study(cfg, tmp_path / out), progress=False, cache=cache)
        return len(list(cache.root.rglob("*.npz")))

    assert run("a") == 2 and calls == [2]
    assert run("b") == 2 and calls == [2]  # same defaults: both maps read back, nothing computed
    steps, rule, batch = IntegratedGradients.__init__.__defaults__
    monkeypatch.setattr(IntegratedGradients.__init__, "__defaults__", (steps, "right", batch))
    assert rule != "right"
    assert run("c") == 4 and calls == [2, 2]  # a changed default: new keys, both maps recomputed
    with pytest.raises(ReproError, match=r"method_params\.integrated_gradients\.rule: 'midpoint' != 'right'"):
        open_study(cfg, tmp_path / "a")


@pytest.mark.slow
@pytest.mark.xdist_group("tiny_run")
def test_embedded_run_holds_every_reading_and_shares_what_it_can(tiny_run):
    from repro.results import read_results, reading_views

    table = read_results(tiny_run / "results.csv")
    own = table.filter(reading="")
    assert set(table.column("score")) == {"logit", "probability"}
    assert sorted(set(table.filter(reading="guided_backprop=plain").column("method"))) == ["guided_backprop"]
    assert sorted(set(table.filter(reading="lrp_rule=alpha2beta1").column("method"))) == ["lrp"]
    plain_lrp, own_lrp = table.filter(reading="lrp_rule=alpha2beta1"), own.filter(method="lrp")
    assert (plain_lrp.column("n_ord") != own_lrp.column("n_ord")).any()  # another rule, other maps, other numbers
    assert len(set(table.filter(reading="perturbation_baseline=zero").column("method"))) == 8
    assert sorted(set(table.filter(reading="input_reference=input_minus_baseline").column("method"))) == [
        "guided_backprop", "saliency", "smoothgrad"]
    # where the label is the top-1 class, the target=label rows are the run's own rows (maps shared by cache key)
    label = table.filter(reading="target=label")
    same = label.column("target") == label.column("label")
    assert same.any()
    for name in ("n_ord", "s_ord", "tpn", "tps", "y0"):
        np.testing.assert_array_equal(label.column(name)[same], own.column(name)[same])
    views = reading_views(tiny_run)
    assert views[0][0] == "default" and {label for label, _, _ in views} >= {
        "score=probability", "s_ord=text", "guided_backprop=plain", "lrp_rule=alpha2beta1", "target=label",
        "perturbation_baseline=zero", "tp_claims=within"}
    assert all(len(view) == 4 * 8 for _, view, _ in views)
    claims = json.loads((tiny_run / "claims.json").read_text())
    assert claims["readings"] is not None
