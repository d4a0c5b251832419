"""Cora / PubMed from the Planetoid ``ind.<name>.*`` files.

Assembly as torch_geometric's ``read_planetoid_data`` and HGCN's ``load_citation_data`` do:
x = [allx; tx] with the test rows moved to their ids (``x[test_index] = x[sorted(test_index)]``),
labels likewise (argmax of one-hot), public split train = first len(y) nodes, val = next 500,
test = test_index. PyG's reader is not called directly because it unpickles with plain
``pickle`` (unsafe for files of unknown origin) and needs ``allx``, which PubMed lacks here;
its ``edge_index_from_dict`` and ``read_txt_array`` are reused.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch_geometric.io.planetoid import edge_index_from_dict

from hypsst.errors import DatasetError

from .graph import GraphData, NodeSplit, clean_edges, make_graph, row_normalise, stand_in_features
from .safe_pickle import safe_load


def file_names(prefix: str) -> tuple[list[str], list[str]]:
    """(structure files, feature files) of a Planetoid dataset."""
    structure = [f"ind.{prefix}.{k}" for k in ("y", "ty", "ally", "graph", "test.index")]
    features = [f"ind.{prefix}.{k}" for k in ("x", "tx", "allx")]
    return structure, features


def _dense(obj, path: Path) -> np.ndarray:
    arr = obj.toarray() if hasattr(obj, "toarray") else np.asarray(obj)
    if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
        raise DatasetError(f"{path}: expected a matrix, got {type(obj).__name__} of shape {arr.shape}")
    return arr


def _test_index(path: Path) -> np.ndarray:
    try:
        idx = np.loadtxt(path, dtype=np.int64, ndmin=1)
    except ValueError as e:
        raise DatasetError(f"{path}: expected one integer per line ({e})") from None
    return idx


def load_planetoid(folder: Path, prefix: str, *, features: str, max_identity_nodes: int) -> GraphData:
    p = {k: folder / f"ind.{prefix}.{k}" for k in ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")}
    ally, ty, y = (_dense(safe_load(p[k]), p[k]) for k in ("ally", "ty", "y"))
    if ally.shape[1] != ty.shape[1]:
        raise DatasetError(f"{p['ty']}: {ty.shape[1]} label columns, {p['ally']} has {ally.shape[1]}")
    n = ally.shape[0] + ty.shape[0]
    test_index = _test_index(p["test.index"])
    if test_index.size != ty.shape[0] or test_index.min() < 0 or test_index.max() >= n:
        raise DatasetError(f"{p['test.index']}: {test_index.size} test ids in [{test_index.min()}, "
                           f"{test_index.max()}], expected {ty.shape[0]} ids in [0, {n})")
    order = np.sort(test_index)
    labels = np.vstack([ally, ty])
    labels[test_index] = labels[order]
    graph = safe_load(p["graph"])
    if not isinstance(graph, dict):
        raise DatasetError(f"{p['graph']}: expected a dict of adjacency lists, got {type(graph).__name__}")
    edge_index = clean_edges(edge_index_from_dict(graph, num_nodes=n), n, str(p["graph"]))
    meta = {"source_files": [str(v) for k, v in p.items() if k not in ("x", "tx", "allx")]}
    if features != "auto":
        x = stand_in_features(features, n, max_identity_nodes, prefix)
        meta.update(features_kind=features, normalised=False)
    else:
        allx, tx = (_dense(safe_load(p[k]), p[k]) for k in ("allx", "tx"))
        if allx.shape[0] != ally.shape[0] or tx.shape[0] != ty.shape[0]:
            raise DatasetError(f"{p['allx']}: {allx.shape[0]} + {tx.shape[0]} feature rows for "
                               f"{ally.shape[0]} + {ty.shape[0]} labelled nodes")
        x = np.vstack([allx, tx]).astype(np.float64)
        x[test_index] = x[order]
        x = row_normalise(x)
        meta.update(features_kind="given", normalised=True,
                    source_files=meta["source_files"] + [str(p[k]) for k in ("x", "tx", "allx")])
    split = NodeSplit(train=torch.arange(y.shape[0]),
                      val=torch.arange(y.shape[0], y.shape[0] + 500),
                      test=torch.as_tensor(order))
    return make_graph(x, edge_index, labels.argmax(axis=1), name=prefix, source=str(folder),
                      node_split=split, meta=meta, num_nodes=n)
