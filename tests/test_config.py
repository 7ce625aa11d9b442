"""``config_record``: the files a run reads by path are recorded by content, so editing one in place is a changed
setting (no model is loaded)."""

from __future__ import annotations

import hashlib

import pytest

from repro.config import check_same_settings, config_record, make_config, settings_digest
from repro.embedded.model import WEIGHTS_FILE
from repro.errors import ReproError


def test_the_embedded_weights_and_a_labels_file_are_recorded_by_content(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\na.png,1\n")
    cfg = make_config("custom", model="embedded", images=str(tmp_path), labels=str(labels))
    record = config_record(cfg, ["a.png"])
    assert record["weights_id"] == "sha1:" + hashlib.sha1(WEIGHTS_FILE.read_bytes()).hexdigest()[:16]
    assert record["labels_sha1"] == hashlib.sha1(b"file,label\na.png,1\n").hexdigest()
    labels.write_text("file,label\na.png,2\n")  # same path, another label
    edited = config_record(cfg, ["a.png"])
    assert settings_digest(edited) != settings_digest(record)
    with pytest.raises(ReproError, match="labels_sha1"):
        check_same_settings(tmp_path / "config.json", record, edited)


def test_the_paper_manifest_is_recorded_by_content():
    from repro.data.imagenet import REPO_MANIFEST

    record = config_record(make_config("paper"), ["x"])
    assert record["manifest_sha1"] == hashlib.sha1(REPO_MANIFEST.read_bytes()).hexdigest()
    assert record["weights_id"] == "imagenet"


def test_an_input_file_is_a_setting_by_content_not_by_path(tmp_path):
    # shards run from checkouts at other paths read the same manifest: same digest, merge and resume accepted
    from repro.data.imagenet import REPO_MANIFEST

    copies = [tmp_path / d / "data_manifest.csv" for d in ("node1", "node2")]
    for c in copies:
        c.parent.mkdir()
        c.write_bytes(REPO_MANIFEST.read_bytes())
    records = [config_record(make_config("paper", manifest=str(c)), ["x"]) for c in copies]
    assert records[0]["manifest"] != records[1]["manifest"]
    assert settings_digest(records[0]) == settings_digest(records[1])
    check_same_settings(tmp_path / "config.json", *records)
    copies[1].write_bytes(REPO_MANIFEST.read_bytes() + b"\n")  # other content at its path: refused by content
    edited = config_record(make_config("paper", manifest=str(copies[1])), ["x"])
    assert settings_digest(edited) != settings_digest(records[0])
    with pytest.raises(ReproError, match="manifest_sha1"):
        check_same_settings(tmp_path / "config.json", records[0], edited)
    missing = config_record(make_config("paper", manifest=str(tmp_path / "absent.csv")), ["x"])
    assert settings_digest(missing) != settings_digest(records[0])  # no content digest: the path is the setting


def test_a_custom_image_folder_is_a_setting_by_its_images_content(tmp_path):
    folders = [tmp_path / "a", tmp_path / "b"]
    for folder in folders:
        folder.mkdir()
        for name, data in (("x.png", b"png x"), ("y.png", b"png y")):
            (folder / name).write_bytes(data)
    (folders[0] / "notes.txt").write_bytes(b"not an image of the study")
    records = [config_record(make_config("custom", model="embedded", images=str(f)), ["x.png", "y.png"])
               for f in folders]
    text = f"x.png {hashlib.sha1(b'png x').hexdigest()}\ny.png {hashlib.sha1(b'png y').hexdigest()}"
    assert records[0]["images_sha1"] == hashlib.sha1(text.encode()).hexdigest()
    check_same_settings(tmp_path / "config.json", *records)  # the same images at another path
    (folders[1] / "y.png").write_bytes(b"png y, edited")
    edited = config_record(make_config("custom", model="embedded", images=str(folders[1])), ["x.png", "y.png"])
    with pytest.raises(ReproError, match="images_sha1"):
        check_same_settings(tmp_path / "config.json", records[0], edited)


def test_weights_and_model_files_are_settings_by_content_and_an_unreadable_file_is_one_line(tmp_path, monkeypatch):
    import repro.config as config

    for d in ("n1", "n2"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "w.h5").write_bytes(WEIGHTS_FILE.read_bytes())
    records = [config_record(make_config("embedded", weights=str(tmp_path / d / "w.h5")), ["x"]) for d in ("n1", "n2")]
    assert records[0]["weights"] != records[1]["weights"] and records[0]["weights_id"].startswith("sha1:")
    assert settings_digest(records[0]) == settings_digest(records[1]) == settings_digest(
        config_record(make_config("embedded"), ["x"]))  # the shipped file: the same numbers
    model_id = "file:net:0123456789ab:tf@16px"  # a custom model file's name carries its digest
    for d in ("n1", "n2"):
        (tmp_path / d / "net.h5").write_bytes(b"a model")
    records = [config_record(make_config("custom", model=str(tmp_path / d / "net.h5"), images="pics",
                                         model_id=model_id), ["x"]) for d in ("n1", "n2")]
    assert settings_digest(records[0]) == settings_digest(records[1])
    named = [config_record(make_config("custom", model=m, images="pics", model_id="resnet50@64px"), ["x"])
             for m in ("resnet50", "ResNet50")]
    assert settings_digest(named[0]) != settings_digest(named[1])  # a name is no file digest: compared as given

    def unreadable(path, *a):
        raise PermissionError(13, "Permission denied", str(path))

    labels = tmp_path / "labels.csv"
    labels.write_text("file,label\nx,1\n")
    monkeypatch.setattr(config, "file_digest", unreadable)
    with pytest.raises(ReproError, match=rf"^{labels}: cannot be read \(Permission denied\)$"):
        config_record(make_config("custom", model="embedded", images=str(tmp_path), labels=str(labels)), ["x"])


# ------------------------------------------------------------------------------------------- shards

def test_a_shard_counts_from_0_and_a_1_based_one_is_refused_with_the_fix():
    from repro.config import parse_shard

    assert [parse_shard(f"{i}/4", environ={}) for i in range(4)] == [(0, 4), (1, 4), (2, 4), (3, 4)]
    with pytest.raises(ReproError, match=r"^--shard 4/4: i counts from 0 \(0/4 \.\.\. 3/4\); for 1-based numbering "
                                         r"\(1/4 \.\.\. 4/4\) write i - 1, here 3/4$"):
        parse_shard("4/4", environ={})
    with pytest.raises(ReproError, match=r"^--shard 5/4: i counts from 0 \(0/4 \.\.\. 3/4\)$"):
        parse_shard("5/4", environ={})
    with pytest.raises(ReproError, match=r"^--shard -1/2: i counts from 0 \(0/2 \.\.\. 1/2\)$"):
        parse_shard("-1/2", environ={})
    with pytest.raises(ReproError, match=r"^--shard 1/1: i counts from 0 \(0/1\); for 1-based numbering \(1/1 \.\.\. "
                                         r"1/1\) write i - 1, here 0/1$"):
        parse_shard("1/1", environ={})
    with pytest.raises(ReproError, match=r"^--shard 0/0: N must be at least 1 \(shard i of N, 0 <= i < N\)$"):
        parse_shard("0/0", environ={})
    with pytest.raises(ReproError, match=r"^--shard must look like i/N \(e\.g\. 0/4\), got '1/2/3'$"):
        parse_shard("1/2/3", environ={})


@pytest.mark.parametrize("first", [1, 0])
def test_a_slurm_array_starting_at_1_or_at_0_gives_shards_0_to_n_minus_1(first):
    from repro.config import parse_shard

    shards = [parse_shard(None, environ={"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_MIN": str(first),
                                         "SLURM_ARRAY_TASK_COUNT": "4"}) for task in range(first, first + 4)]
    assert shards == [(0, 4), (1, 4), (2, 4), (3, 4)]


def test_the_slurm_shard_without_min_or_count_and_the_flag_wins():
    from repro.config import parse_shard

    assert parse_shard(None, environ={"SLURM_ARRAY_TASK_ID": "0"}) == (0, 1)
    assert parse_shard(None, environ={"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "3"}) == (2, 3)
    assert parse_shard("1/2", environ={"SLURM_ARRAY_TASK_ID": "abc"}) == (1, 2)  # --shard: the variables unread
    assert parse_shard(None, environ={"SLURM_JOB_ID": "7"}) == (0, 1)


@pytest.mark.parametrize("name, value", [("SLURM_ARRAY_TASK_ID", "abc"), ("SLURM_ARRAY_TASK_MIN", "1.5"),
                                         ("SLURM_ARRAY_TASK_COUNT", "")])
def test_a_slurm_variable_that_is_not_an_integer_is_one_line_naming_it(name, value):
    from repro.config import parse_shard

    env = {"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "2", name: value}
    with pytest.raises(ReproError) as info:
        parse_shard(None, environ=env)
    assert str(info.value) == (f"{name}={value!r}: not an integer (SLURM sets it for an array job); fix or unset it, "
                               "or pass --shard i/N")


def test_a_slurm_shard_out_of_range_names_the_variables():
    from repro.config import parse_shard

    env = {"SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"}  # --array=1-5:2
    with pytest.raises(ReproError) as info:
        parse_shard(None, environ=env)
    assert str(info.value) == ("SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=3: shard 4/3 "
                               "(TASK_ID - TASK_MIN of TASK_COUNT) is not one of 0/3 ... 2/3 (a stepped or listed "
                               "array?); pass --shard i/N to choose the shard yourself")


def test_a_bad_slurm_task_id_is_one_line_from_the_command(monkeypatch, tmp_path, capsys):
    from repro.cli import main

    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "abc")
    assert main(["reproduce", "--limit", "2", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err == ("repro reproduce: error: SLURM_ARRAY_TASK_ID='abc': not an integer (SLURM sets it for an array "
                   "job); fix or unset it, or pass --shard i/N\n")
    assert not (tmp_path / "run").exists()


# ------------------------------------------------------------------------------------------- settings refusals

def test_one_differing_setting_is_one_line_and_a_nested_one_names_only_its_key(tmp_path):
    where = tmp_path / "config.json"
    params = {"integrated_gradients": {"steps": 50, "rule": "midpoint", "batch": 32},
              "smoothgrad": {"samples": 50, "noise": 0.2, "seed": 0}}
    old = {"steps": 10, "method_params": params}
    new = {"steps": 10, "method_params": {**params, "integrated_gradients": {**params["integrated_gradients"],
                                                                            "rule": "right"}}}
    with pytest.raises(ReproError) as info:
        check_same_settings(where, old, new)
    assert str(info.value) == (f"{where} was made with different settings (method_params.integrated_gradients.rule: "
                               "'midpoint' != 'right'); use another --out directory")


def test_several_differing_settings_are_listed_one_per_line(tmp_path):
    where = tmp_path / "config.json"
    old = {"steps": 10, "batch_size": 64, "methods": ["saliency"], "method_params": {"saliency": {"a": 1}},
           "shard": [0, 2]}
    new = {"steps": 50, "batch_size": 64, "methods": ("saliency", "lrp"), "shard": [1, 2],
           "method_params": {"saliency": {"a": 2}, "lrp": {"rule": "epsilon", "epsilon": 0.01, "long": "x" * 200}}}
    with pytest.raises(ReproError) as info:
        check_same_settings(where, old, new, advice="these shards belong to different studies")
    long = repr({"rule": "epsilon", "epsilon": 0.01, "long": "x" * 200})[:117] + "..."
    assert str(info.value).splitlines() == [
        f"{where} was made with different settings (4 differ):",
        f"  method_params.lrp: (absent) != {long}",
        "  method_params.saliency.a: 1 != 2",
        "  methods: ['saliency'] != ('saliency', 'lrp')",
        "  steps: 10 != 50",
        "these shards belong to different studies",
    ]
    check_same_settings(where, {"methods": ["a"], "shard": [0, 2]}, {"methods": ("a",), "shard": [1, 2]})  # as JSON
