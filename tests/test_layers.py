"""hypsst.models layers: geometry, sparse = dense aggregation, finite gradients at the
edges of float range, clear errors when spaces are mixed."""
import math

import geoopt
import pytest
import torch
import torch.nn as nn

from hypsst.errors import HypsstError
from hypsst.manifolds import Euclidean, Lorentz, PoincareBall
from hypsst.models import (AdjacencyCache, HGCNConv, HypAct, HypAgg, HypLinear, LorentzAgg,
                           LorentzConv, LorentzLinear, normalized_adjacency)

DTYPES = [torch.float32, torch.float64]


def small_graph():
    # 6 nodes: a path 0-1-2-3 plus 1-4, an isolated node 5, and a duplicated edge
    und = torch.tensor([[0, 1, 2, 1, 1], [1, 2, 3, 4, 2]])
    return torch.cat([und, und.flip(0)], dim=1), 6


def dense_adjacency(edge_index, n, dtype):
    a = torch.eye(n, dtype=dtype)
    a[edge_index[0], edge_index[1]] = 1.0
    return a / a.sum(1, keepdim=True)


def manifold(name, dtype, c=1.3):
    cls = {"poincare": PoincareBall, "lorentz": Lorentz, "euclidean": Euclidean}[name]
    m = cls() if name == "euclidean" else cls(torch.tensor(c, dtype=torch.float64))
    return m.to(dtype)


def points(m, n, d, dtype, *, radius=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(n, d, generator=g, dtype=dtype)
    return m.from_tangent0(v / v.norm(dim=-1, keepdim=True) * radius)


def boundary_points(m, n, d, dtype, seed=0):
    """Poincaré: |x| = 1/sqrt(c) - 1e-5 (then projected); hyperboloid: space norm ≥ 20."""
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(n, d, generator=g, dtype=dtype)
    v = v / v.norm(dim=-1, keepdim=True)
    sc = float(m.c)
    if isinstance(m, PoincareBall):
        return m.projx(v * (1 / math.sqrt(sc) - 1e-5))
    return m.lift(v * (20 + 30 * torch.rand(n, 1, generator=g, dtype=dtype)) / math.sqrt(sc))


def test_normalized_adjacency_matches_dense_definition():
    ei, n = small_graph()
    adj = normalized_adjacency(ei, n, dtype=torch.float64)
    assert adj.matrix.layout == torch.sparse_csr and adj.matrix._nnz() == 6 + 8  # loops + 8 arcs
    dense = dense_adjacency(ei, n, torch.float64)
    assert torch.allclose(adj.matrix.to_dense(), dense)
    assert torch.equal(adj.matrix_t.to_dense(), adj.matrix.to_dense().t())
    # Â x and its gradient Âᵀ g (the custom backward) against the dense product
    x = torch.randn(n, 3, dtype=torch.float64, requires_grad=True)
    g = torch.randn(n, 3, dtype=torch.float64)
    y = adj.matmul(x)
    (xg,) = torch.autograd.grad(y, x, g)
    assert torch.allclose(y, dense @ x) and torch.allclose(xg, dense.t() @ g)
    assert torch.autograd.gradcheck(adj.matmul, (x,))
    with pytest.raises(HypsstError, match="edge_index refers to node 9"):
        normalized_adjacency(torch.tensor([[0], [9]]), 6)
    with pytest.raises(HypsstError, match=r"\(2, E\)"):
        normalized_adjacency(torch.zeros(3, 4, dtype=torch.long), 6)


def test_adjacency_cache_is_never_stale():
    ei, n = small_graph()
    cache = AdjacencyCache()
    a1 = cache.get(ei, n, torch.float32, "cpu")
    assert cache.get(ei, n, torch.float32, "cpu") is a1  # same tensor: reused
    ei2 = ei.clone()
    assert cache.get(ei2, n, torch.float32, "cpu") is not a1  # another tensor: rebuilt
    a2 = cache.get(ei2, n, torch.float32, "cpu")
    ei2[1, 0] = 5  # in-place edit of the cached edge list
    a3 = cache.get(ei2, n, torch.float32, "cpu")
    assert a3 is not a2 and a3.matrix.to_dense()[0, 5] > 0
    assert cache.get(ei2, n, torch.float64, "cpu").weight.dtype == torch.float64


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["poincare", "lorentz", "euclidean"])
@pytest.mark.parametrize("use_att", [False, True])
def test_hypagg_sparse_equals_dense(name, dtype, use_att):
    torch.manual_seed(0)
    ei, n = small_graph()
    m = manifold(name, dtype)
    agg = HypAgg(4, m, use_att=use_att).to(dtype)
    x = points(m, n, 4, dtype)
    adj = normalized_adjacency(ei, n, dtype=dtype)
    v = m.to_tangent0(x)
    a = dense_adjacency(ei, n, dtype)
    if use_att:  # HGCN's DenseAtt on the full N×N grid, masked by the adjacency
        pair = torch.cat([v.unsqueeze(1).expand(n, n, 4), v.unsqueeze(0).expand(n, n, 4)], -1)
        a = a * torch.sigmoid(agg.att(pair).squeeze(-1))
    expected = m.from_tangent0(a @ v)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(agg(x, adj), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("use_att", [False, True])
def test_lorentzagg_sparse_equals_dense_and_is_a_centroid(dtype, use_att):
    torch.manual_seed(0)
    ei, n = small_graph()
    m = manifold("lorentz", dtype)
    agg = LorentzAgg(4, m, use_att=use_att).to(dtype)
    x = points(m, n, 4, dtype, radius=2.0)
    adj = normalized_adjacency(ei, n, dtype=dtype)
    a = dense_adjacency(ei, n, dtype)
    if use_att:
        q, k = agg.query(x), agg.key(x)
        kk = torch.cat([-k[:, :1], k[:, 1:]], -1)
        a = a * torch.sigmoid((2 / m.c + 2 * q @ kk.t()) / agg.att_scale + agg.att_bias)
    out = agg(x, adj)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(out, m.weighted_centroid(x.unsqueeze(0).expand(n, n, 5), a, dim=1),
                          rtol=tol, atol=tol)
    assert m.check_point_on_manifold(out, atol=1e-4, rtol=0)
    assert torch.allclose(out[5], x[5], atol=tol * 10)  # isolated node: its own centroid


@pytest.mark.parametrize("dtype", DTYPES)
def test_hyplinear_is_mobius_matvec_plus_mobius_bias(dtype):
    torch.manual_seed(0)
    m = manifold("poincare", dtype)
    lin = HypLinear(4, 3, m).to(dtype)
    with torch.no_grad():
        lin.bias.normal_(0, 0.1)
    x = points(m, 7, 4, dtype)
    ref = m.mobius_add(m.mobius_matvec(lin.linear.weight, x), m.expmap0(lin.bias))
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(lin(x), m.projx(ref), rtol=tol, atol=tol)
    assert isinstance(lin.linear, nn.Linear) and lin.linear.bias is None


@pytest.mark.parametrize("dtype", DTYPES)
def test_lorentzlinear_lands_on_the_hyperboloid(dtype):
    torch.manual_seed(0)
    m = manifold("lorentz", dtype, c=0.7)
    lin = LorentzLinear(4, 3, m, nonlin=nn.ReLU()).to(dtype)
    with torch.no_grad():
        lin.linear.weight.normal_()
        lin.linear.bias.normal_()
    x = points(m, 9, 4, dtype, radius=3.0)
    y = lin(x)
    assert y.shape == (9, 4)
    assert m.check_point_on_manifold(y, atol=1e-4 if dtype == torch.float32 else 1e-10, rtol=0)
    # time = (sigmoid(·)·scale + 1.1)/sqrt(c) lies in (1.1, 11.1)/sqrt(c)
    t = y[:, 0] * math.sqrt(0.7)
    assert bool(((t > 1.1 - 1e-6) & (t < 11.1 + 1e-5)).all())
    # the raw space direction is kept: y_s ∝ (W relu(x) + b)_s
    raw = lin.linear(torch.relu(x))[:, 1:]
    cos = nn.functional.cosine_similarity(raw, y[:, 1:], dim=-1)
    assert torch.allclose(cos, torch.ones_like(cos), atol=1e-5)


LAYERS = {
    "poincare": lambda m, mo: [HypLinear(4, 4, m), HypAct(m, mo, nn.ReLU()),
                               HGCNConv(4, 4, m, mo, nn.ReLU(), use_att=True)],
    "lorentz": lambda m, mo: [HypLinear(4, 4, m), HypAct(m, mo, nn.ELU()),
                              HGCNConv(4, 4, m, mo, nn.ReLU(), use_att=True),
                              LorentzLinear(4, 4, m), LorentzConv(4, 4, m, use_att=True)],
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["poincare", "lorentz"])
def test_layer_gradients_finite_at_the_edge(name, dtype):
    """Inputs at the ball's boundary / far out on the hyperboloid: outputs on the
    manifold, gradients w.r.t. inputs and weights finite."""
    torch.manual_seed(0)
    ei, n = small_graph()
    m, mo = manifold(name, dtype), manifold(name, dtype, c=0.6)
    adj = normalized_adjacency(ei, n, dtype=dtype)
    for layer in LAYERS[name](m, mo):
        layer = layer.to(dtype)
        x = boundary_points(m, n, 4, dtype).requires_grad_(True)
        y = layer(x, adj) if isinstance(layer, (HGCNConv, LorentzConv)) else layer(x)
        assert torch.isfinite(y).all(), type(layer).__name__
        out_m = mo if isinstance(layer, (HypAct, HGCNConv)) else m
        if name == "poincare":
            assert out_m.check_point_on_manifold(y), type(layer).__name__
        else:
            qtol = (1e-5 if dtype == torch.float32 else 1e-12) * float(y[:, 0].max()) ** 2
            assert out_m.check_point_on_manifold(y, atol=qtol, rtol=0), type(layer).__name__
        (y * torch.randn_like(y)).sum().backward()
        grads = [x.grad] + [p.grad for p in layer.parameters() if p.requires_grad]
        assert all(g is not None and torch.isfinite(g).all() for g in grads), type(layer).__name__


def test_mixing_spaces_is_a_clear_error():
    p, lz = PoincareBall(), Lorentz()
    lorentz_point = lz.from_tangent0(torch.randn(3, 4) * 0.1)  # 5 coordinates
    with pytest.raises(HypsstError, match="Lorentz point"):
        HypLinear(4, 2, p)(lorentz_point)
    with pytest.raises(HypsstError, match="time coordinate first"):
        LorentzLinear(4, 2, lz)(p.expmap0(torch.randn(3, 4) * 0.1))
    with pytest.raises(HypsstError, match="dimension 4 stored with 4 coordinates, got 7"):
        HypLinear(4, 2, p)(torch.zeros(3, 7))
    adj = normalized_adjacency(torch.tensor([[0, 1], [1, 0]]), 3)
    with pytest.raises(HypsstError, match="LorentzAgg"):
        LorentzAgg(4, lz)(torch.zeros(3, 4), adj)


def test_weights_are_plain_linear_children_that_are_only_called():
    """Replacing each nn.Linear by a module with a different weight layout (no .weight
    Parameter) must keep the layers working: they call the module, never read W."""

    class Factored(nn.Module):
        def __init__(self, lin):
            super().__init__()
            self.a = nn.Parameter(lin.weight.detach().clone())
            self.bias = lin.bias

        def forward(self, x):
            out = x @ self.a.t()
            return out if self.bias is None else out + self.bias

    ei, n = small_graph()
    adj = normalized_adjacency(ei, n)
    for m, layer in [(PoincareBall(), HGCNConv(4, 4, PoincareBall(), PoincareBall(), nn.ReLU(), use_att=True)),
                     (Lorentz(), LorentzConv(4, 4, Lorentz(), use_att=True))]:
        x = points(m, n, 4, torch.float32)
        before = layer(x, adj)
        for parent in list(layer.modules()):
            for name, child in list(parent.named_children()):
                if isinstance(child, nn.Linear):
                    setattr(parent, name, Factored(child))
        assert not any(isinstance(mod, nn.Linear) for mod in layer.modules())
        assert torch.allclose(layer(x, adj), before, atol=1e-6)
