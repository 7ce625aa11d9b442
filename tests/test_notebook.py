"""notebooks/walkthrough.ipynb executed headless by repro.notebook: the one test of the suite that runs it."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import ReproError

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "walkthrough.ipynb"


@pytest.mark.slow  # starts a Jupyter kernel: ~6 s idle, several times that on a loaded machine
def test_walkthrough_notebook_executes_headless(synthetic, tmp_path):
    """The synthetic run with one finite row flagged twice (both penalties ~0) beside its NaN row: the notebook
    lists the NaN reason as undefined and the two flags apart, each with its count."""
    import nbformat

    from repro.claims import check_claims
    from repro.criteria.result import FLAG_REASONS, REASON_NO_POSITIVE, REASON_SEPARATOR
    from repro.figures import draw_all
    from repro.notebook import execute_notebook
    from repro.results import write_results

    out = synthetic.results_dir(tmp_path / "run", examples=2, size=8)
    rows = synthetic.rows()
    flagged = next(r for r in rows if not r["reason"])
    flagged["reason"] = REASON_SEPARATOR.join(FLAG_REASONS)
    write_results(out / "results.csv", rows)
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
    undefined, _, flags = text.partition("Flags on finite values (kept in the medians above):")
    n = len(rows)
    assert f"Reasons for undefined values (NaN, dropped above):\n\n* {REASON_NO_POSITIVE} (1 of {n} rows)" in undefined
    assert flags.startswith("\n\n" + "\n".join(f"* {r} (1 of {n} rows)" for r in sorted(FLAG_REASONS)))
    assert not any(r in undefined for r in FLAG_REASONS)
    assert str(out) in "".join(o.get("text", "") for o in outputs)  # REPRO_RESULTS reached the kernel


def test_notebook_runner_errors(tmp_path):
    from repro.notebook import execute_notebook, main

    with pytest.raises(ReproError, match="notebook not found"):
        execute_notebook(tmp_path / "none.ipynb", tmp_path)
    (tmp_path / "nb.ipynb").write_text("{}")
    with pytest.raises(ReproError, match="no results.csv"):
        execute_notebook(tmp_path / "nb.ipynb", tmp_path / "empty")
    assert main([str(tmp_path / "none.ipynb"), "--results", str(tmp_path)]) == 2
