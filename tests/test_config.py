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
