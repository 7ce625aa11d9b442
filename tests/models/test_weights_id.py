"""``weights_id``: a weights file is identified by its bytes, named weights by their name (no model is built)."""

from __future__ import annotations

import hashlib

from repro.embedded.model import WEIGHTS_FILE
from repro.models.weights import weights_id


def sha1_prefix(data: bytes) -> str:
    return "sha1:" + hashlib.sha1(data).hexdigest()[:16]


def test_the_shipped_embedded_weights_are_identified_by_their_bytes(tmp_path):
    assert weights_id("embedded", None) == sha1_prefix(WEIGHTS_FILE.read_bytes())
    copy = tmp_path / "renamed.h5"
    copy.write_bytes(WEIGHTS_FILE.read_bytes())
    assert weights_id("embedded", copy) == weights_id("embedded", None)  # the name of the file does not matter


def test_retraining_in_place_changes_the_id(tmp_path):
    f = tmp_path / "w.h5"
    f.write_bytes(b"weights v1")
    before = weights_id("embedded", f)
    f.write_bytes(b"weights v2")
    assert before == sha1_prefix(b"weights v1") and weights_id("embedded", f) == sha1_prefix(b"weights v2")


def test_named_weights_keep_their_name_and_a_model_file_its_digest(tmp_path):
    assert weights_id("vgg16", None) == weights_id("resnet50", "imagenet") == "imagenet"
    assert weights_id("VGG16", "ImageNet") == "imagenet"
    assert weights_id("vgg16", "random") == weights_id("vgg16", "none") == "random"
    model_file = tmp_path / "net.keras"
    model_file.write_bytes(b"a model")
    assert weights_id(str(model_file), None) == sha1_prefix(b"a model")
    assert weights_id("vgg16", tmp_path / "absent.h5") == str(tmp_path / "absent.h5")


def test_a_registry_name_wins_over_a_file_of_that_name_as_in_load_model(tmp_path, monkeypatch):
    from repro.models import names_model_file

    monkeypatch.chdir(tmp_path)
    (tmp_path / "vgg16").write_bytes(b"not the network")
    (tmp_path / "ResNet50").write_bytes(b"nor this")
    assert not names_model_file("vgg16") and not names_model_file("ResNet50")
    assert weights_id("vgg16", None) == weights_id("ResNet50", None) == "imagenet"  # what load_model loads
    assert names_model_file("./vgg16") and weights_id("./vgg16", None) == sha1_prefix(b"not the network")
    assert names_model_file("mine.keras") and not names_model_file("embedded")
