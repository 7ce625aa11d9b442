"""notebooks/walkthrough.ipynb executed headless by repro.notebook: the one test of the suite that runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import ReproError

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow  # starts a Jupyter kernel: ~6 s idle, several times that on a loaded machine
def test_walkthrough_notebook_executes_headless(synthetic_run):
    import nbformat

    from repro.claims import check_claims
    from repro.figures import draw_all
    from repro.notebook import execute_notebook

    out = synthetic_run
    draw_all(out, dpi=40)
    check_claims(out, resamples=50, toys=False)
    executed = execute_notebook(NOTEBOOK, out)
    assert executed == out / "walkthrough.ipynb"
    nb = nbformat.read(executed, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)  # every code cell ran
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 6  # Figures 2-7
    text = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs)
    assert "Claims of Section 4.2, checked" in text and "| DeepLIFT |" in text
    assert str(out) in "".join(o.get("text", "") for o in outputs)  # REPRO_RESULTS reached the kernel


def test_notebook_runner_errors(tmp_path):
    from repro.notebook import execute_notebook, main

    with pytest.raises(ReproError, match="notebook not found"):
        execute_notebook(tmp_path / "none.ipynb", tmp_path)
    (tmp_path / "nb.ipynb").write_text("{}")
    with pytest.raises(ReproError, match="no results.csv"):
        execute_notebook(tmp_path / "nb.ipynb", tmp_path / "empty")
    assert main([str(tmp_path / "none.ipynb"), "--results", str(tmp_path)]) == 2
