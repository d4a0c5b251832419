"""hypsst.convert: every nn.Linear swapped (nested too), outputs kept, exclusions,
rank clamping with one warning, seeds, errors."""
import warnings

import pytest
import torch
from torch import nn

import hypsst
from hypsst import LoRALinear, ReLoRALinear, SSTLinear

CLASSES = {"sst": SSTLinear, "lora": LoRALinear, "relora": ReLoRALinear}


class Block(nn.Module):  # a custom layer holding Linears, as hyperbolic layers do
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(8, 8)
        self.layers = nn.ModuleList([nn.Linear(8, 8), nn.Linear(8, 2)])

    def forward(self, x):
        x = torch.tanh(self.inner(x))
        return self.layers[1](torch.relu(self.layers[0](x)))


def _model(dtype=torch.float32):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 8), nn.ReLU(), Block()).to(dtype)


@pytest.mark.parametrize("method", ["full", "lora", "relora", "sst"])
@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_conversion_preserves_outputs(method, dtype, tol):
    model = _model(dtype)
    x = torch.randn(3, 4, 5, dtype=dtype)
    before = model(x).detach()
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        out = hypsst.convert(model, method, 3)
    assert out is model
    torch.testing.assert_close(out(x), before, atol=tol, rtol=tol)
    linears = [m for m in out.modules() if isinstance(m, nn.Linear)]
    if method == "full":
        assert len(linears) == 4
    else:
        assert not linears
        layers = [m for m in out.modules() if isinstance(m, CLASSES[method])]
        assert len(layers) == 4 and all(m.U_all.dtype == dtype if method == "sst"
                                        else m.weight0.dtype == dtype for m in layers)


def test_rank_clamped_with_one_warning_naming_layers():
    with pytest.warns(UserWarning) as record:
        model = hypsst.convert(_model(), "sst", 4)
    assert len(record) == 1
    msg = str(record[0].message)
    assert "2.layers.1 (8->2: rank 2)" in msg and "1 layer(s)" in msg
    assert model[2].layers[1].rank == 2 and model[2].inner.rank == 4


def test_exclude_patterns_and_distinct_deterministic_seeds():
    model = hypsst.convert(_model(), "sst", 2, exclude=["2.layers*"], seed=7)
    assert isinstance(model[2].layers[0], nn.Linear) and isinstance(model[2].layers[1], nn.Linear)
    assert isinstance(model[0], SSTLinear) and isinstance(model[2].inner, SSTLinear)
    again = hypsst.convert(_model(), "sst", 2, exclude="2.layers*", seed=7)
    assert model[0].seed == again[0].seed and model[0].seed != model[2].inner.seed
    assert torch.equal(model[0].active, again[0].active)
    assert hypsst.convert(_model(), "sst", 2, seed=8)[0].seed != model[0].seed


def test_top_level_linear_shared_module_and_options():
    lin = nn.Linear(6, 4)
    assert isinstance(hypsst.convert(lin, "lora", 2, alpha=4.0), LoRALinear)
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    model = hypsst.convert(model, "relora", 2, steps_per_iteration=7)
    assert model[0] is model[2] and model[0].steps_per_iteration == 7


def test_errors():
    with pytest.raises(ValueError, match="unknown method 'svd'; allowed: full, lora, relora, sst"):
        hypsst.convert(_model(), "svd", 2)
    for rank in (0, -3, 1.5):
        with pytest.raises(ValueError, match="rank must be a positive integer"):
            hypsst.convert(_model(), "sst", rank)
    with pytest.raises(ValueError, match="unknown option.*alpha.*for method 'sst'"):
        hypsst.convert(_model(), "sst", 2, alpha=1.0)


def test_internal_imports_leave_public_functions_callable():
    # the modules are named conversion/merging, not convert/merge: importing a submodule
    # named like a public function would rebind that package attribute to the module
    import subprocess
    import sys
    code = ("import hypsst.sst, hypsst.lora, hypsst.optim, hypsst.memory, hypsst.lowrank, "
            "hypsst._layers, hypsst._spectral, hypsst.conversion, hypsst.merging, hypsst; "
            "import torch; "
            "assert callable(hypsst.merge) and callable(hypsst.convert); "
            "hypsst.merge(hypsst.convert(torch.nn.Linear(3, 3), 'sst', 1))")
    subprocess.run([sys.executable, "-c", code], check=True)
