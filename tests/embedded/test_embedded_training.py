"""The training script stays alive: a tiny run writes loadable weights and a report, deterministically, atomically."""

import json

import numpy as np
import pytest

from repro.cli import main
from repro.embedded.model import load_embedded
from repro.embedded.train import TrainSettings, atomic_write, report_path, train
from repro.errors import ReproError

TINY = dict(epochs=1, train_size=48, test_size=12, batch_size=16)


@pytest.mark.slow
def test_cli_trains_a_few_steps_into_tmp_path(tmp_path, capsys):
    out = tmp_path / "w.h5"
    code = main(["train-embedded", "--out", str(out), "--epochs", "1", "--train-size", "48", "--test-size", "12",
                 "--sanity-images", "0"])
    assert code == 0 and out.is_file()
    report = json.loads(report_path(out).read_text())
    assert report["settings"] == {**TrainSettings().__dict__, **TINY, "batch_size": TrainSettings().batch_size}
    assert 0.0 <= report["test_accuracy"] <= 1.0 and set(report["test_accuracy_per_class"]) <= {
        "A_and_B", "C_or_D", "neither"}
    model = load_embedded(out)
    probs = model.predict(model.baseline[None])
    np.testing.assert_allclose(probs.sum(), 1.0, atol=1e-6)
    assert "held-out accuracy" in capsys.readouterr().out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "temporary files left behind"
    # --sanity-only reruns the sanity suite on those weights and adds it to the same report.
    assert main(["train-embedded", "--out", str(out), "--sanity-only", "--sanity-images", "6",
                 "--sanity-steps", "4"]) == 0
    updated = json.loads(report_path(out).read_text())
    assert updated["test_accuracy"] == report["test_accuracy"]
    assert updated["sanity"]["counts"] == {"A_and_B": 2, "C_or_D": 2} and updated["sanity"]["settings"]["steps"] == 4


def test_sanity_only_without_a_report_is_a_one_line_error(tmp_path, capsys):
    assert main(["train-embedded", "--out", str(tmp_path / "none.h5"), "--sanity-only"]) == 2
    assert "none.json: no training report" in capsys.readouterr().err


@pytest.mark.slow
def test_same_settings_give_identical_weights(tmp_path):
    a = train(tmp_path / "a.h5", TrainSettings(**TINY), verbose=0)
    b = train(tmp_path / "b.h5", TrainSettings(**TINY), verbose=0)
    assert a["test_accuracy"] == b["test_accuracy"]
    wa, wb = load_embedded(tmp_path / "a.h5").keras_model, load_embedded(tmp_path / "b.h5").keras_model
    for x, y in zip(wa.get_weights(), wb.get_weights()):
        np.testing.assert_array_equal(x, y)


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(ReproError, match="must end in .h5"):
        train(tmp_path / "w.keras", TrainSettings(**TINY))
    with pytest.raises(ReproError, match="epochs must be >= 1, got 0"):
        train(tmp_path / "w.h5", TrainSettings(**{**TINY, "epochs": 0}))


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")

    def fail(path):
        path.write_text("partial")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, fail, suffix=".json")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]
