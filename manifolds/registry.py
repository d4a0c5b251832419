"""Manifolds by name."""
from __future__ import annotations

from hypsst.errors import HypsstError

from .euclidean import Euclidean
from .lorentz import Lorentz
from .poincare import PoincareBall

MANIFOLDS = ("euclidean", "poincare", "lorentz")


def get_manifold(name: str, c=1.0, learnable: bool = False):
    """Build ``euclidean`` | ``poincare`` | ``lorentz`` (c > 0: curvature -c; ignored for
    euclidean)."""
    key = str(name).lower()
    if key == "euclidean":
        return Euclidean()
    if key == "poincare":
        return PoincareBall(c, learnable=learnable)
    if key in ("lorentz", "hyperboloid"):
        return Lorentz(c, learnable=learnable)
    raise HypsstError(f"unknown manifold {name!r}; allowed: {', '.join(MANIFOLDS)}")
