"""Deterministic training of the embedded model (:mod:`repro.embedded.model`) on the logic-shapes data.

Recipe: ``train_size`` images of the ``"train"`` split and ``test_size`` images of the held-out ``"test"`` split
(:mod:`repro.data.shapes`, both under data seed ``seed``), preprocessed by :func:`repro.models.unit_preprocess`;
Adam (learning rate ``learning_rate``), sparse categorical cross-entropy on the softmax output, ``epochs`` passes
in shuffled mini-batches of ``batch_size``. ``tf.keras.utils.set_random_seed(seed)`` and
``tf.config.experimental.enable_op_determinism()`` make the weights a function of the settings (on one machine
and TensorFlow build).

:func:`train` writes the weights (``.h5``) and a JSON report beside them (``<out>.json``: settings, train and
held-out accuracy, per-class held-out accuracy, wall time) atomically: each goes to a temporary file in the same
directory that is renamed into place only when complete.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from repro.data.shapes import CLASS_NAMES, generate_arrays
from repro.errors import ReproError
from repro.models import unit_preprocess


@dataclass(frozen=True)
class TrainSettings:
    """Every setting that determines the trained weights (saved in the report)."""

    seed: int = 0
    epochs: int = 6
    train_size: int = 9000
    test_size: int = 1500
    batch_size: int = 64
    learning_rate: float = 1e-3

    def validate(self) -> None:
        for name in ("epochs", "train_size", "test_size", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ReproError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.seed < 0:
            raise ReproError(f"seed must be >= 0, got {self.seed}")
        if not self.learning_rate > 0:
            raise ReproError(f"learning_rate must be > 0, got {self.learning_rate}")


def report_path(weights_path: str | Path) -> Path:
    """The JSON report that belongs to a weights file: same name, ``.json`` suffix."""
    return Path(weights_path).with_suffix(".json")


def atomic_write(path: str | Path, write: Callable[[Path], None], suffix: str) -> None:
    """Call ``write(tmp)`` on a temporary file next to ``path``, then rename it onto ``path``.

    A crash leaves either the old file or the new one, never a partial file. ``suffix`` is the temporary
    file's suffix (Keras picks the weights format from it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; the shipped files must be readable by every user
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_report(path: str | Path, report: dict[str, Any]) -> None:
    """Write ``report`` as indented, key-sorted JSON, atomically (:func:`repro.io.atomic_write_json`)."""
    from repro.io import atomic_write_json

    atomic_write_json(path, report)


def accuracy_by_class(probabilities: np.ndarray, labels: np.ndarray) -> tuple[float, dict[str, float]]:
    """Top-1 accuracy overall and per true class.

    Args:
        probabilities: ``(N, 3)`` class scores.
        labels: ``(N,)`` true class indices.
    """
    pred = np.argmax(probabilities, axis=1)
    per = {CLASS_NAMES[c]: float(np.mean(pred[labels == c] == c)) for c in range(len(CLASS_NAMES))
           if np.any(labels == c)}
    return float(np.mean(pred == labels)), per


def train(out: str | Path, settings: TrainSettings = TrainSettings(), verbose: int = 2) -> dict[str, Any]:
    """Train the embedded model, write ``out`` (weights, ``.h5``) and ``report_path(out)``; return the report.

    Args:
        out: destination of the weights; must end in ``.h5``.
        settings: see :class:`TrainSettings`.
        verbose: Keras ``fit`` verbosity (0 silent, 2 one line per epoch).
    """
    import tensorflow as tf

    from repro.embedded.model import build_embedded

    settings.validate()
    out = Path(out)
    if out.suffix != ".h5":
        raise ReproError(f"{out}: the weights file must end in .h5")
    start = time.perf_counter()
    tf.keras.utils.set_random_seed(settings.seed)
    tf.config.experimental.enable_op_determinism()

    x_train, y_train = generate_arrays(settings.seed, "train", range(settings.train_size))
    x_test, y_test = generate_arrays(settings.seed, "test", range(settings.test_size))
    x_train, x_test = unit_preprocess(x_train), unit_preprocess(x_test)
    data_seconds = time.perf_counter() - start

    model = build_embedded()
    model.compile(optimizer=tf.keras.optimizers.Adam(settings.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=settings.batch_size, epochs=settings.epochs,
                        shuffle=True, verbose=verbose)

    test_acc, test_per_class = accuracy_by_class(model.predict(x_test, batch_size=256, verbose=0), y_test)
    train_acc, _ = accuracy_by_class(model.predict(x_train, batch_size=256, verbose=0), y_train)
    atomic_write(out, lambda p: model.save_weights(str(p)), suffix=".h5")
    report = {
        "settings": asdict(settings),
        "class_names": list(CLASS_NAMES),
        "train_accuracy": train_acc,
        "test_accuracy": test_acc,
        "test_accuracy_per_class": test_per_class,
        "test_split": {"split": "test", "seed": settings.seed, "size": settings.test_size},
        "final_train_loss": float(history.history["loss"][-1]),
        "data_seconds": round(data_seconds, 1),
        "total_seconds": round(time.perf_counter() - start, 1),
        "cpu_count": os.cpu_count(),
        "tensorflow": tf.__version__,
        "weights_bytes": out.stat().st_size,
    }
    write_report(report_path(out), report)
    return report
