r"""Decoders: Fermi–Dirac for links, tangent-space linear and Lorentz for node classes.

- ``FermiDiracDecoder``: p(edge) = 1/(exp((d² - r)/t) + 1) = sigmoid((r - d²)/t) with d
  the geodesic distance on the encoder's manifold (HGCN). The logit (r - d²)/t is kept
  so the loss can use the numerically stable BCE-with-logits.
- ``LinearDecoder``: logits = W log₀(z) + b (HGCN's node-classification decoder); W is a
  plain ``nn.Linear`` child.
- ``LorentzDecoder``: one learnable class point μ_k on the hyperboloid (a geoopt
  ManifoldParameter); logits_k = 2/c + 2⟨z, μ_k⟩_L + b_k, i.e. minus the squared
  Lorentzian distance plus a bias (HyboNet's decoder).
"""
from __future__ import annotations

import math

import geoopt
import torch
import torch.nn as nn

from hypsst.errors import HypsstError
from hypsst.manifolds import Lorentz
from hypsst.manifolds.base import check_width

from .dropout import SparseAwareDropout


class FermiDiracDecoder(nn.Module):
    def __init__(self, r: float = 2.0, t: float = 1.0):
        super().__init__()
        if not t > 0:
            raise HypsstError(f"Fermi-Dirac temperature t must be > 0, got {t}")
        self.r, self.t = float(r), float(t)

    def logits(self, sqdist: torch.Tensor) -> torch.Tensor:
        return (self.r - sqdist) / self.t

    def forward(self, sqdist: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logits(sqdist))


class LinearDecoder(nn.Module):
    def __init__(self, manifold, in_features: int, num_classes: int, *, bias: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.manifold, self.in_features = manifold, in_features
        self.dropout = SparseAwareDropout(dropout)
        self.linear = nn.Linear(in_features, num_classes, bias=bias)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_width(self.manifold, z, self.in_features, "LinearDecoder")
        return self.linear(self.dropout(self.manifold.to_tangent0(z)))


class LorentzDecoder(nn.Module):
    def __init__(self, manifold, in_features: int, num_classes: int, *, bias: bool = True):
        super().__init__()
        if not isinstance(manifold, Lorentz):
            raise HypsstError("the Lorentz decoder needs an encoder on the lorentz manifold, "
                              f"got {getattr(manifold, 'short_name', type(manifold).__name__)}")
        self.manifold, self.in_features = manifold, in_features
        with torch.no_grad():  # HyboNet: class points ~ exp₀(N(0, 1/(d+1)))
            tangent = torch.randn(num_classes, in_features) / math.sqrt(in_features + 1)
            points = manifold.from_tangent0(tangent)
        self.cls = geoopt.ManifoldParameter(points, manifold=manifold)
        self.bias = nn.Parameter(torch.zeros(num_classes)) if bias else None

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_width(self.manifold, z, self.in_features, "LorentzDecoder")
        # ⟨z, μ⟩_L for every (node, class): flip the sign of the time coordinate of μ.
        cls = torch.cat([-self.cls[:, :1], self.cls[:, 1:]], dim=-1)
        logits = 2.0 / self.manifold.c + 2.0 * (z @ cls.t())
        return logits if self.bias is None else logits + self.bias
