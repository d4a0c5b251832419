"""Readers for file formats: edge-list CSV, features .npy/.npz, labels .npy; checksums."""
from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from hypsst.errors import DatasetError


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_blob_sha1(data: bytes) -> str:
    """Git's object id of a blob: sha1(b"blob <len>\\0" + data)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def check_digest(data: bytes, checksum: tuple[str, str], source: str) -> None:
    """``checksum`` = ("sha256" | "git-blob-sha1", hex digest); DatasetError on mismatch."""
    kind, expected = checksum
    got = hashlib.sha256(data).hexdigest() if kind == "sha256" else git_blob_sha1(data)
    if got != expected:
        raise DatasetError(f"{source}: wrong checksum ({kind} {got}, expected {expected}); "
                           f"the file is corrupted or not the published one")


def read_edge_csv(path: str | Path) -> tuple[np.ndarray, list[str]]:
    """``u,v`` per line (string ids, extra columns ignored, '#' comments and a ``source,target``
    style header skipped); ids re-indexed in first-seen order as HGCN does.
    Returns (edges (E, 2) int64, ids in index order)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a text edge list (bytes that are not UTF-8)") from None
    index: dict[str, int] = {}
    edges = []
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = [p.strip() for p in line.replace("\t", ",").split(",")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            raise DatasetError(f"{path}, line {lineno}: expected 'u,v', got {line[:60]!r}")
        if lineno == 1 and not edges and parts[0].lower() in {"source", "src", "u", "from", "node1"}:
            continue
        ij = []
        for p in parts[:2]:
            if p not in index:
                index[p] = len(index)
            ij.append(index[p])
        edges.append(ij)
    if not edges:
        raise DatasetError(f"{path}: no edges (empty edge list)")
    return np.asarray(edges, dtype=np.int64), list(index)


def read_features(path: str | Path) -> np.ndarray:
    """A dense float32 (N, F) matrix from .npy (dense array) or .npz (scipy sparse or arrays)."""
    path = Path(path)
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                is_sparse = "format" in z.files  # written by scipy.sparse.save_npz
                x = sp.load_npz(path).toarray() if is_sparse else z[z.files[0]]
        else:
            x = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise DatasetError(f"{path}: truncated or corrupted features file ({e})") from None
    x = np.asarray(x)
    if x.ndim != 2 or not np.issubdtype(x.dtype, np.number):
        raise DatasetError(f"{path}: features must be a numeric (N, F) matrix, got shape {x.shape}")
    return x.astype(np.float32)


def read_labels(path: str | Path, num_nodes: int | None = None) -> np.ndarray:
    """A label vector (N,) from .npy (integers, or floats holding integers as in disease_nc);
    with ``num_nodes``, its length must match."""
    path = Path(path)
    try:
        y = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DatasetError(f"{path}: truncated or corrupted labels file ({e})") from None
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:  # one-hot
        y = y.argmax(axis=1)
    y = y.reshape(-1) if y.ndim == 2 else y
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.number) or not np.all(np.isfinite(y)) \
            or np.any(y != np.round(y)) or (y.size and y.min() < 0):
        raise DatasetError(f"{path}: labels must be a vector of non-negative integers")
    if num_nodes is not None and y.shape[0] != num_nodes:
        raise DatasetError(f"{path}: {y.shape[0]} labels for a graph of {num_nodes} nodes "
                           f"(one label per node needed)")
    return y.astype(np.int64)
