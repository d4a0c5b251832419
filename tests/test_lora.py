"""LoRALinear / ReLoRALinear: construction, function preservation, gradients, errors."""
import pytest
import torch
from torch import nn

from hypsst import LoRALinear, ReLoRALinear


@pytest.mark.parametrize("cls", [LoRALinear, ReLoRALinear])
def test_from_linear_starts_as_the_linear_and_only_adapter_trains(cls):
    torch.manual_seed(0)
    lin = nn.Linear(7, 5, dtype=torch.float64)
    layer = cls.from_linear(lin, 2, alpha=4.0, seed=3)
    x = torch.randn(2, 3, 7, dtype=torch.float64)
    torch.testing.assert_close(layer(x), lin(x))
    assert {n for n, _ in layer.named_parameters()} == {"lora_A", "lora_B", "bias"}
    assert not layer.lora_B.any() and layer.scale == 2.0
    assert layer.lora_A.abs().max() <= 1 / 7 ** 0.5  # nn.Linear's kaiming bound 1/√n
    # gradients: ∂L/∂B = s G Aᵀ, ∂L/∂A = s Bᵀ G with G = gyᵀ x
    with torch.no_grad():
        layer.lora_B.normal_()
    gy = torch.randn(2, 3, 5, dtype=torch.float64)
    (layer(x) * gy).sum().backward()
    G = gy.reshape(-1, 5).T @ x.reshape(-1, 7)
    torch.testing.assert_close(layer.lora_B.grad, 2.0 * G @ layer.lora_A.detach().T)
    torch.testing.assert_close(layer.lora_A.grad, 2.0 * layer.lora_B.detach().T @ G)
    torch.testing.assert_close(layer.weight, lin.weight + 2.0 * layer.lora_B @ layer.lora_A)


def test_seeded_and_default_alpha():
    a = LoRALinear(6, 4, 2, seed=1)
    b = LoRALinear(6, 4, 2, seed=1)
    assert torch.equal(a.lora_A, b.lora_A) and a.scale == 1.0
    assert not torch.equal(a.lora_A, LoRALinear(6, 4, 2, seed=2).lora_A)


def test_errors():
    with pytest.raises(ValueError, match=r"rank must be an integer from 1 to .* = 4"):
        LoRALinear(6, 4, 5)
    with pytest.raises(ValueError, match="needs a torch.nn.Linear, got ReLU"):
        ReLoRALinear.from_linear(nn.ReLU(), 1)
    with pytest.raises(ValueError, match="steps_per_iteration"):
        ReLoRALinear(6, 4, 1, steps_per_iteration=-1)
