"""merge: dense nn.Linear with the same outputs; keep < 1 gives a truncated-SVD
LowRankLinear whose reported error matches the measured one."""
import math

import pytest
import torch
from torch import nn

import hypsst
from hypsst.lowrank import LowRankLinear


def _trained(method):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 16), nn.Tanh(), nn.Linear(16, 4)).double()
    model = hypsst.convert(model, method, 3, steps_per_iteration=2) if method == "sst" else \
        hypsst.convert(model, method, 3)
    opt = hypsst.make_optimizer(model, 0.05)
    x = torch.randn(32, 10, dtype=torch.float64)
    for _ in range(5):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
    return model, x


@pytest.mark.parametrize("method", ["sst", "lora", "relora"])
def test_merge_full_keeps_outputs(method):
    model, x = _trained(method)
    before = model(x).detach()
    merged = hypsst.merge(model)
    assert all(type(m) in (nn.Linear, nn.Tanh, nn.Sequential) for m in merged.modules())
    torch.testing.assert_close(merged(x), before, atol=1e-12, rtol=1e-12)


def test_merge_low_rank_reports_error():
    model, x = _trained("sst")
    layer = model[0]
    W, b = layer.weight.detach().clone(), layer.bias.detach().clone()
    merged = hypsst.merge(model, keep=0.5)
    assert not any(p.requires_grad is False for p in merged.parameters())
    low = merged[0]
    assert isinstance(low, LowRankLinear) and low.rank == 5  # ceil(0.5 · 10)
    S = torch.linalg.svdvals(W)
    assert low.relative_error == pytest.approx(math.sqrt((S[5:] ** 2).sum() / (S ** 2).sum()))
    Wq = (low.up.weight @ low.down.weight).detach()
    assert torch.linalg.matrix_rank(Wq) == 5
    err = torch.linalg.norm(W - Wq) / torch.linalg.norm(W)
    assert float(err) == pytest.approx(low.relative_error)
    # with white inputs the relative output error matches in mean square
    z = torch.randn(20000, 10, dtype=torch.float64)
    out_err = ((z @ (W - Wq).T).square().sum() / (z @ W.T).square().sum()).sqrt()
    assert float(out_err) == pytest.approx(low.relative_error, rel=0.05)
    torch.testing.assert_close(low(z[:3]), z[:3] @ Wq.T + b)


def test_bad_keep():
    for keep in (0, 1.5, -0.1, "all"):
        with pytest.raises(ValueError, match=r"keep must be a fraction in \(0, 1\]"):
            hypsst.merge(nn.Linear(3, 3), keep)
