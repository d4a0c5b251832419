r"""HGCN's layers (Chami et al. 2019), written against the tangent-at-origin API.

They run on any hypsst manifold: the Poincaré ball (HGCN), the hyperboloid (HGCN's
"Hyperboloid" variant) and Euclidean space (then they are exactly GCN / MLP layers).
With v = log₀(x) in d coordinates:

- ``HypLinear``:  x ↦ exp₀(W v) ⊕ b — the weight acts in the tangent space at the
  origin (``mobius_matvec`` when there is no dropout), then a Möbius bias b (a tangent
  vector at the origin, moved to the point: ``manifold.add_bias``).
- ``HypAgg``:     x ↦ exp₀(Σⱼ Âᵢⱼ log₀(xⱼ)) with Â = D⁻¹(A + I) sparse; with
  ``use_att`` each edge weight is Âᵢⱼ·sigmoid(a·[vᵢ ‖ vⱼ] + a₀) (HGCN's attention, on
  the edge list instead of a dense N×N matrix).
- ``HypAct``:     x ↦ exp₀^{c_out}(σ(log₀^{c_in}(x))) — also moves between curvatures.

W is a bias-free ``nn.Linear`` child (``self.linear``) that is only ever called, never
read, so ``hypsst.convert`` can replace it by an SST/LoRA module. HGCN drops entries of
W (DropConnect); a swapped-in SST layer has no dense W to drop, so dropout acts on the
tangent input v instead (what GCN does).
"""
from __future__ import annotations

import torch
import torch.nn as nn

from hypsst.errors import HypsstError
from hypsst.manifolds.base import check_width

from .aggregation import Adjacency
from .dropout import SparseAwareDropout


class HypLinear(nn.Module):
    def __init__(self, in_features: int, out_features: int, manifold, *, bias: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.in_features, self.out_features, self.manifold = in_features, out_features, manifold
        self.dropout = SparseAwareDropout(dropout)
        self.linear = nn.Linear(in_features, out_features, bias=False)
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.xavier_uniform_(self.linear.weight, gain=2 ** 0.5)  # HGCN's init

    def forward(self, x: torch.Tensor, *, tangent_input: bool = False) -> torch.Tensor:
        """x: points; or, with ``tangent_input``, their log₀ coordinates (N, in_features)."""
        if tangent_input:
            if x.size(-1) != self.in_features:
                raise HypsstError(f"{type(self).__name__} expects tangent vectors with "
                                  f"{self.in_features} coordinates, got {x.size(-1)}")
            v = x
        else:
            check_width(self.manifold, x, self.in_features, type(self).__name__)
            v = self.manifold.to_tangent0(x)
        y = self.manifold.from_tangent0(self.linear(self.dropout(v)))
        return y if self.bias is None else self.manifold.add_bias(y, self.bias)


class HypAgg(nn.Module):
    def __init__(self, features: int, manifold, *, use_att: bool = False):
        super().__init__()
        self.features, self.manifold = features, manifold
        self.att = nn.Linear(2 * features, 1) if use_att else None

    def edge_weights(self, v: torch.Tensor, adj: Adjacency) -> torch.Tensor:
        """Âᵢⱼ · sigmoid(a·[vᵢ ‖ vⱼ] + a₀) per edge (i ← j)."""
        score = self.att(torch.cat([v[adj.row], v[adj.col]], dim=-1)).squeeze(-1)
        return adj.weight * torch.sigmoid(score)

    def forward(self, x: torch.Tensor, adj: Adjacency) -> torch.Tensor:
        check_width(self.manifold, x, self.features, type(self).__name__)
        v = self.manifold.to_tangent0(x)
        v = adj.matmul(v) if self.att is None else adj.matmul_weighted(v, self.edge_weights(v, adj))
        return self.manifold.from_tangent0(v)


class HypAct(nn.Module):
    def __init__(self, manifold_in, manifold_out, act: nn.Module):
        super().__init__()
        self.manifold_in, self.manifold_out, self.act = manifold_in, manifold_out, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.manifold_out.from_tangent0(self.act(self.manifold_in.to_tangent0(x)))


class HGCNConv(nn.Module):
    """HypLinear → HypAgg (skipped when ``aggregate=False``: an HNN layer) → HypAct."""

    def __init__(self, in_features: int, out_features: int, manifold_in, manifold_out, act, *,
                 dropout: float = 0.0, bias: bool = True, use_att: bool = False,
                 aggregate: bool = True):
        super().__init__()
        self.lin = HypLinear(in_features, out_features, manifold_in, bias=bias, dropout=dropout)
        self.agg = HypAgg(out_features, manifold_in, use_att=use_att) if aggregate else None
        self.act = HypAct(manifold_in, manifold_out, act)

    def forward(self, x: torch.Tensor, adj: Adjacency | None = None, *,
                tangent_input: bool = False) -> torch.Tensor:
        h = self.lin(x, tangent_input=tangent_input)
        if self.agg is not None:
            h = self.agg(h, adj)
        return self.act(h)
