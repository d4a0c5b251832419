"""Shared pieces of hypsst's manifolds: the curvature convention and point-width checks.

Curvature convention (one for the whole package): a manifold built with ``c > 0`` has
constant sectional curvature ``-c``; ``c`` is what ``manifold.c`` returns. geoopt uses
other parameters internally — its Stereographic model takes ``k = -c`` and its Lorentz
model takes ``k = 1/c`` (points satisfy ``<x, x>_L = -k``) — and hypsst's subclasses
translate, so user code never sees geoopt's ``k``.

Every hypsst manifold also exposes the *tangent-at-origin coordinate* API the layers use:

- ``to_tangent0(x) -> v`` (…, d): ``logmap0(x)`` written in d Euclidean coordinates
  (for Lorentz the time component, always 0 at the origin, is dropped);
- ``from_tangent0(v) -> x``: the inverse, ``expmap0`` of those coordinates;
- ``clip_tangent0(v)``: ``to_tangent0(from_tangent0(v))`` computed directly (only the
  clamp of |v| to the largest representable radius remains);
- ``point_width(d)``: number of stored coordinates of a d-dimensional point
  (d, or d + 1 on the hyperboloid);
- ``add_bias(x, b)``: move x by the tangent vector b given at the origin (Möbius bias);
- ``sqdist(x, y)``: squared geodesic distance, reduced over the last axis.
"""
from __future__ import annotations

import math

import torch

from hypsst.errors import HypsstError


def validate_curvature(c) -> float | torch.Tensor:
    """Return ``c`` if it is a finite positive number (or 0-d tensor); else HypsstError."""
    value = float(c.detach()) if isinstance(c, torch.Tensor) else c
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise HypsstError(f"curvature c must be a positive number, got {c!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise HypsstError(
            f"curvature c must be finite and > 0 (c > 0 means sectional curvature -c), got {c!r}"
        )
    return c


def check_width(manifold, x: torch.Tensor, dim: int, where: str) -> None:
    """Raise HypsstError unless x is (…, manifold.point_width(dim)) on this manifold."""
    want = manifold.point_width(dim)
    if x.dim() < 1 or x.size(-1) != want:
        got = x.size(-1) if x.dim() else "a scalar"
        hint = ""
        if x.dim() and x.size(-1) == want + 1:
            hint = " (one column too many: is this a Lorentz point, time coordinate first?)"
        elif x.dim() and x.size(-1) == want - 1:
            hint = " (one column short: a Lorentz layer needs the time coordinate first)"
        raise HypsstError(
            f"{where} expects points on {manifold.short_name} of dimension {dim} "
            f"stored with {want} coordinates, got {got}{hint}"
        )
