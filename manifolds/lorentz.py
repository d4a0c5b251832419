r"""Hyperboloid (Lorentz) model of curvature -c on top of geoopt's ``Lorentz``.

Points are x = (x₀, x_s) ∈ R^{d+1} with ⟨x, x⟩_L = -x₀² + |x_s|² = -1/c and x₀ > 0;
the origin is (1/sqrt(c), 0, …, 0). geoopt parameterises the same set by k = 1/c
(⟨x, x⟩_L = -k); this subclass stores c = softplus(isp_c) (like geoopt's PoincareBall,
so a learnable curvature stays positive) and exposes ``k`` as the property 1/c that
geoopt's methods read. geoopt supplies expmap/logmap/transp/projx/inner/random_normal.

Added here (geoopt lacks them): the weighted Lorentz centroid, lifting Euclidean
features (time coordinate), tangent-at-origin coordinates, a Möbius-style bias, and
float32-stable forms of logmap0 and the distance:

- ``to_tangent0``: |log₀(x)| = asinh(sqrt(c)|x_s|)/sqrt(c) in the direction of x_s.
  geoopt goes through arcosh(sqrt(c) x₀), which loses every digit near the origin in
  float32 (x₀ = 1 + 5e-9 rounds to 1); asinh of the space part does not.
- ``dist``: d = 2/sqrt(c) · asinh(sqrt(c)/2 · ‖x - y‖_L), using
  ⟨x-y, x-y⟩_L = 4/c · sinh²(sqrt(c) d / 2). The arcosh(-c⟨x, y⟩) form cancels
  catastrophically for nearby points in float32; this one does not. ‖x-y‖²_L is clamped
  at ≥ 1e-15 (it is ≥ 0 in exact arithmetic; rounding can make it slightly negative).
- ``expmap0``/``expmap``/``from_tangent0``: the tangent norm is clamped to ``max_radius(dtype)/sqrt(c)``
  before cosh/sinh (15 in float32, as HGCN's cosh/sinh clamp; 40 in float64), because
  cosh overflows float32 near 89 and the hyperboloid constraint is already lost to
  rounding well before: at radius 15, x₀² ≈ 2.7e12.
"""
from __future__ import annotations

import geoopt
import torch
import torch.nn.functional as F
from geoopt.manifolds.lorentz import math as lmath

from .base import validate_curvature

_MAX_RADIUS = {torch.float16: 5.0, torch.bfloat16: 5.0, torch.float32: 15.0, torch.float64: 40.0}


def max_radius(dtype: torch.dtype) -> float:
    """Largest geodesic radius (in units of 1/sqrt(c)) exp maps produce for this dtype."""
    return _MAX_RADIUS.get(dtype, 15.0)


class Lorentz(geoopt.Lorentz):
    r"""Hyperboloid :math:`\{x : \langle x, x\rangle_L = -1/c,\ x_0 > 0\}`, curvature ``-c``.

    Args:
        c: curvature magnitude, > 0.
        learnable: make ``c`` a trainable parameter (stored as softplus⁻¹(c)).
    """

    short_name = "lorentz"

    def __init__(self, c=1.0, learnable: bool = False):
        c = torch.as_tensor(validate_curvature(c))
        if not torch.is_floating_point(c):
            c = c.to(torch.get_default_dtype())
        super().__init__(k=1.0 / c, learnable=learnable)
        k = self._parameters.pop("k")
        with torch.no_grad():  # softplus⁻¹(c) = log(exp(c) - 1)
            self.isp_c = torch.nn.Parameter(c.detach().clone().expm1_().log_(), requires_grad=learnable)
        del k

    @property
    def c(self) -> torch.Tensor:
        return F.softplus(self.isp_c)

    @property
    def k(self) -> torch.Tensor:
        """geoopt's parameter: ⟨x, x⟩_L = -k, i.e. k = 1/c."""
        return self.c.reciprocal()

    def extra_repr(self) -> str:
        return f"c={float(self.c):.4g}, learnable={self.isp_c.requires_grad}"

    # --- geometry -------------------------------------------------------------------
    def point_width(self, dim: int) -> int:
        return dim + 1

    def minkowski(self, u: torch.Tensor, v: torch.Tensor, *, keepdim: bool = False) -> torch.Tensor:
        """⟨u, v⟩_L = -u₀v₀ + Σ uᵢvᵢ (geoopt's)."""
        return lmath.inner(u, v, keepdim=keepdim)

    def _clamp_tangent(self, u: torch.Tensor) -> torch.Tensor:
        """Scale tangent vectors down to Lorentz norm ≤ max_radius/sqrt(c) (see module doc)."""
        norm = lmath.inner(u, u, keepdim=True).clamp_min(1e-15).sqrt()
        limit = max_radius(u.dtype) / self.c.sqrt()
        return u * (limit / norm).clamp_max(1.0)

    def expmap0(self, u: torch.Tensor, *, project: bool = True, dim: int = -1) -> torch.Tensor:
        return super().expmap0(self._clamp_tangent(u), project=project, dim=dim)

    def expmap(self, x, u, *, norm_tan: bool = True, project: bool = True, dim: int = -1):
        return super().expmap(x, self._clamp_tangent(u), norm_tan=norm_tan, project=project, dim=dim)

    def to_tangent0(self, x: torch.Tensor) -> torch.Tensor:
        """Space coordinates of logmap0(x): asinh(sqrt(c)|x_s|)/(sqrt(c)|x_s|) · x_s."""
        xs = x[..., 1:]
        sc = self.c.sqrt()
        z = sc * xs.norm(dim=-1, keepdim=True).clamp_min(1e-15)
        return xs * (torch.asinh(z) / z)

    def logmap0(self, y: torch.Tensor, *, dim: int = -1) -> torch.Tensor:
        v = self.to_tangent0(y)
        return torch.cat([torch.zeros_like(v[..., :1]), v], dim=-1)

    def from_tangent0(self, v: torch.Tensor) -> torch.Tensor:
        """expmap0((0, v)) = (cosh θ, sinh θ · v/|v|)/sqrt(c), θ = sqrt(c)|v| ≤ max_radius.

        Written out instead of calling geoopt's expmap0 on (0, v): that pads v with a
        column, takes a Minkowski norm and projects (more full passes over the widest
        tensor in the model, HyboNet's input features). The time coordinate is computed
        from the space part, sqrt(1/c + |x_s|²), so the point satisfies the constraint to
        rounding (as projx would make it).
        """
        sc = self.c.sqrt()
        norm = v.norm(dim=-1, keepdim=True).clamp_min(1e-15)
        theta = (sc * norm).clamp_max(max_radius(v.dtype))
        space_norm = torch.sinh(theta) / sc
        time = (space_norm.square() + self.c.reciprocal()).sqrt()
        return torch.cat([time, v * (space_norm / norm)], dim=-1)

    def clip_tangent0(self, v: torch.Tensor) -> torch.Tensor:
        """to_tangent0(from_tangent0(v)) without the round trip: |v| clamped to the exp
        map's largest radius, max_radius(dtype)/sqrt(c)."""
        limit = max_radius(v.dtype) / self.c.sqrt()
        return v * (limit / v.norm(dim=-1, keepdim=True).clamp_min(1e-15)).clamp_max(1.0)

    def lift(self, x: torch.Tensor) -> torch.Tensor:
        """Euclidean features as space coordinates, time x₀ = sqrt(1/c + |x|²)."""
        return self.projx(torch.cat([torch.zeros_like(x[..., :1]), x], dim=-1))

    def add_bias(self, x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """exp_x(PT_{0→x}(0, b)): HGCN's hyperboloid Möbius addition of expmap0(b)."""
        u = torch.cat([torch.zeros_like(b[..., :1]), b], dim=-1).expand_as(x)
        return self.expmap(x, self.transp0(x, u))

    def normalize_centroid(self, s: torch.Tensor) -> torch.Tensor:
        r"""Rescale a time-like vector onto the hyperboloid: s / (sqrt(c)·sqrt(|⟨s, s⟩_L|)).

        For s = Σᵢ wᵢ xᵢ with wᵢ ≥ 0 this is the weighted Lorentz centroid (the point
        minimising Σᵢ wᵢ · squared Lorentzian distance; Law et al. 2019, used by HyboNet).
        The map is scale-invariant, so s is first divided by its time coordinate: weights
        that are all tiny (a saturated attention sigmoid) would otherwise underflow
        ⟨s, s⟩_L to 0 in float32. |⟨s, s⟩_L| is then clamped at 1e-8 and the result
        projected (time recomputed from space), so all-zero weights give the origin.
        """
        s = s / s[..., :1].abs().clamp_min(torch.finfo(s.dtype).tiny)
        denom = lmath.inner(s, s, keepdim=True).abs().clamp_min(1e-8).sqrt()
        return self.projx(s / (denom * self.c.sqrt()))

    def weighted_centroid(self, x: torch.Tensor, weights: torch.Tensor | None = None,
                          *, dim: int = -2) -> torch.Tensor:
        """Weighted Lorentz centroid of the points x along ``dim`` (weights ≥ 0, default 1)."""
        s = x.sum(dim) if weights is None else (x * weights.unsqueeze(-1)).sum(dim)
        return self.normalize_centroid(s)

    def sqdist_lorentzian(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Squared Lorentzian distance ‖x - y‖²_L = -2/c - 2⟨x, y⟩_L (HyboNet's score)."""
        diff = x - y
        return lmath.inner(diff, diff)

    def dist(self, x: torch.Tensor, y: torch.Tensor, *, keepdim: bool = False, dim: int = -1):
        q = lmath.inner(x - y, x - y, keepdim=keepdim, dim=dim).clamp_min(1e-15)
        sc = self.c.sqrt()
        return 2.0 / sc * torch.asinh(0.5 * sc * q.sqrt())

    def sqdist(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.dist(x, y) ** 2
