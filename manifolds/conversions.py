r"""Isometries between the Poincaré ball and the hyperboloid of the same curvature -c.

With s = sqrt(c):
    ball → hyperboloid:  x = ( (1 + c|y|²)/s , 2y ) / (1 - c|y|²)
    hyperboloid → ball:  y = x_s / (1 + s·x₀)
(the stereographic projection from (-1/s, 0, …, 0)). Both preserve geodesic distance.
The denominators are clamped at 1e-15: 1 - c|y|² only reaches 0 on the ideal boundary,
which projected points never touch.
"""
from __future__ import annotations

import torch


def _sqrt_c(c) -> torch.Tensor:
    return torch.as_tensor(c).sqrt()


def poincare_to_lorentz(y: torch.Tensor, c=1.0) -> torch.Tensor:
    """Map Poincaré-ball points (…, d) to hyperboloid points (…, d + 1)."""
    c = torch.as_tensor(c, dtype=y.dtype, device=y.device)
    sq = (y * y).sum(-1, keepdim=True)
    denom = (1 - c * sq).clamp_min(1e-15)
    return torch.cat([(1 + c * sq) / (c.sqrt() * denom), 2 * y / denom], dim=-1)


def lorentz_to_poincare(x: torch.Tensor, c=1.0) -> torch.Tensor:
    """Map hyperboloid points (…, d + 1) to Poincaré-ball points (…, d)."""
    s = torch.as_tensor(c, dtype=x.dtype, device=x.device).sqrt()
    return x[..., 1:] / (1 + s * x[..., :1]).clamp_min(1e-15)
