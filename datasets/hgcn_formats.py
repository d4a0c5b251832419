"""Disease (``<name>.edges.csv`` / ``.feats.npz`` / ``.labels.npy``) and Airport (``airport.p``),
read as HGCN's ``utils/data_utils.py`` does.

Disease: string node ids re-indexed in first-seen order, graph made undirected, features NOT
row-normalised (HGCN's Disease configs use ``normalize_feats=0``).

Airport: a pickled networkx Graph whose nodes carry ``feat`` = 5 floats, in ``graph.nodes()``
order. NC: label = column 4 binned by ``np.digitize`` with bins [7/7, 8/7, 9/7] minus the
smallest bin hit (4 classes), features = columns 0-3; LP: features = all 5 columns. Then, in
HGCN's order: row-normalise the raw columns, and append (not normalised) a one-hot of
min(degree, 5) (6 columns) and a constant 1 column. Degree is the adjacency column sum of the
full graph, the one self-loop in airport.p counting once as in HGCN's adjacency; HGCN's LP
computes it on the training graph, and so does ``split_links`` (``LinkSplit.x``).
"""
from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np

from hypsst.errors import DatasetError

from .files import read_edge_csv, read_features, read_labels
from .graph import GraphData, make_graph, stand_in_features, row_normalise
from .safe_pickle import safe_load

AIRPORT_BINS = [7.0 / 7, 8.0 / 7, 9.0 / 7]


def load_edge_list_graph(edges_path: Path, *, name: str, features_path: Path | None,
                         labels_path: Path | None, features: str, normalise: bool,
                         max_identity_nodes: int, num_nodes: int | None = None) -> GraphData:
    """An edge-list CSV plus optional features / labels files (Disease and user graphs)."""
    edges, ids = read_edge_csv(edges_path)
    n = len(ids)
    meta = {"source_files": [str(edges_path)], "node_ids": ids}
    if features != "auto" or features_path is None:
        kind = "identity" if features == "auto" else features
        x = stand_in_features(kind, n, max_identity_nodes, str(edges_path))
        meta.update(features_kind=kind, normalised=False)
    else:
        x = read_features(features_path)
        if x.shape[0] != n:
            raise DatasetError(f"{features_path}: {x.shape[0]} feature rows for the {n} nodes "
                               f"named in {edges_path}")
        if not np.isfinite(x).all():
            raise DatasetError(f"{features_path}: features contain NaN or Inf")
        x = row_normalise(x.astype(np.float64)) if normalise else x
        meta.update(features_kind="given", normalised=normalise)
        meta["source_files"].append(str(features_path))
    y = None
    if labels_path is not None:
        y = read_labels(labels_path, n)
        meta["source_files"].append(str(labels_path))
    return make_graph(x, edges.T.copy(), y, name=name, source=str(edges_path), meta=meta)


def degree_onehot(deg: np.ndarray) -> np.ndarray:
    """(N, 6) one-hot of min(degree, 5), HGCN's ``augment``."""
    return np.eye(6, dtype=np.float32)[np.minimum(deg, 5)]


def load_airport(path: Path, *, task: str, features: str, max_identity_nodes: int) -> GraphData:
    if task not in ("nc", "lp"):
        raise DatasetError(f"airport: task must be 'nc' or 'lp', got {task!r}")
    graph = safe_load(path)
    if not isinstance(graph, nx.Graph):
        raise DatasetError(f"{path}: expected a pickled networkx Graph, got {type(graph).__name__}")
    nodes = list(graph.nodes())
    if not nodes:
        raise DatasetError(f"{path}: the graph is empty (no nodes)")
    try:
        raw = np.array([graph.nodes[u]["feat"] for u in nodes], dtype=np.float64)
    except (KeyError, ValueError, TypeError) as e:
        raise DatasetError(f"{path}: every node needs a 'feat' list of 5 numbers ({e})") from None
    if raw.ndim != 2 or raw.shape[1] != 5:
        raise DatasetError(f"{path}: node 'feat' must have 5 numbers, got shape {raw.shape}")
    pos = {u: i for i, u in enumerate(nodes)}
    edges = np.array([(pos[u], pos[v]) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    n = len(nodes)
    # Adjacency column sum (HGCN's degree): each edge counts at both ends, a self-loop once.
    deg = np.bincount(edges[:, 0], minlength=n) + np.bincount(edges[:, 1], minlength=n)
    deg -= np.bincount(edges[edges[:, 0] == edges[:, 1], 0], minlength=n)
    digit = np.digitize(raw[:, 4], AIRPORT_BINS)
    y = digit - digit.min()
    meta = {"source_files": [str(path)], "task": task, "node_ids": nodes}
    if features != "auto":
        x = stand_in_features(features, n, max_identity_nodes, str(path))
        meta.update(features_kind=features, normalised=False)
    else:
        cols = raw[:, :4] if task == "nc" else raw
        x = np.hstack([row_normalise(cols), degree_onehot(deg), np.ones((n, 1))])
        # these columns depend on the edges: link splits recompute them on the training graph
        meta.update(features_kind="given", normalised=True,
                    degree_onehot_columns=[cols.shape[1], cols.shape[1] + 6])
    return make_graph(x, edges.T.copy(), y, name="airport", source=str(path), meta=meta)
