"""``make bench``: run the benchmarks and write a markdown report (default ``benchmarks/RESULTS.md``).

Usage::

    python benchmarks/run.py --out benchmarks/RESULTS.md      # everything (~32 min on 2 cores: sections 1-4 150 s, section 5 1791 s)
    python benchmarks/run.py --quick --out /tmp/r.md           # smoke run: tiny sizes, no VGG16
    python benchmarks/run.py --skip-vgg16 --skip-peers ...     # parts only
    python benchmarks/run.py --only-sampling --out benchmarks/RESULTS.md   # section 5 alone, spliced into the report

Sections: (1) engine efficiency on the embedded model and on VGG16(weights=None) 224x224, (2) Xplique 1.5.2 and
Quantus 0.6.0 side by side with the engine, (3) scaling in images and steps with memory, (4) the paper profile
projected on this CPU and per GPU-hour (the GPU throughput is an explicit, labelled assumption), (5) sampling: the
fixed grid and ``steps="adaptive"`` against exact mode on the embedded model (32 images x 8 methods, ~25 min: exact
mode alone is ~2.4 M forwards), and adaptive's forwards on VGG16 (:mod:`benchmarks.sampling`).
Nothing is downloaded: the embedded model ships with the package (if its weights file is missing, the same
architecture with seeded random weights is used and the report says so); VGG16 is built with ``weights=None``.

This module only runs the sections in order and renders the report; each section lives with its measurements
(:mod:`benchmarks.efficiency`, :mod:`benchmarks.peers`, :mod:`benchmarks.scaling`), the sizes and inputs they
share in :mod:`benchmarks.inputs`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from benchmarks import harness  # noqa: E402
from benchmarks.efficiency import (EFFICIENCY_NOTE, efficiency_embedded, efficiency_rows,  # noqa: E402
                                   efficiency_vgg16, mask_cost_rows)
from benchmarks.harness import markdown_table, timed  # noqa: E402
from benchmarks.inputs import Settings, load_embedded  # noqa: E402
from benchmarks.peers import section_peers  # noqa: E402
from benchmarks.sampling import section_sampling  # noqa: E402
from benchmarks.scaling import section_projection, section_scaling  # noqa: E402


class _Clock:
    """Runs a section, prints its name and wall time, and keeps the times for the report."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def __call__(self, name: str, fn):
        print(f"{name} ...", flush=True)
        run = timed(fn)
        self.seconds[name] = run.seconds
        print(f"{name}: {run.seconds:.0f} s", flush=True)
        return run.value


def main(argv: list[str] | None = None) -> int:
    """Run the sections (embedded model first, VGG16 last) and write the report to ``--out``; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/RESULTS.md", help="markdown report path")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no VGG16 (smoke run)")
    parser.add_argument("--skip-vgg16", action="store_true", help="skip the VGG16 efficiency run and the projection")
    parser.add_argument("--skip-peers", action="store_true", help="skip Xplique / Quantus")
    parser.add_argument("--skip-sampling", action="store_true", help="skip section 5 (sampling vs exact mode)")
    parser.add_argument("--only-sampling", action="store_true",
                        help="run section 5 alone and splice it into the report at --out (other sections kept)")
    args = parser.parse_args(argv)
    s = Settings.quick() if args.quick else Settings()
    skip_vgg = args.skip_vgg16 or args.quick
    start = time.perf_counter()
    machine = harness.machine_description()
    emb = load_embedded(s.notes)
    clock = _Clock()
    if args.only_sampling:
        body = clock("sampling", lambda: section_sampling(emb, s, vgg=not skip_vgg))
        total = time.perf_counter() - start
        body += (f"\n\nSection run alone (`benchmarks/run.py --only-sampling`) in {total:.0f} s, "
                 f"{machine.get('date (UTC)', '')}, {machine.get('CPU', '')}, "
                 f"{machine.get('cores (logical / usable)', '')} cores, load average (1, 5, 15 min) at start "
                 f"{machine.get('load average (1, 5, 15 min) at start', '')}, at end "
                 f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}.")
        path = Path(args.out)
        old = path.read_text(encoding="utf-8") if path.exists() else render(machine, [], s, quick=args.quick)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(splice_section(old, SAMPLING_TITLE, body), encoding="utf-8")
        print(f"wrote section 5 into {args.out} in {total:.0f} s")
        return 0
    # Embedded-model work first (so the RSS high-water marks of the sweeps are not VGG16's), VGG16 last.
    results = [clock("efficiency (embedded)", lambda: efficiency_embedded(emb, s))]
    sc_text, sc = clock("scaling", lambda: section_scaling(emb, s))
    peer_text = "Skipped (--skip-peers)." if args.skip_peers else clock("peers", lambda: section_peers(emb, s))
    if not skip_vgg:
        results.append(clock("efficiency (vgg16)", lambda: efficiency_vgg16(s)))
    mask_rows = clock("engine-only cost", lambda: mask_cost_rows(results))
    sampling_text = ("Skipped (--skip-sampling)." if args.skip_sampling
                     else clock("sampling", lambda: section_sampling(emb, s, vgg=not skip_vgg)))
    sections = [
        ("1. Engine efficiency: all four criteria vs bare batched forwards",
         efficiency_rows(results) + "\n\n" + EFFICIENCY_NOTE + "\n\n" + mask_rows),
        ("2. Peers side by side: Xplique 1.5.2 and Quantus 0.6.0", peer_text),
        ("3. Scaling and memory", sc_text),
        ("4. Projection of the paper profile", section_projection(results, sc)),
        (SAMPLING_TITLE, sampling_text),
    ]
    total = time.perf_counter() - start
    machine["load average (1, 5, 15 min) at end"] = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in clock.seconds.items())
    machine["benchmark wall time"] = f"{total:.0f} s ({parts})"
    machine["embedded model"] = f"{emb.name} {emb.input_shape}"
    out = render(machine, sections, s, quick=args.quick)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(out, encoding="utf-8")
    print(f"wrote {args.out} in {total:.0f} s")
    return 0


SAMPLING_TITLE = "5. Sampling: fixed grid and adaptive against exact mode"


def splice_section(report: str, title: str, body: str) -> str:
    """``report`` with the section ``## title`` replaced by ``body`` (appended if absent); other sections kept."""
    head = f"## {title}"
    lines = report.rstrip("\n").split("\n")
    if head in lines:
        i = lines.index(head)
        j = next((k for k in range(i + 1, len(lines)) if lines[k].startswith("## ")), len(lines))
        lines = lines[:i] + [head, "", body, ""] + lines[j:]
    else:
        lines += ["", head, "", body]
    return "\n".join(lines).rstrip("\n") + "\n"


def render(machine: dict[str, str], sections: list[tuple[str, str]], s: Settings, quick: bool) -> str:
    """The markdown report: machine table, the settings' notes, then each ``(title, body)`` section."""
    lines = ["# Benchmarks: the criteria engine", "",
             "Written by `make bench` (`benchmarks/run.py`). Wall-clock times on the machine below; on a shared or "
             "loaded machine they are noisy (see the load averages): re-run on a quiet machine for final numbers.",
             ""]
    if quick:
        lines += ["**QUICK (smoke) RUN: tiny sizes, not representative.**", ""]
    lines += ["## Machine", "", markdown_table(["", ""], [[k, v] for k, v in machine.items()]), ""]
    for note in s.notes:
        lines += [f"> Note: {note}", ""]
    for title, body in sections:
        lines += [f"## {title}", "", body, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
