"""``repro train-embedded``: retrain the embedded model (:mod:`repro.embedded.train`), then run the criteria sanity
suite (:mod:`repro.embedded.sanity`) on it and add the measured rates to the JSON report beside the weights."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from repro.commands import nonneg_int, positive_int
from repro.embedded.train import TrainSettings

_DEFAULTS = TrainSettings()


def add_arguments(p: argparse.ArgumentParser) -> None:
    from repro.embedded.model import WEIGHTS_FILE

    p.add_argument("--out", type=Path, default=WEIGHTS_FILE,
                   help=f"weights file to write, .h5 (default: the shipped {WEIGHTS_FILE.name}); "
                        "the report goes beside it as .json")
    p.add_argument("--epochs", type=positive_int, default=_DEFAULTS.epochs,
                   help=f"passes over the data ({_DEFAULTS.epochs})")
    p.add_argument("--train-size", type=positive_int, default=_DEFAULTS.train_size,
                   help=f"generated training images ({_DEFAULTS.train_size})")
    p.add_argument("--test-size", type=positive_int, default=_DEFAULTS.test_size,
                   help=f"held-out generated test images for the reported accuracy ({_DEFAULTS.test_size})")
    p.add_argument("--seed", type=nonneg_int, default=_DEFAULTS.seed, help="seed of the data and of TensorFlow (0)")
    p.add_argument("--sanity-images", type=nonneg_int, default=90,
                   help="test images for the criteria sanity suite after training (90; 0 skips it)")
    p.add_argument("--sanity-steps", type=positive_int, default=50, help="curve steps K of the sanity suite (50)")
    p.add_argument("--sanity-only", action="store_true",
                   help="do not train: rerun the sanity suite on the weights at --out and update their report")


def run(args: argparse.Namespace) -> int:
    from repro.embedded.model import load_embedded
    from repro.embedded.sanity import run_sanity
    from repro.embedded.train import report_path, train, write_report
    from repro.errors import ReproError
    from repro.io import read_json

    if args.sanity_only:
        rpath = report_path(args.out)
        if not rpath.is_file():
            raise ReproError(f"{rpath}: no training report beside the weights; train them first")
        report = read_json(rpath)
    else:
        settings = TrainSettings(seed=args.seed, epochs=args.epochs, train_size=args.train_size,
                                 test_size=args.test_size)
        report = train(args.out, settings)
        print(f"held-out accuracy {report['test_accuracy']:.4f} on {settings.test_size} test images; "
              f"weights: {args.out}")
    if args.sanity_images > 0:
        start = time.perf_counter()
        sanity = run_sanity(load_embedded(args.out), n_images=args.sanity_images,
                            seed=report["settings"]["seed"],
                            steps=args.sanity_steps)
        report["sanity"] = {**sanity.to_json(), "seconds": round(time.perf_counter() - start, 1)}
        write_report(report_path(args.out), report)
        print("sanity rates: " + json.dumps(sanity.rates))
    print(f"report: {report_path(args.out)}")
    return 0
