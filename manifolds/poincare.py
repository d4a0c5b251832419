"""Poincaré ball of curvature -c on top of geoopt's ``PoincareBall``.

geoopt stores the ball with ``k = -c`` and keeps ``c = softplus(isp_c) > 0`` (so a
learnable curvature can never cross zero). All maths is geoopt's: ``mobius_add``,
``mobius_matvec``, ``expmap0``/``logmap0`` (``tanh``/``artanh`` of ``sqrt(c)|x|``),
``dist``, ``weighted_midpoint``, ``dist2plane``.

float32 safety (all inside geoopt, recorded here because the layers rely on it):
``projx`` keeps points at norm ≤ (1 - 4e-3)/sqrt(c) in float32 (1e-5 in float64), so
``artanh(sqrt(c)|x|)`` never sees 1 (its derivative 1/(1-z²) would blow up); ``artanh``
itself clamps its argument to ±(1 - 1e-7); ``tanh`` clamps its argument to ±15 (beyond,
float32 rounds tanh to 1 exactly, which would land on the boundary).
"""
from __future__ import annotations

import geoopt
import torch
from geoopt.manifolds.stereographic.math import artanh

from .base import validate_curvature


class PoincareBall(geoopt.PoincareBall):
    r"""Poincaré ball :math:`\{x : c|x|^2 < 1\}` with sectional curvature ``-c``.

    Args:
        c: curvature magnitude, > 0.
        learnable: make ``c`` a trainable parameter (stored as softplus⁻¹(c)).
    """

    short_name = "poincare"

    def __init__(self, c=1.0, learnable: bool = False):
        super().__init__(c=validate_curvature(c), learnable=learnable)

    def point_width(self, dim: int) -> int:
        return dim

    def to_tangent0(self, x: torch.Tensor) -> torch.Tensor:
        """logmap0(x) = artanh(sqrt(c)|x|) x / (sqrt(c)|x|)."""
        return self.logmap0(x)

    def from_tangent0(self, v: torch.Tensor) -> torch.Tensor:
        """expmap0(v) = tanh(sqrt(c)|v|) v / (sqrt(c)|v|), projected inside the ball."""
        return self.expmap0(v, project=True)

    def clip_tangent0(self, v: torch.Tensor) -> torch.Tensor:
        """log₀(projx(exp₀(v))) without the round trip: vectors longer than the largest
        radius the projected ball holds, artanh(1 - eps)/sqrt(c) (eps as geoopt's
        projection: 4e-3 in float32, 1e-5 in float64), are scaled down to it. Encoders use
        it on wide input features, where exp₀ then log₀ would cost two passes for nothing.
        """
        eps = 4e-3 if v.dtype == torch.float32 else 1e-5
        limit = artanh(torch.tensor(1.0 - eps, dtype=v.dtype)) / self.c.sqrt()
        return v * (limit / v.norm(dim=-1, keepdim=True).clamp_min(1e-15)).clamp_max(1.0)

    def add_bias(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """Möbius bias: x ⊕_c expmap0(b) (HGCN's HypLinear)."""
        return self.projx(self.mobius_add(x, self.expmap0(b)))

    def sqdist(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """d_c(x, y)² with d_c = 2/sqrt(c) artanh(sqrt(c)|(-x) ⊕_c y|)."""
        return self.dist2(x, y)
