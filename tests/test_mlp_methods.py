"""End to end: a small MLP on a generated regression task, trained with each method in a
plain torch loop (make_optimizer's step() does all bookkeeping). Every method must reach
its stated loss, and SST at rank 2 must end clearly closer to full-rank than LoRA."""
import warnings

import pytest
import torch
from torch import nn

import hypsst

# MSE after 300 Adam steps (lr 0.01) on a target of variance ≈ 3.3; measured on the
# reference machine: full 0.0014, SST 0.078, ReLoRA* 0.12, LoRA 0.33.
THRESHOLDS = {"full": 0.02, "sst": 0.15, "relora": 0.2, "lora": 0.45}


def _task(n=256, d=24, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d, generator=g)
    T1 = torch.randn(d, d, generator=g) / d ** 0.5
    T2 = torch.randn(d, 4, generator=g) / d ** 0.5
    return X, torch.tanh(2 * X @ T1) @ T2 * 2  # a full-rank nonlinear teacher


def _final_loss(method, steps=300):
    X, Y = _task()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(24, 32), nn.Tanh(), nn.Linear(32, 32), nn.Tanh(),
                          nn.Linear(32, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the 32->4 layer's rank stays 2: no clamp needed
        model = hypsst.convert(model, method, 2, seed=0)
    opt = hypsst.make_optimizer(model, 0.01)
    for _ in range(steps):
        opt.zero_grad()
        (model(X) - Y).square().mean().backward()
        opt.step()
    with torch.no_grad():
        return float((model(X) - Y).square().mean())


@pytest.fixture(scope="module")
def losses():
    return {m: _final_loss(m) for m in THRESHOLDS}


@pytest.mark.parametrize("method", list(THRESHOLDS))
def test_each_method_reaches_its_stated_loss(losses, method):
    assert losses[method] < THRESHOLDS[method], losses


def test_sst_clearly_closer_to_full_than_lora(losses):
    gap_sst = losses["sst"] - losses["full"]
    gap_lora = losses["lora"] - losses["full"]
    assert gap_sst < 0.5 * gap_lora, losses
