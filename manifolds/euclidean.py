"""Euclidean space with the same tangent-at-origin API as the hyperbolic manifolds.

Exp/log maps at the origin are identities, so Euclidean baselines (GCN, MLP, Shallow)
run through the same decoders and task models as hyperbolic encoders.
"""
from __future__ import annotations

import geoopt
import torch


class Euclidean(geoopt.Euclidean):
    """R^d (geoopt's Euclidean with one manifold axis, so ``dist`` reduces the last axis)."""

    short_name = "euclidean"

    def __init__(self):
        super().__init__(ndim=1)

    @property
    def c(self) -> torch.Tensor:
        """Curvature magnitude: 0 (flat)."""
        return torch.zeros(())

    def point_width(self, dim: int) -> int:
        return dim

    def expmap0(self, u: torch.Tensor) -> torch.Tensor:
        return u

    def logmap0(self, x: torch.Tensor) -> torch.Tensor:
        return x

    to_tangent0 = logmap0
    from_tangent0 = expmap0
    clip_tangent0 = expmap0

    def add_bias(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return x + b

    def sqdist(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.dist2(x, y)
