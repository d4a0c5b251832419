"""The one graph shape every loader returns and every model consumes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch_geometric.utils import coalesce, remove_self_loops, to_undirected

from hypsst.errors import DatasetError


@dataclass
class NodeSplit:
    """Disjoint LongTensors of node indices for node classification."""

    train: torch.Tensor
    val: torch.Tensor
    test: torch.Tensor

    def sizes(self) -> dict:
        return {"train": int(self.train.numel()), "val": int(self.val.numel()),
                "test": int(self.test.numel())}


@dataclass
class GraphData:
    """A graph ready for the models.

    ``x`` (N, F) float32; ``edge_index`` (2, E) LongTensor holding both directions of every
    undirected edge, no self-loops, no duplicates; ``y`` (N,) LongTensor or None;
    ``num_classes`` 0 without labels; ``node_split`` the dataset's own split (Planetoid public
    split) or None; ``meta`` free-form provenance (features_kind, normalised, files, ...).
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    y: torch.Tensor | None
    num_nodes: int
    num_classes: int
    name: str
    node_split: NodeSplit | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def num_edges(self) -> int:
        """Undirected edge count."""
        return int(self.edge_index.size(1)) // 2


def clean_edges(edge_index: torch.Tensor, num_nodes: int, source: str) -> torch.Tensor:
    """Both directions, no self-loops, no duplicates; ids must lie in [0, num_nodes)."""
    edge_index = torch.as_tensor(edge_index, dtype=torch.long)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise DatasetError(f"{source}: edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    if edge_index.numel() and (edge_index.min() < 0 or edge_index.max() >= num_nodes):
        bad = int(edge_index.max()) if edge_index.max() >= num_nodes else int(edge_index.min())
        raise DatasetError(f"{source}: an edge names node {bad}, but the graph has nodes "
                           f"0..{num_nodes - 1} only")
    edge_index, _ = remove_self_loops(edge_index)
    edge_index = to_undirected(edge_index, num_nodes=num_nodes)
    return coalesce(edge_index, num_nodes=num_nodes)


def row_normalise(x: np.ndarray) -> np.ndarray:
    """Divide each row by its sum (rows summing to 0 stay 0), as HGCN's ``normalize``."""
    s = x.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        inv = np.where(s != 0, 1.0 / s, 0.0)
    return x * inv


def stand_in_features(kind: str, num_nodes: int, max_nodes: int, source: str) -> torch.Tensor:
    """Features when the data's own are not used: ``"identity"`` = one-hot node ids (HGCN's
    ``use_feats=0``), ``"none"`` = an (N, 0) matrix (structure only: ``info``, shallow models).

    Identity is dense because the encoders take a dense x (dropout etc. do not run on sparse
    tensors); N² float32 grows fast (PubMed: 19717² ≈ 1.55 GB), so above ``max_nodes`` it is
    refused unless the caller raises the limit explicitly.
    """
    if kind == "none":
        return torch.zeros(num_nodes, 0)
    if num_nodes > max_nodes:
        gb = num_nodes * num_nodes * 4 / 1e9
        raise DatasetError(
            f"{source}: identity features for {num_nodes} nodes need a dense {num_nodes}x{num_nodes} "
            f"float32 matrix ({gb:.2f} GB); refused above max_identity_nodes={max_nodes}. Provide "
            f"the features file, or pass max_identity_nodes={num_nodes} to accept the memory cost")
    return torch.eye(num_nodes, dtype=torch.float32)


def make_graph(x, edge_index, y, *, name: str, source: str, node_split=None, meta=None,
               num_nodes: int | None = None) -> GraphData:
    """Validate and assemble a GraphData (every loader ends here)."""
    x = torch.as_tensor(np.asarray(x, dtype=np.float32) if not torch.is_tensor(x) else x,
                        dtype=torch.float32)
    n = int(num_nodes if num_nodes is not None else x.size(0))
    if n == 0:
        raise DatasetError(f"{source}: the graph is empty (no nodes)")
    if x.dim() != 2 or x.size(0) != n:
        raise DatasetError(f"{source}: features have shape {tuple(x.shape)}, expected ({n}, F)")
    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(dim=1).nonzero()[0])
        raise DatasetError(f"{source}: features contain NaN or Inf (first at node {bad})")
    edge_index = clean_edges(edge_index, n, source)
    if edge_index.size(1) == 0:
        raise DatasetError(f"{source}: the graph is empty (no edges between distinct nodes)")
    num_classes = 0
    if y is not None:
        y_np = np.asarray(y.numpy() if torch.is_tensor(y) else y)
        if y_np.ndim != 1 or y_np.shape[0] != n:
            raise DatasetError(f"{source}: labels have shape {y_np.shape}, expected ({n},) "
                               f"(one label per node)")
        if not np.all(np.isfinite(y_np.astype(np.float64))) or np.any(y_np != np.round(y_np)) \
                or y_np.min() < 0:
            raise DatasetError(f"{source}: labels must be non-negative integers")
        y = torch.as_tensor(y_np.astype(np.int64))
        num_classes = int(y.max()) + 1
    return GraphData(x=x.contiguous(), edge_index=edge_index, y=y, num_nodes=n,
                     num_classes=num_classes, name=name, node_split=node_split,
                     meta=dict(meta or {}))


def from_pyg(data, name: str = "custom") -> GraphData:
    """A ``torch_geometric.data.Data`` as GraphData (identity features if it has no ``x``)."""
    n = int(data.num_nodes)
    x = data.x if getattr(data, "x", None) is not None else torch.eye(n)
    y = getattr(data, "y", None)
    if y is not None and (y.dim() != 1 or y.size(0) != n):
        y = None  # graph-level or multi-label targets are not node labels
    split = None
    if all(getattr(data, k, None) is not None for k in ("train_mask", "val_mask", "test_mask")):
        split = NodeSplit(*(getattr(data, k).nonzero().view(-1)
                            for k in ("train_mask", "val_mask", "test_mask")))
    features_kind = "given" if getattr(data, "x", None) is not None else "identity"
    return make_graph(x.float(), data.edge_index, y, name=name, source=f"Data({name})",
                      node_split=split, num_nodes=n,
                      meta={"features_kind": features_kind, "normalised": False})
