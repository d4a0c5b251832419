"""The README's research-code example is executed as written, so the documented usage
cannot rot."""
import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
MARKER = "<!-- example: research-code -->"


def example_source() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)```", text, re.S)
    assert match, f"README.md needs a {MARKER} line followed by a ```python block"
    return match.group(1)


def test_research_code_example_runs_and_learns():
    import hypsst

    namespace = {"__name__": "__example__"}
    exec(compile(example_source(), "research-code example", "exec"), namespace)
    model, losses = namespace["model"], namespace["losses"]
    sst_layers = [m for m in model.modules() if isinstance(m, hypsst.SSTLinear)]
    assert len(sst_layers) == 2 and not any(type(m) is torch.nn.Linear for m in model.modules())
    assert all(len(m.active) == 2 for m in sst_layers)
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < 0.5 * losses[0]
    z = model(namespace["x"], namespace["edge_index"]).detach()
    assert model.encoder.manifold.check_point_on_manifold(z)
    assert model.metrics(z, namespace["edges"], namespace["neg"])["roc_auc"] > 0.9
