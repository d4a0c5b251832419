r"""HyboNet's fully-Lorentz layers (Chen et al., "Fully Hyperbolic Neural Networks", 2022).

- ``LorentzLinear``: y = W x + b on the ambient (d_in + 1)-vector x; the output's time
  coordinate is t = (sigmoid(y₀)·exp(s) + 1.1)/sqrt(c) (s a learnable log-scale, so
  t > 1/sqrt(c), strictly off the origin's time value, as HyboNet), and its space part y_s
  is rescaled to norm sqrt(t² - 1/c), which puts (t, y_s) exactly on the hyperboloid.
  |y_s|² is clamped at 1e-8 so a zero space part does not divide by zero. An optional
  nonlinearity and dropout act on x first (HyboNet's order). W is a plain ``nn.Linear``
  child that is only called, so ``hypsst.convert`` can swap it.
- ``LorentzAgg``: the weighted Lorentz centroid of the neighbours,
  μᵢ = sᵢ/(sqrt(c)·sqrt(|⟨sᵢ, sᵢ⟩_L|)), sᵢ = Σⱼ wᵢⱼ xⱼ, w = Â (sparse) or, with
  ``use_att``, Âᵢⱼ·sigmoid((2/c + 2⟨qᵢ, kⱼ⟩_L)/τ + β) with Lorentz query/key maps
  (HyboNet's attention; 2/c + 2⟨q, k⟩_L is minus the squared Lorentzian distance).
- ``LorentzConv``: LorentzLinear → LorentzAgg.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from hypsst.manifolds.base import check_width

from .aggregation import Adjacency
from .dropout import SparseAwareDropout


class LorentzLinear(nn.Module):
    def __init__(self, in_features: int, out_features: int, manifold, *, bias: bool = True,
                 dropout: float = 0.0, scale: float = 10.0, fixscale: bool = False,
                 nonlin: nn.Module | None = None):
        super().__init__()
        self.in_features, self.out_features, self.manifold = in_features, out_features, manifold
        self.nonlin = nonlin
        self.dropout = SparseAwareDropout(dropout)
        self.linear = nn.Linear(in_features + 1, out_features + 1, bias=bias)
        self.log_scale = nn.Parameter(torch.tensor(math.log(scale)), requires_grad=not fixscale)
        # HyboNet's init: U(±1/sqrt(out)), no weight on the input's time coordinate, zero bias.
        bound = 1.0 / math.sqrt(out_features + 1)
        with torch.no_grad():
            nn.init.uniform_(self.linear.weight, -bound, bound)
            self.linear.weight[:, 0] = 0
            if self.linear.bias is not None:
                self.linear.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_width(self.manifold, x, self.in_features, type(self).__name__)
        if self.nonlin is not None:
            x = self.nonlin(x)
        y = self.linear(self.dropout(x))
        inv_sqrt_c = self.manifold.c.rsqrt()
        time = (torch.sigmoid(y[..., :1]) * self.log_scale.exp() + 1.1) * inv_sqrt_c
        space = y[..., 1:]
        ratio = (time * time - inv_sqrt_c ** 2) / (space * space).sum(-1, keepdim=True).clamp_min(1e-8)
        return torch.cat([time, space * ratio.sqrt()], dim=-1)


class LorentzAgg(nn.Module):
    def __init__(self, features: int, manifold, *, use_att: bool = False):
        super().__init__()
        self.features, self.manifold = features, manifold
        if use_att:
            self.query = LorentzLinear(features, features, manifold)
            self.key = LorentzLinear(features, features, manifold)
            self.att_bias = nn.Parameter(torch.tensor(20.0))
            self.att_scale = nn.Parameter(torch.tensor(math.sqrt(features + 1)))
        else:
            self.query = self.key = None

    def edge_weights(self, x: torch.Tensor, adj: Adjacency) -> torch.Tensor:
        q, k = self.query(x)[adj.row], self.key(x)[adj.col]
        sim = 2.0 / self.manifold.c + 2.0 * self.manifold.minkowski(q, k)
        return adj.weight * torch.sigmoid(sim / self.att_scale + self.att_bias)

    def forward(self, x: torch.Tensor, adj: Adjacency) -> torch.Tensor:
        check_width(self.manifold, x, self.features, type(self).__name__)
        s = adj.matmul(x) if self.query is None else adj.matmul_weighted(x, self.edge_weights(x, adj))
        return self.manifold.normalize_centroid(s)


class LorentzConv(nn.Module):
    """HyboNet's graph convolution: LorentzLinear → LorentzAgg (both on ``manifold``)."""

    def __init__(self, in_features: int, out_features: int, manifold, *, bias: bool = True,
                 dropout: float = 0.0, use_att: bool = False, nonlin: nn.Module | None = None):
        super().__init__()
        self.lin = LorentzLinear(in_features, out_features, manifold, bias=bias,
                                 dropout=dropout, nonlin=nonlin)
        self.agg = LorentzAgg(out_features, manifold, use_att=use_att)

    def forward(self, x: torch.Tensor, adj: Adjacency) -> torch.Tensor:
        return self.agg(self.lin(x), adj)
