"""Shared plumbing of the low-rank layers (SST, LoRA, ReLoRA*): argument checks, the
layer-owned random generator that travels in ``state_dict()``, nn.Linear-style
initialisation, resetting optimizer state slots, and swapping modules in a model tree.
"""
from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from .errors import HypsstError


def check_rank(rank, in_features: int, out_features: int, where: str) -> int:
    """Return ``rank`` if it is an integer in ``1..min(in_features, out_features)``."""
    k = min(in_features, out_features)
    if isinstance(rank, bool) or not isinstance(rank, int) or not 1 <= rank <= k:
        raise HypsstError(
            f"{where}: rank must be an integer from 1 to min(in_features, out_features) = {k} "
            f"for a {in_features}->{out_features} layer, got {rank!r}"
        )
    return rank


def check_linear(module, where: str) -> None:
    """``from_linear`` accepts an ``nn.Linear`` with a 2-D weight and nothing else."""
    if not isinstance(module, nn.Linear):
        raise HypsstError(
            f"{where}.from_linear needs a torch.nn.Linear, got {type(module).__name__}"
        )
    check_weight(module.weight, where)


def check_weight(weight: torch.Tensor, where: str) -> None:
    if weight.dim() != 2:
        raise HypsstError(
            f"{where}: the weight must be 2-D (out_features, in_features), "
            f"got shape {tuple(weight.shape)}"
        )


def init_like_linear(out_features, in_features, bias, device, dtype, generator=None):
    """``nn.Linear``'s default initialisation (kaiming-uniform with a = √5, i.e.
    U(-1/√n, 1/√n) for the weight and the bias). Without a generator it draws from torch's
    global RNG exactly as ``nn.Linear`` does; with one it draws on the CPU and moves the
    result, so a seeded draw is the same on every device."""
    bound = 1.0 / math.sqrt(in_features) if in_features > 0 else 0.0

    def draw(*shape):
        if generator is None:
            return torch.empty(*shape, device=device, dtype=dtype).uniform_(-bound, bound)
        t = torch.rand(*shape, generator=generator, dtype=torch.float64) * (2 * bound) - bound
        return t.to(device=device, dtype=dtype or torch.get_default_dtype())

    weight = draw(out_features, in_features)
    return weight, (draw(out_features) if bias else None)


class SeededModule(nn.Module):
    """A module with its own CPU ``torch.Generator`` and an optimizer-step counter
    ``step_count`` (a Python int: reading it never waits for a GPU). Both are saved in
    ``state_dict()`` (as torch's ``_extra_state``) and restored by ``load_state_dict()``,
    so a resumed run draws the same numbers at the same steps as an uninterrupted one."""

    def _init_generator(self, seed: int) -> None:
        self.seed = int(seed)
        self.generator = torch.Generator(device="cpu")
        self.generator.manual_seed(self.seed)
        self.step_count = 0

    def get_extra_state(self):
        return {"rng_state": self.generator.get_state(), "step_count": self.step_count}

    def set_extra_state(self, state) -> None:
        self.generator.set_state(state["rng_state"].cpu())
        self.step_count = int(state["step_count"])


@torch.no_grad()
def reset_optimizer_state(optimizer, params) -> None:
    """Zero every state tensor of ``params`` (Adam's exp_avg / exp_avg_sq, SGD's momentum
    buffer) and its step counter, so their next update is that of a fresh optimizer.
    The tensors are zeroed in place: the optimizer's bookkeeping stays valid."""
    if optimizer is None:
        return
    for p in params:
        state = optimizer.state.get(p)
        if not state:
            continue
        for key, value in state.items():
            if torch.is_tensor(value):
                value.zero_()
            elif key == "step":
                state[key] = 0


def replace_modules(model: nn.Module, match: Callable[[nn.Module], bool],
                    make: Callable[[str, nn.Module], nn.Module], *,
                    skip: Callable[[str], bool] = lambda name: False) -> nn.Module:
    """Replace, depth first, each module satisfying ``match`` by ``make(name, module)``.
    A module reachable under several names is replaced once (by the same new module);
    modules for which ``skip(qualified_name)`` is true are left alone with their subtree."""
    done: dict[int, nn.Module] = {}

    def visit(name: str, module: nn.Module) -> nn.Module:
        if skip(name):
            return module
        if match(module):
            if id(module) not in done:
                done[id(module)] = make(name, module)
            return done[id(module)]
        for child_name, child in list(module._modules.items()):
            if child is not None:
                new = visit(f"{name}.{child_name}" if name else child_name, child)
                if new is not child:
                    setattr(module, child_name, new)
        return module

    return visit("", model)
