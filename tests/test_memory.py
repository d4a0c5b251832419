"""memory_report against closed forms for SST, LoRA and full-rank layers."""
import pytest
import torch
from torch import nn

import hypsst

m, n, r = 12, 20, 3
k = min(m, n)


def _stepped(method, optimizer, dtype):
    torch.manual_seed(0)
    layer = hypsst.convert(nn.Linear(n, m, dtype=dtype), method, r)
    opt = hypsst.make_optimizer(layer, 1e-3, optimizer=optimizer)
    layer(torch.randn(4, n, dtype=dtype)).sum().backward()
    opt.step()
    return hypsst.memory_report(layer, opt)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("optimizer,step_bytes", [("radam", 0), ("adam", 4)])
@pytest.mark.parametrize("method,trainable,tensors,frozen", [
    ("sst", r * (m + n) + k + m, 4, k * (m + n)),   # σ, U_active, Vh_active, bias
    ("lora", r * (m + n) + m, 3, m * n),            # A, B, bias; W0 frozen
    ("relora", r * (m + n) + m, 3, m * n),
    ("full", m * n + m, 2, 0),                       # weight, bias
])
def test_closed_forms(dtype, optimizer, step_bytes, method, trainable, tensors, frozen):
    size = torch.finfo(dtype).bits // 8
    rep = _stepped(method, optimizer, dtype)
    # Adam: exp_avg + exp_avg_sq per trainable number; torch Adam adds a float32 step
    # tensor per parameter, RiemannianAdam's step is a Python int
    assert rep["optimizer_state_bytes"] == 2 * trainable * size + tensors * step_bytes
    assert rep["trainable_params"] == trainable
    assert rep["grad_bytes"] == trainable * size
    assert rep["frozen_params"] == frozen
    assert rep["param_bytes"] == (trainable + frozen) * size


def test_sst_state_within_bound_and_empty_before_first_step():
    sst, full = _stepped("sst", "radam", torch.float32), _stepped("full", "radam", torch.float32)
    ratio = sst["optimizer_state_bytes"] / full["optimizer_state_bytes"]
    assert ratio == pytest.approx((r * (m + n) + k + m) / (m * n + m))
    layer = hypsst.convert(nn.Linear(n, m), "sst", r)
    assert hypsst.memory_report(layer, hypsst.make_optimizer(layer, 1e-3))[
        "optimizer_state_bytes"] == 0
