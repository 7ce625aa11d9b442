"""Execute ``notebooks/walkthrough.ipynb`` headless against a results directory and save the executed copy.

``python -m repro.notebook notebooks/walkthrough.ipynb [--results OUT] [--out PATH]``

* The results directory is ``--results``, else the environment variable ``REPRO_RESULTS``, else
  ``results/embedded``; it is passed to the kernel as an absolute ``REPRO_RESULTS``.
* The executed notebook is written atomically to ``OUT/walkthrough.ipynb`` (or ``--out``).
* Kernel: always the interpreter running this module (``sys.executable -m ipykernel_launcher``), whatever
  kernelspecs are or are not installed. A ``python3`` kernelspec elsewhere (e.g. a user's
  ``~/.local/share/jupyter/kernels/python3`` pointing at another Python without this package) can therefore never
  be picked up, and no ``ipykernel install`` step is needed: only ``ipykernel`` in the same environment.
* The kernel's working directory is the current directory, so relative paths mean the same as on the command
  line.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from repro.errors import ReproError

DEFAULT_RESULTS = "results/embedded"
KERNEL_NAME = "python3"


def _kernel_manager_class():
    """An ``AsyncKernelManager`` whose only kernelspec is the current interpreter with ipykernel."""
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    class CurrentInterpreterSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
            if kernel_name != KERNEL_NAME:
                raise NoSuchKernel(kernel_name)
            return KernelSpec(argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                              display_name=f"Python {sys.version_info[0]}.{sys.version_info[1]} ({sys.executable})",
                              language="python", resource_dir="", metadata={})

        def find_kernel_specs(self) -> dict[str, str]:
            return {KERNEL_NAME: ""}

    class CurrentInterpreterKernelManager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return CurrentInterpreterSpecs(data_dir=self.data_dir)

    return CurrentInterpreterKernelManager


def execute_notebook(notebook: str | Path, results_dir: str | Path | None = None, out: str | Path | None = None,
                     timeout: int = 1800) -> Path:
    """Run every cell of ``notebook`` in a fresh kernel and write the executed copy.

    Args:
        notebook: the ``.ipynb`` to run.
        results_dir: run directory the notebook reads (default: ``$REPRO_RESULTS`` or ``results/embedded``).
        out: where the executed notebook goes (default ``<results_dir>/<notebook name>``).
        timeout: seconds allowed per cell.
    Returns:
        The path of the executed notebook.
    Raises:
        ReproError: missing notebook or results directory, or a cell raised (the message names the cell).
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from repro.io import atomic_write_text

    notebook = Path(notebook)
    if not notebook.is_file():
        raise ReproError(f"{notebook}: notebook not found")
    results = Path(results_dir or os.environ.get("REPRO_RESULTS") or DEFAULT_RESULTS).resolve()
    if not (results / "results.csv").is_file():
        raise ReproError(f"{results}: no results.csv; run `make reproduce` (or `repro reproduce --out {results}`) "
                         "first, or point REPRO_RESULTS at a run directory")
    out = Path(out) if out else results / notebook.name
    nb = nbformat.read(notebook, as_version=4)
    previous = os.environ.get("REPRO_RESULTS")
    os.environ["REPRO_RESULTS"] = str(results)  # the kernel inherits this process's environment
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name=KERNEL_NAME,
                                kernel_manager_class=_kernel_manager_class(),
                                resources={"metadata": {"path": os.getcwd()}})
        client.execute()
    except CellExecutionError as exc:
        raise ReproError(f"{notebook}: a cell failed:\n{exc}") from None
    finally:
        if previous is None:
            os.environ.pop("REPRO_RESULTS", None)
        else:
            os.environ["REPRO_RESULTS"] = previous
    atomic_write_text(out, nbformat.writes(nb))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.notebook", description=__doc__.split("\n\n")[0])
    parser.add_argument("notebook", type=Path, help="the notebook to execute (notebooks/walkthrough.ipynb)")
    parser.add_argument("--results", type=Path, default=None,
                        help=f"results directory (default: $REPRO_RESULTS or {DEFAULT_RESULTS})")
    parser.add_argument("--out", type=Path, default=None, help="executed copy (default: RESULTS/<notebook name>)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    args = parser.parse_args(argv)
    try:
        path = execute_notebook(args.notebook, args.results, args.out, args.timeout)
    except ReproError as exc:
        print(f"python -m repro.notebook: error: {exc}", file=sys.stderr)
        return 2
    print(f"[repro] executed {args.notebook} -> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
