"""Graph encoders: HGCN, HyboNet, HNN, GCN, MLP, Shallow, and ``build_encoder``.

Every encoder maps Euclidean node features x (N, F) and an edge list (2, E) to points
z on ``enc.manifold`` — (N, dim), or (N, dim + 1) on the hyperboloid (time coordinate
first). ``num_layers`` counts the encoder's own layers (HGCN's and HyboNet's scripts
count the node-classification decoder as one more layer: their NC ``--num-layers L``
is ``num_layers = L - 1`` here).

Input maps (as the reference code): HGCN/HNN take x as a tangent vector at the origin
and apply exp₀ (on the hyperboloid after prepending a zero time coordinate); HyboNet
prepends a zero column and applies the Lorentz exp₀ — the same map.

Curvature: ``c`` fixed (one manifold shared by all layers), or per-layer trainable with
``learn_c=True`` or ``c=None`` (HGCN's "c None"): then layer i works on its own manifold
(init c = 1 when c is None) and ``enc.manifold`` is the last one, which a decoder shares.
"""
from __future__ import annotations

import geoopt
import torch
import torch.nn as nn

from hypsst.errors import HypsstError
from hypsst.manifolds import get_manifold

from .activations import get_activation
from .aggregation import AdjacencyCache
from .layers_lorentz import LorentzConv
from .layers_poincare import HGCNConv


class Encoder(nn.Module):
    """Common input checks, curvature handling and adjacency cache."""

    default_manifold = "euclidean"
    allowed_manifolds = ("euclidean", "poincare", "lorentz")

    def __init__(self, in_features: int, dim: int, num_layers: int, manifold, c, learn_c):
        super().__init__()
        name = self.default_manifold if manifold is None else str(manifold).lower()
        if name == "hyperboloid":
            name = "lorentz"
        if name not in self.allowed_manifolds:
            raise HypsstError(f"{type(self).__name__} supports manifold "
                              f"{' | '.join(self.allowed_manifolds)}, got {manifold!r}")
        if int(num_layers) < 1 or int(dim) < 1 or int(in_features) < 1:
            raise HypsstError(f"{type(self).__name__} needs in_features, dim and num_layers "
                              f">= 1, got {in_features}, {dim}, {num_layers}")
        self.in_features, self.out_features, self.num_layers = int(in_features), int(dim), int(num_layers)
        self.manifold_name = name
        learn = bool(learn_c) or c is None
        c = 1.0 if c is None else c
        count = self.num_layers + 1 if learn and name != "euclidean" else 1
        self.manifolds = nn.ModuleList(get_manifold(name, c, learnable=learn) for _ in range(count))
        self._adj_cache = AdjacencyCache()
        self._input_cache = None  # (x, key, mapped x): see mapped_input

    def layer_manifold(self, i: int):
        """Manifold of layer i's input (i = num_layers: the output manifold)."""
        return self.manifolds[min(i, len(self.manifolds) - 1)]

    @property
    def manifold(self):
        return self.manifolds[-1]

    def check_features(self, x: torch.Tensor) -> None:
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or not torch.is_floating_point(x):
            raise HypsstError(f"{type(self).__name__} expects float node features (N, "
                              f"{self.in_features}), got {getattr(x, 'shape', type(x))}")
        if x.size(1) != self.in_features:
            raise HypsstError(f"{type(self).__name__} was built for {self.in_features} input "
                              f"features, got x with {x.size(1)} columns")

    def adjacency(self, x: torch.Tensor, edge_index: torch.Tensor):
        return self._adj_cache.get(edge_index, x.size(0), x.dtype, x.device)

    def mapped_input(self, x: torch.Tensor, input_map) -> torch.Tensor:
        """``input_map(x)``, reused while x (the same tensor, unmodified) and layer 0's
        manifold (a constant curvature) stay as they were.

        Full-batch training feeds the same feature matrix every epoch, and mapping it is a
        pass over all N·F entries (Cora: 3.9 M, several ms per forward). Features that need
        gradients or a trainable curvature are mapped every time.
        """
        params = list(self.layer_manifold(0).parameters())
        if x.requires_grad or any(p.requires_grad for p in params):
            return input_map(x)
        key = (x._version, x.dtype, x.device, tuple((p._version, p.dtype) for p in params))
        cached = self._input_cache
        if cached is None or cached[0] is not x or cached[1] != key:
            with torch.no_grad():
                cached = self._input_cache = (x, key, input_map(x))
        return cached[2]


class HGCN(Encoder):
    """Hyperbolic GCN (Chami et al. 2019) on the Poincaré ball or the hyperboloid."""

    default_manifold = "poincare"
    aggregate = True

    def __init__(self, in_features: int, dim: int = 16, num_layers: int = 2, *,
                 manifold=None, c=1.0, learn_c: bool = False, act="relu",
                 dropout: float = 0.0, bias: bool = True, use_att: bool = False):
        super().__init__(in_features, dim, num_layers, manifold, c, learn_c)
        dims = [self.in_features] + [self.out_features] * self.num_layers
        self.layers = nn.ModuleList(
            HGCNConv(dims[i], dims[i + 1], self.layer_manifold(i), self.layer_manifold(i + 1),
                     get_activation(act), dropout=dropout, bias=bias, use_att=use_att,
                     aggregate=self.aggregate)
            for i in range(self.num_layers))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor | None = None) -> torch.Tensor:
        self.check_features(x)
        adj = self.adjacency(x, edge_index) if self.aggregate else None
        # HGCN maps x to exp₀(x) and its first layer takes log₀ of that again; only the
        # radius clamp of that round trip changes anything, so apply just the clamp.
        v = self.mapped_input(x, self.layer_manifold(0).clip_tangent0)
        h = self.layers[0](v, adj, tangent_input=True)
        for layer in self.layers[1:]:
            h = layer(h, adj)
        return h


class HNN(HGCN):
    """Hyperbolic neural network (Ganea et al. 2018): HGCN's layers without aggregation."""

    aggregate = False


class GCN(HGCN):
    """Euclidean GCN (Kipf & Welling) on Â = D⁻¹(A + I): HGCN's layers on flat space."""

    default_manifold = "euclidean"
    allowed_manifolds = ("euclidean",)


class MLP(HNN):
    """Euclidean MLP (features only, no graph)."""

    default_manifold = "euclidean"
    allowed_manifolds = ("euclidean",)


class HyboNet(Encoder):
    """Fully hyperbolic GCN (Chen et al. 2022): LorentzConv layers on the hyperboloid."""

    default_manifold = "lorentz"
    allowed_manifolds = ("lorentz",)

    def __init__(self, in_features: int, dim: int = 16, num_layers: int = 2, *,
                 manifold=None, c=1.0, learn_c: bool = False, act="relu",
                 dropout: float = 0.0, bias: bool = True, use_att: bool = False):
        super().__init__(in_features, dim, num_layers, manifold, c, learn_c)
        dims = [self.in_features] + [self.out_features] * self.num_layers
        self.layers = nn.ModuleList(
            LorentzConv(dims[i], dims[i + 1], self.layer_manifold(i + 1), bias=bias,
                        dropout=dropout, use_att=use_att,
                        nonlin=None if i == 0 else get_activation(act))
            for i in range(self.num_layers))

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        self.check_features(x)
        adj = self.adjacency(x, edge_index)
        h = self.mapped_input(x, self.layer_manifold(0).from_tangent0)
        for layer in self.layers:
            h = layer(h, adj)
        return h


class Shallow(Encoder):
    """One trainable point per node (a geoopt ManifoldParameter; train it with a
    Riemannian optimizer). Features and edges are ignored except for the node count."""

    def __init__(self, num_nodes: int, dim: int = 16, *, manifold=None, c=1.0,
                 learn_c: bool = False, in_features: int | None = None, init_scale: float = 1e-3):
        if num_nodes is None or int(num_nodes) < 1:
            raise HypsstError(f"Shallow needs num_nodes >= 1, got {num_nodes!r}")
        super().__init__(in_features or 1, dim, 1, manifold, c, learn_c)
        self.manifolds = self.manifolds[-1:]  # one table, one manifold
        self.num_nodes = int(num_nodes)
        with torch.no_grad():
            init = torch.empty(self.num_nodes, self.out_features).uniform_(-init_scale, init_scale)
            points = self.manifold.from_tangent0(init)
        self.embeddings = geoopt.ManifoldParameter(points, manifold=self.manifold)

    def forward(self, x: torch.Tensor | None = None, edge_index: torch.Tensor | None = None):
        if x is not None and x.size(0) != self.num_nodes:
            raise HypsstError(f"Shallow was built for {self.num_nodes} nodes, got {x.size(0)}")
        return self.embeddings


ENCODERS = {"hgcn": HGCN, "hybonet": HyboNet, "hnn": HNN, "gcn": GCN, "mlp": MLP, "shallow": Shallow}


def build_encoder(name: str, in_features: int, *, dim: int = 16, num_layers: int = 2,
                  manifold=None, c=1.0, learn_c: bool = False, act="relu", dropout: float = 0.0,
                  bias: bool = True, use_att: bool = False, num_nodes: int | None = None) -> nn.Module:
    """Build an encoder by name: hgcn | hybonet | hnn | gcn | mlp | shallow.

    ``manifold=None`` picks the model's default (hgcn/hnn: poincare, hybonet: lorentz,
    gcn/mlp/shallow: euclidean). ``shallow`` needs ``num_nodes`` and ignores the layer
    options.
    """
    key = str(name).lower()
    if key not in ENCODERS:
        raise HypsstError(f"unknown encoder {name!r}; allowed: {', '.join(ENCODERS)}")
    if key == "shallow":
        return Shallow(num_nodes, dim, manifold=manifold, c=c, learn_c=learn_c,
                       in_features=in_features)
    return ENCODERS[key](in_features, dim, num_layers, manifold=manifold, c=c, learn_c=learn_c,
                         act=act, dropout=dropout, bias=bias, use_att=use_att)
