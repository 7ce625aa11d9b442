"""The README's Python API example runs as printed (on the shipped embedded model) and means what it says."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_api_example() -> str:
    """The first ```python block of the README section "Use it on your own model and attributions"."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Use it on your own model and attributions"):]
    match = re.search(r"```python\n(.*?)```", section, flags=re.S)
    assert match, "README: no python block under 'Use it on your own model and attributions'"
    return match.group(1)


def test_readme_api_example_runs_on_the_embedded_model():
    from repro.criteria import evaluate
    from repro.models import top1_targets

    namespace: dict = {}
    exec(compile(readme_api_example(), str(README), "exec"), namespace)  # noqa: S102 - our own README
    model, x, maps, targets, res, both = (namespace[k] for k in ("model", "x", "maps", "targets", "res", "both"))
    assert model.name == "embedded" and x.shape == (8, 64, 64, 3)
    np.testing.assert_array_equal(targets, top1_targets(model, x))
    assert len(res) == 8 and np.array_equal(res.targets, targets)
    assert set(both) == {"ig", "random"} and all(len(r) == 8 for r in both.values())
    # res has the study's defaults; both reads the probability: y0 differs from the logit of `res`.
    assert res.settings["score"] == "logit" and res.settings["steps"] == "adaptive"
    assert both["ig"].settings["score"] == "probability" and not np.allclose(both["ig"].y0, res.y0)
    again = evaluate(model, x, maps, targets=targets, steps=100, score="probability")
    np.testing.assert_allclose(both["ig"].n_ord, again.n_ord, atol=1e-6)  # float32 rounding of other batches
