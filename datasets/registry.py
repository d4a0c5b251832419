"""Dataset names, where their files are looked up, and ``load`` / ``info`` / ``download``.

Lookup order for ``<name>/<file>``: the explicit ``root`` (``--data-root``), then
``$HYPSST_DATA``, then ``~/.cache/hypsst``; the first folder ``<root>/<name>/`` that holds every
needed file wins. Files with a published checksum are verified before they are parsed.
"""
from __future__ import annotations

import os
from pathlib import Path

from hypsst.errors import DatasetError

from . import sources as _dl
from .files import sha256_of, git_blob_sha1
from .graph import GraphData
from .hgcn_formats import load_airport, load_edge_list_graph
from .planetoid import file_names, load_planetoid
from .synthetic import DEFAULTS as SYNTHETIC_DEFAULTS, make_synthetic_disease

MAX_IDENTITY_NODES = 10_000

#: name -> (files always needed, feature files (absent -> only features="identity" works))
FILES = {
    "cora": file_names("cora"),
    "pubmed": file_names("pubmed"),
    "disease_lp": (["disease_lp.edges.csv", "disease_lp.labels.npy"], ["disease_lp.feats.npz"]),
    "disease_nc": (["disease_nc.edges.csv", "disease_nc.labels.npy"], ["disease_nc.feats.npz"]),
    "airport": (["airport.p"], []),
}
GENERATED = ("synthetic-disease",)


class FeaturesMissing(DatasetError):
    """A dataset's structure files are present but its features file(s) ``files`` are not."""

    def __init__(self, message: str, files: list[str]):
        super().__init__(message)
        self.files = files


def known() -> list[str]:
    return list(FILES) + list(GENERATED)


def search_roots(root: str | os.PathLike | None = None) -> list[Path]:
    roots = [Path(root)] if root is not None else []
    if os.environ.get("HYPSST_DATA"):
        roots.append(Path(os.environ["HYPSST_DATA"]))
    return roots + [Path.home() / ".cache" / "hypsst"]


def _verify(path: Path, key: str) -> None:
    kind, expected = _dl.CHECKSUMS[key]
    got = sha256_of(path) if kind == "sha256" else git_blob_sha1(path.read_bytes())
    if got != expected:
        raise DatasetError(f"{path}: wrong checksum ({kind} {got}, expected {expected}); the "
                           f"file is truncated, corrupted or not the published one — delete it and "
                           f"run `hypsst data download {key.split('/')[0]}`")


def locate(name: str, root=None, *, need_features: bool) -> tuple[Path, bool]:
    """(folder holding ``name``'s files, whether its feature files are there)."""
    structure, feats = FILES[name]
    roots = search_roots(root)
    partial = None  # first folder with the structure files but not the feature files
    for r in roots:
        folder = r / name
        if all((folder / f).is_file() for f in structure):
            has_feats = all((folder / f).is_file() for f in feats)
            if has_feats or not need_features:
                return folder, has_feats
            partial = partial or folder
    if partial is not None:
        missing = [f for f in feats if not (partial / f).is_file()]
        raise FeaturesMissing(
            f"{name}: features file {', '.join(missing)} is missing from {partial}. Put it "
            f"there (`hypsst data download {name}`), or use identity features with "
            f"--features identity (Python: features=\"identity\")", missing)
    needed = ", ".join(structure + feats)
    raise DatasetError(
        f"{name}: files not found. Needed: {needed}. Looked in: "
        f"{', '.join(str(r / name) for r in roots)}. Put them in <root>/{name}/ (root = "
        f"--data-root, $HYPSST_DATA or ~/.cache/hypsst), or run `hypsst data download {name}` "
        f"when online")


def load(name_or_path: str | os.PathLike, root=None, *, features: str = "auto",
         features_path=None, labels_path=None, seed: int = 0, task: str = "nc",
         max_identity_nodes: int = MAX_IDENTITY_NODES, **generator_options) -> GraphData:
    """Load a dataset by name (see ``known()``) or an edge-list CSV path (see module docs)."""
    if features not in ("auto", "identity", "none"):
        raise DatasetError(f"features must be 'auto', 'identity' or 'none', got {features!r}")
    name = str(name_or_path)
    if generator_options and name not in GENERATED:
        raise DatasetError(f"{name}: unexpected options {sorted(generator_options)}")
    if name == "synthetic-disease":
        unknown = sorted(set(generator_options) - set(SYNTHETIC_DEFAULTS))
        if unknown:
            raise DatasetError(f"synthetic-disease: unknown options {unknown}; allowed: "
                               f"{', '.join(SYNTHETIC_DEFAULTS)}")
        return make_synthetic_disease(seed, **generator_options)
    if name not in FILES:
        path = Path(name)
        if path.suffix.lower() in (".csv", ".txt", ".tsv", ".edges") or path.is_file():
            if not path.is_file():
                raise DatasetError(f"{path}: edge-list file not found")
            return load_edge_list_graph(
                path, name=path.stem, features_path=Path(features_path) if features_path else None,
                labels_path=Path(labels_path) if labels_path else None, features=features,
                normalise=False, max_identity_nodes=max_identity_nodes)
        raise DatasetError(f"unknown dataset {name!r}; known: {', '.join(known())}, or a path "
                           f"to an edge-list .csv")
    if features_path is not None and not name.startswith("disease"):
        raise DatasetError(f"{name}: a features file can only be given for disease_lp / "
                           f"disease_nc or an edge-list CSV")
    if labels_path is not None:
        raise DatasetError(f"{name}: has its own labels; --labels is for edge-list CSVs")
    own_features = features == "auto" and features_path is None
    folder, _ = locate(name, root, need_features=own_features)
    structure, feats = FILES[name]
    for f in structure + (feats if own_features else []):
        _verify(folder / f, f"{name}/{f}")
    if name in ("cora", "pubmed"):
        return load_planetoid(folder, name, features=features, max_identity_nodes=max_identity_nodes)
    if name == "airport":
        return load_airport(folder / "airport.p", task=task, features=features,
                            max_identity_nodes=max_identity_nodes)
    return load_edge_list_graph(
        folder / f"{name}.edges.csv", name=name,
        features_path=Path(features_path) if features_path is not None
        else folder / feats[0] if own_features else None,
        labels_path=folder / f"{name}.labels.npy", features=features, normalise=False,
        max_identity_nodes=max_identity_nodes)


def download(name: str, root=None) -> Path:
    """Fetch ``name``'s files (checksum-verified, atomic) into ``<root>/<name>/``; ``root``
    defaults to ``$HYPSST_DATA`` or ``~/.cache/hypsst``. Files already present and correct are
    kept. Returns the folder."""
    if name not in FILES:
        raise DatasetError(f"{name!r} cannot be downloaded; downloadable: {', '.join(FILES)}")
    folder = search_roots(root)[0] / name
    for f in sum(FILES[name], []):
        dest = folder / f
        if dest.is_file():
            try:
                _verify(dest, f"{name}/{f}")
                continue
            except DatasetError:
                pass  # corrupted or partial: fetch again
        _dl.download_file(f"{name}/{f}", dest)
    return folder


def info(name: str, root=None, *, delta_samples: int = 20000, **load_kw) -> dict:
    """Counts, sampled δ-hyperbolicity and default split sizes of a dataset."""
    from .hyperbolicity import sampled_delta
    from .splits import split_links, split_nodes

    try:
        g = load(name, root, **load_kw)
        kind = g.meta.get("features_kind")
    except FeaturesMissing as e:  # still report the structure, and what is missing
        g = load(name, root, **{**load_kw, "features": "none"})
        kind = "missing: " + ", ".join(e.files)
    out = {"name": g.name, "nodes": g.num_nodes, "edges": g.num_edges, "features": int(g.x.size(1)),
           "classes": g.num_classes, "features_kind": kind,
           "delta": sampled_delta(g.edge_index, g.num_nodes, num_samples=delta_samples,
                                  seed=load_kw.get("seed", 0)),
           "link_split": split_links(g).sizes()}
    if g.y is not None:
        out["node_split"] = split_nodes(g).sizes()
    return out
