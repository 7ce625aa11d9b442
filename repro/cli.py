"""The ``repro`` command. Each subcommand lives in ``repro/commands/<name>.py`` and exposes
``add_arguments(parser)`` and ``run(args) -> int``; this module only dispatches, importing a subcommand (and so
TensorFlow) only when it runs.

Before a subcommand runs, every output location it will write (:data:`OUTPUTS`) is checked to be writable
(:func:`repro.io.check_writable`), so a bad ``--out`` fails in one line before any work; a command that is refused
or interrupted then removes the directories that check created if they are still empty. A
:class:`~repro.errors.ReproError` prints one line and exits with status 2; Ctrl-C prints one line and exits with
status 130 (finished chunks and cached maps are kept: rerunning the same command resumes).
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUBCOMMANDS: dict[str, str] = {
    "reproduce": "run the whole study: predictions, attributions, curves, criteria, table, figures, claims",
    "attribute": "compute attribution maps for a model and images, cached by model/image/method/parameters",
    "evaluate": "N-Ord, S-Ord, TPN and TPS for saved attribution maps (.npy/.npz) you bring",
    "check-claims": "test the conclusions of Section 4.2 against a results table",
    "figures": "draw Figures 2-7 from a results directory",
    "merge": "join the outputs of sharded runs (refuses shards made with different settings)",
    "manifest": "regenerate or verify data_manifest.csv (the 9600 ImageNet validation images)",
    "train-embedded": "retrain the embedded offline model on the generated shapes data",
}


OUTPUTS: dict[str, tuple[tuple[str, str], ...]] = {
    "reproduce": (("out", "dir"),),
    "attribute": (("out", "file"), ("cache", "dir")),
    "evaluate": (("out", "file"),),
    "check-claims": (("results_dir", "dir"),),
    "figures": (("results_dir", "dir"),),
    "merge": (("out", "dir"),),
    "train-embedded": (("out", "file"),),
}
"""Subcommand -> the ``(argument, kind)`` of every location it writes; ``manifest`` writes only with ``--write``."""

INTERRUPTED_STATUS = 130
"""Exit status after Ctrl-C (128 + SIGINT), as a shell reports it."""


def check_outputs(args: argparse.Namespace) -> None:
    """Raise :class:`~repro.errors.WriteError` naming the first output location of ``args`` that cannot be written."""
    from repro.io import check_writable

    outputs = OUTPUTS.get(args.command, ())
    if args.command == "manifest" and getattr(args, "write", False):
        outputs = (("out", "file"),)
    for name, kind in outputs:
        value = getattr(args, name, None)
        if value is not None:
            check_writable(value, kind)


def remove_new_empty_directories(created: list) -> list:
    """Remove each directory of ``created`` (made by this command: :data:`repro.io.CREATED_DIRECTORIES`) whose
    tree holds nothing but directories, innermost first; a tree holding any file (or link) is left as it is.
    Returns the directories removed."""
    import os
    from pathlib import Path

    removed = []
    for top in map(Path, reversed(created)):
        if top.is_symlink() or not top.is_dir():
            continue
        tree = list(os.walk(top, topdown=False))
        if any(files or any(os.path.islink(os.path.join(folder, d)) for d in dirs) for folder, dirs, files in tree):
            continue
        for folder, _, _ in tree:
            try:
                os.rmdir(folder)
                removed.append(Path(folder))
            except OSError:  # filled or removed meanwhile
                break
    return removed


def _module(name: str):
    return importlib.import_module(f"repro.commands.{name.replace('-', '_')}")


class SubcommandParser(argparse.ArgumentParser):
    """The parser of one subcommand: an argument it does not know (``repro evaluate --mapz x``) is refused with
    ITS usage line (``usage: repro evaluate ...``), not the top-level ``usage: repro [-h] COMMAND ...`` that
    argparse prints when the subcommand hands its leftovers back to the top-level parser."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only`` set, import just that subcommand's arguments. Each subcommand's parser is
    a :class:`SubcommandParser`, so a misspelled option prints that subcommand's usage line."""
    parser = argparse.ArgumentParser(
        prog="repro",
        description="Interpreting Interpretations (Wang et al.): necessity and sufficiency criteria for attributions.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=SubcommandParser)
    for name, help_text in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if only == name:
            _module(name).add_arguments(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``repro`` command ``argv`` (default ``sys.argv[1:]``); returns its exit status: the subcommand's,
    2 after a :class:`~repro.errors.ReproError` (one line on stderr), 130 after Ctrl-C. A command that does not
    finish removes the directories its output checks created that are still empty
    (:func:`remove_new_empty_directories`)."""
    import os

    from repro.errors import ReproError

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's CUDA-plugin noise on CPU machines
    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser(only=command if command in SUBCOMMANDS else None)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    from repro.io import CREATED_DIRECTORIES

    first_new = len(CREATED_DIRECTORIES)
    finished = False
    try:
        check_outputs(args)
        status = int(_module(args.command).run(args) or 0)
        finished = True
        return status
    except ReproError as exc:
        print(f"repro {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nrepro {args.command}: interrupted; rerun the same command to resume", file=sys.stderr)
        return INTERRUPTED_STATUS
    finally:
        if not finished:  # a refused or interrupted command leaves no new empty directory
            remove_new_empty_directories(CREATED_DIRECTORIES[first_new:])
        del CREATED_DIRECTORIES[first_new:]


if __name__ == "__main__":
    sys.exit(main())
