"""A linear map stored as two thin factors, the output of ``hypsst.merge(keep < 1)``."""
from __future__ import annotations

import torch
from torch import nn


class LowRankLinear(nn.Module):
    r"""``y = up(down(x))``: a rank-q factorisation ``W_q = U_q diag(σ_q) Vh_q`` of a
    weight, stored as ``down.weight = diag(√σ_q) Vh_q`` (q×n, no bias) and
    ``up.weight = U_q diag(√σ_q)`` (m×q, with the layer's bias). Costs q(m+n) numbers
    instead of mn.

    ``relative_error`` = ‖W − W_q‖_F / ‖W‖_F = √(Σ_{i>q} σᵢ² / Σ σᵢ²): the relative
    output error ‖(W − W_q)x‖/‖Wx‖ in mean square over inputs with isotropic covariance.
    """

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        self.down = nn.Linear(in_features, rank, bias=False, device=device, dtype=dtype)
        self.up = nn.Linear(rank, out_features, bias=bias, device=device, dtype=dtype)
        self.relative_error = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.up(self.down(x))
