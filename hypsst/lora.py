r"""Low-rank baselines sharing SSTLinear's interface.

* :class:`LoRALinear`: ``y = x (W₀ + (α/r) B A)ᵀ + b`` with W₀ the layer's initial weight
  (frozen buffer), A (r×n) kaiming-uniform like ``nn.Linear``, B (m×r) = 0, so the
  converted layer starts as the original. A, B and the bias train.
* :class:`ReLoRALinear` (ReLoRA* as the SST paper defines it): LoRA that every
  ``steps_per_iteration`` steps merges ``(α/r) B A`` into W₀, re-draws A, sets B = 0,
  zeroes their optimizer state and restarts the LR warm-up. No full-rank warm start.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._layers import (SeededModule, check_linear, check_rank, check_weight,
                      init_like_linear, reset_optimizer_state)
from .sst import DEFAULTS, check_schedule


class LoRALinear(SeededModule):
    """``nn.Linear`` plus a trainable low-rank update ``(α/r) B A`` on a frozen W₀.

    Args: as ``nn.Linear`` plus ``rank`` (1 ≤ r ≤ min(in, out)), ``alpha`` (None: α = r,
    i.e. scale 1) and ``seed`` (draws A with the layer's own generator).
    Attributes: ``weight`` (computed W₀ + (α/r) B A), ``weight0`` (buffer), ``lora_A``,
    ``lora_B``, ``bias`` (Parameters), ``scale`` = α/r.
    """

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True, *,
                 alpha: float | None = None, seed: int = 0, device=None, dtype=None,
                 _weight=None, _bias=None):
        super().__init__()
        check_rank(rank, in_features, out_features, type(self).__name__)
        if _weight is None:
            _weight, _bias = init_like_linear(out_features, in_features, bias, device, dtype)
        check_weight(_weight, type(self).__name__)
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.alpha = float(rank if alpha is None else alpha)
        self.scale = self.alpha / rank
        self._init_generator(seed)
        w = _weight.detach()
        self.register_buffer("weight0", w.clone())
        self.lora_A = nn.Parameter(w.new_empty(rank, in_features))
        self.lora_B = nn.Parameter(w.new_zeros(out_features, rank))
        if _bias is not None:
            self.bias = nn.Parameter(_bias.detach().clone())
        else:
            self.register_parameter("bias", None)
        self._reset_adapter()

    @classmethod
    def from_linear(cls, linear: nn.Linear, rank: int, **kwargs):
        """The layer computing the same function as ``linear`` (W₀ = its weight, B = 0)."""
        check_linear(linear, cls.__name__)
        w = linear.weight
        return cls(linear.in_features, linear.out_features, rank, linear.bias is not None,
                   device=w.device, dtype=w.dtype, _weight=w, _bias=linear.bias, **kwargs)

    @torch.no_grad()
    def _reset_adapter(self) -> None:
        """A ← kaiming-uniform draw (layer generator), B ← 0."""
        A, _ = init_like_linear(self.rank, self.in_features, False, self.lora_A.device,
                                self.lora_A.dtype, generator=self.generator)
        self.lora_A.copy_(A)
        self.lora_B.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (F.linear(x, self.weight0, self.bias)
                + self.scale * F.linear(F.linear(x, self.lora_A), self.lora_B))

    @property
    def weight(self) -> torch.Tensor:
        return self.weight0 + self.scale * (self.lora_B @ self.lora_A)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"rank={self.rank}, alpha={self.alpha}, bias={self.bias is not None}")


class ReLoRALinear(LoRALinear):
    """ReLoRA*: LoRA with a merge-and-restart every ``steps_per_iteration`` steps
    (defaults from :class:`hypsst.sst.SSTConfig`) followed by a ``warmup_steps`` LR warm-up."""

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True, *,
                 steps_per_iteration: int = DEFAULTS.steps_per_iteration,
                 warmup_steps: int = DEFAULTS.warmup_steps, **kwargs):
        check_schedule(steps_per_iteration, None, warmup_steps)
        super().__init__(in_features, out_features, rank, bias, **kwargs)
        self.steps_per_iteration = steps_per_iteration
        self.warmup_steps = warmup_steps

    @torch.no_grad()
    def after_step(self, optimizer=None) -> int:
        """Count the step; every T3 steps merge B A into W₀ and restart the adapter.
        Returns the LR warm-up length to restart (0 for none)."""
        self.step_count += 1
        if self.step_count % self.steps_per_iteration:
            return 0
        self.weight0.add_(self.lora_B @ self.lora_A, alpha=self.scale)
        self._reset_adapter()
        reset_optimizer_state(optimizer, [self.lora_A, self.lora_B])
        return self.warmup_steps

    def extra_repr(self) -> str:
        return (super().extra_repr() + f", steps_per_iteration={self.steps_per_iteration}, "
                f"warmup_steps={self.warmup_steps}")
