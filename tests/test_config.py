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
