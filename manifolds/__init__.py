"""Manifolds for hypsst (subclasses of geoopt's).

Convention: ``c > 0`` means constant sectional curvature ``-c`` (see ``base``).
"""
from .base import validate_curvature
from .conversions import lorentz_to_poincare, poincare_to_lorentz
from .euclidean import Euclidean
from .lorentz import Lorentz
from .poincare import PoincareBall
from .registry import MANIFOLDS, get_manifold

__all__ = [
    "Euclidean", "PoincareBall", "Lorentz", "get_manifold", "MANIFOLDS",
    "poincare_to_lorentz", "lorentz_to_poincare", "validate_curvature",
]
