"""hypsst.manifolds: convention, maps, distances, conversions, float32/float64 edge cases."""
import math

import geoopt
import pytest
import torch

from hypsst.errors import HypsstError
from hypsst.manifolds import (Euclidean, Lorentz, PoincareBall, get_manifold,
                              lorentz_to_poincare, poincare_to_lorentz)

DTYPES = [torch.float32, torch.float64]
TOL = {torch.float32: 2e-4, torch.float64: 1e-9}  # relative tolerances used below
# ⟨x, x⟩_L = -x₀² + |x_s|² cancels two numbers of size x₀²: its rounding error scales so
QTOL = {torch.float32: 1e-5, torch.float64: 1e-12}
C_VALUES = [0.5, 1.0, 2.0]


def make(cls, c, dtype, **kw):
    """Manifold with its curvature parameter computed in float64, then cast."""
    return cls(torch.tensor(c, dtype=torch.float64), **kw).to(dtype)


def on_hyperboloid(m, x, dtype):
    return m.check_point_on_manifold(x, atol=QTOL[dtype] * float(x[..., 0].max()) ** 2, rtol=0)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def ball_points(m, n, dtype, *, near_boundary=False, seed=0):
    """Points inside the ball; near_boundary puts them at |x| = 1/sqrt(c) - 1e-5."""
    x = torch.randn(n, 5, generator=_gen(seed), dtype=dtype)
    radius = 1 / math.sqrt(float(m.c))
    scale = radius - 1e-5 if near_boundary else 0.7 * radius * torch.rand(n, 1, generator=_gen(seed + 1), dtype=dtype)
    return m.projx(x / x.norm(dim=-1, keepdim=True) * scale)


def tangent(n, dtype, scale=1.0, seed=0):
    return torch.randn(n, 5, generator=_gen(seed), dtype=dtype) * scale


def radial(m, n, dtype, max_radius, seed=0):
    """Tangent vectors at the origin with geodesic radii uniform in (0, max_radius]/sqrt(c)."""
    v = tangent(n, dtype, seed=seed)
    r = torch.rand(n, 1, generator=_gen(seed + 1), dtype=dtype) * max_radius
    r[0] = max_radius  # always include the farthest point
    return v / v.norm(dim=-1, keepdim=True) * r / m.c.detach().sqrt()


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "x", None])
@pytest.mark.parametrize("cls", [PoincareBall, Lorentz])
def test_bad_curvature_is_a_clear_error(cls, bad):
    with pytest.raises(HypsstError, match="curvature c"):
        cls(bad)


def test_curvature_convention_maps_to_geoopt_parameters():
    p, lz = PoincareBall(2.0).double(), Lorentz(2.0).double()
    assert float(p.c) == pytest.approx(2.0, rel=1e-6) and float(p.k) == pytest.approx(-2.0, rel=1e-6)
    assert float(lz.c) == pytest.approx(2.0, rel=1e-6) and float(lz.k) == pytest.approx(0.5, rel=1e-6)
    # the origin sits at radius 1/sqrt(c): <o, o>_L = -1/c
    o = lz.origin(3, dtype=torch.float64)
    assert float(lz.minkowski(o, o)) == pytest.approx(-0.5, rel=1e-6)
    # sectional curvature -c: a geodesic circle of radius R has circumference 2π sinh(√c R)/√c
    r, n = 0.8, 2000
    angles = torch.linspace(0, 2 * math.pi, n + 1, dtype=torch.float64)
    for m in (p, lz):
        v = torch.stack([angles.cos(), angles.sin(), torch.zeros_like(angles)], -1) * r
        pts = m.from_tangent0(v)
        length = m.dist(pts[:-1], pts[1:]).sum()
        radius = float(m.dist(m.from_tangent0(torch.zeros_like(v[0])), pts[0]))
        expected = 2 * math.pi * math.sinh(math.sqrt(2) * radius) / math.sqrt(2)
        assert float(length) == pytest.approx(expected, rel=1e-5)


def test_get_manifold():
    assert isinstance(get_manifold("poincare", 0.5), PoincareBall)
    assert isinstance(get_manifold("Lorentz", learnable=True), Lorentz)
    assert isinstance(get_manifold("euclidean"), Euclidean)
    with pytest.raises(HypsstError, match="allowed: euclidean, poincare, lorentz"):
        get_manifold("sphere")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", C_VALUES)
def test_poincare_exp_log_inverse_and_on_manifold(dtype, c):
    m = make(PoincareBall, c, dtype)
    # |v| ≤ 2.5/sqrt(c): Poincaré distance 2|v| up to 5 (float32 projection caps it at ~6.2)
    v = radial(m, 64, dtype, 2.5)
    x = m.from_tangent0(v)
    assert m.check_point_on_manifold(x)
    assert torch.allclose(m.to_tangent0(x), v, rtol=TOL[dtype], atol=TOL[dtype])
    for near in (False, True):
        x = ball_points(m, 64, dtype, near_boundary=near)
        assert m.check_point_on_manifold(x)
        back = m.from_tangent0(m.to_tangent0(x))
        assert torch.isfinite(back).all()
        assert torch.allclose(back, x, rtol=TOL[dtype] * 10, atol=TOL[dtype] * 10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", C_VALUES)
def test_lorentz_exp_log_inverse_and_on_manifold(dtype, c):
    m = make(Lorentz, c, dtype)
    # radii up to 5/sqrt(c): space norms up to 74/sqrt(c) ("far from the origin")
    v = radial(m, 64, dtype, 5.0)
    x = m.from_tangent0(v)
    assert x[:, 1:].norm(dim=-1).max() > 20 / math.sqrt(c)
    assert on_hyperboloid(m, x, dtype)
    assert torch.allclose(m.to_tangent0(x), v, rtol=TOL[dtype], atol=TOL[dtype])
    # logmap0 agrees with geoopt's (which we replace near the origin for float32)
    ref = geoopt.Lorentz(k=m.k.detach()).to(dtype)
    tol = 1e-3 if dtype == torch.float32 else 1e-8
    assert torch.allclose(m.logmap0(x), ref.logmap0(x), rtol=tol, atol=tol)
    # tiny vectors survive float32 (geoopt's arcosh route returns ~0 here)
    small = tangent(8, dtype, 1e-4)
    assert torch.allclose(m.to_tangent0(m.from_tangent0(small)), small, rtol=1e-3)
    # lift: Euclidean features become space coordinates, time fills the constraint
    feats = tangent(8, dtype, 3.0)
    lifted = m.lift(feats)
    assert torch.equal(lifted[:, 1:], feats) and on_hyperboloid(m, lifted, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_lorentz_exp_clamps_instead_of_overflowing(dtype):
    m = make(Lorentz, 1.0, dtype)
    v = tangent(4, dtype) * 1e3  # cosh(1000) overflows both dtypes
    v.requires_grad_(True)
    x = m.from_tangent0(v)
    assert torch.isfinite(x).all()
    x.sum().backward()
    assert torch.isfinite(v.grad).all()


@pytest.mark.parametrize("c", C_VALUES)
def test_distances_agree_with_geoopt(c):
    dtype = torch.float64
    p = make(PoincareBall, c, dtype)
    x, y = ball_points(p, 32, dtype, seed=1), ball_points(p, 32, dtype, seed=2)
    ref_p = geoopt.PoincareBall(c=p.c.detach()).to(dtype)
    assert torch.allclose(p.dist(x, y), ref_p.dist(x, y), rtol=1e-10)
    assert torch.allclose(p.sqdist(x, y), ref_p.dist(x, y) ** 2, rtol=1e-10)
    lz = make(Lorentz, c, dtype)
    a, b = lz.from_tangent0(radial(lz, 32, dtype, 4.0, seed=3)), lz.from_tangent0(radial(lz, 32, dtype, 4.0, seed=4))
    ref_l = geoopt.Lorentz(k=lz.k.detach()).to(dtype)
    assert torch.allclose(lz.dist(a, b), ref_l.dist(a, b), rtol=1e-7)
    # float32 (stable asinh form) against float64
    lz32 = make(Lorentz, c, torch.float32)
    d32 = lz32.dist(a.float(), b.float()).double()
    assert torch.allclose(d32, lz.dist(a, b), rtol=1e-4)
    # nearby points in float32: the arcosh form loses them, ours keeps ~4 digits
    a_near = lz.from_tangent0(lz.to_tangent0(a) + 1e-3)
    assert torch.allclose(lz32.dist(a.float(), a_near.float()).double(), lz.dist(a, a_near), rtol=1e-2)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("c", C_VALUES)
def test_poincare_lorentz_conversion_is_an_isometry(dtype, c):
    p, lz = make(PoincareBall, c, dtype), make(Lorentz, c, dtype)
    cc = p.c.detach()
    for near in (False, True):
        x, y = ball_points(p, 32, dtype, near_boundary=near, seed=5), ball_points(p, 32, dtype, seed=6)
        hx, hy = poincare_to_lorentz(x, cc), poincare_to_lorentz(y, cc)
        assert on_hyperboloid(lz, hx, dtype)
        tol = TOL[dtype] * (100 if near else 1)  # near the boundary float32 keeps fewer digits
        assert torch.allclose(lz.dist(hx, hy), p.dist(x, y), rtol=tol, atol=tol)
        assert torch.allclose(lorentz_to_poincare(hx, cc), x, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
def test_bias_and_centroid_stay_on_manifold(dtype):
    lz, p = make(Lorentz, 1.5, dtype), make(PoincareBall, 1.5, dtype)
    x = lz.from_tangent0(radial(lz, 16, dtype, 4.0))
    b = tangent(1, dtype, 0.3, seed=9)[0]
    moved = lz.add_bias(x, b)
    assert on_hyperboloid(lz, moved, dtype)
    # moving by b changes the distance to the origin by at most |b| (triangle inequality)
    o = lz.origin(1, 6, dtype=dtype)[0]
    assert (lz.dist(moved, o) - lz.dist(x, o)).abs().max() <= b.norm() * (1 + 1e-3)
    # at the origin the bias is just exp₀(b)
    assert torch.allclose(lz.add_bias(o, b), lz.from_tangent0(b), atol=TOL[dtype] * 10)
    assert p.check_point_on_manifold(p.add_bias(ball_points(p, 16, dtype, near_boundary=True), b))
    # the centroid of two points with equal weights is their geodesic midpoint
    y = lz.from_tangent0(radial(lz, 16, dtype, 4.0, seed=10))
    mid = lz.weighted_centroid(torch.stack([x, y], 1))
    assert on_hyperboloid(lz, mid, dtype)
    assert torch.allclose(lz.dist(mid, x), lz.dist(mid, y), rtol=TOL[dtype] * 10)
    assert torch.allclose(lz.dist(mid, x), lz.dist(x, y) / 2, rtol=TOL[dtype] * 10)
    # one point with all the weight is its own centroid
    w = torch.tensor([[1.0, 0.0]], dtype=dtype).expand(16, 2)
    assert torch.allclose(lz.weighted_centroid(torch.stack([x, y], 1), w), x, rtol=TOL[dtype] * 10)


def test_learnable_curvature_gets_finite_gradients_and_stays_positive():
    for m in (PoincareBall(1.0, learnable=True), Lorentz(1.0, learnable=True)):
        (param,) = list(m.parameters())
        assert param.requires_grad
        x = m.from_tangent0(tangent(8, torch.float32))
        y = m.from_tangent0(tangent(8, torch.float32, seed=3))
        m.dist(x, y).sum().backward()
        assert torch.isfinite(param.grad).all() and float(param.grad.abs()) > 0
        with torch.no_grad():
            param -= 100.0  # a huge step cannot make the curvature non-negative
        assert float(m.c) > 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("cls", [PoincareBall, Lorentz, Euclidean])
def test_clip_tangent0_is_the_exp_log_round_trip(cls, dtype):
    """Encoders skip exp₀ → log₀ on input features and apply only clip_tangent0."""
    m = cls() if cls is Euclidean else make(cls, 1.7, dtype)
    norms = torch.logspace(-3, 1.7, 40, dtype=dtype).unsqueeze(1)  # up to 50: clipped
    v = tangent(40, dtype)
    v = v / v.norm(dim=-1, keepdim=True) * norms
    tol = 1e-4 if dtype == torch.float32 else 1e-10
    assert torch.allclose(m.clip_tangent0(v), m.to_tangent0(m.from_tangent0(v)), rtol=tol, atol=tol)
