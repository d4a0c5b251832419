"""Loaders on the real files (counts of ../shared/data/hgcn/SOURCE.md), synthetic generator,
user files and PyG Data, and one clear DatasetError per kind of bad input."""
import os
import pickle
import shutil
from collections import Counter
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch

from hypsst.datasets import from_pyg, info, known, load, split_links, split_nodes
from hypsst.errors import DatasetError

DATA = Path(os.environ.get("HYPSST_DATA", "/nonexistent"))
real = pytest.mark.skipif(not (DATA / "cora").is_dir(),
                          reason="real data files absent: set HYPSST_DATA to ../shared/data/hgcn")


def _undirected_ok(g):
    ei = g.edge_index
    assert (ei[0] != ei[1]).all()
    keys = set(zip(ei[0].tolist(), ei[1].tolist()))
    assert len(keys) == ei.size(1) and all((j, i) in keys for i, j in keys)


@real
def test_cora():
    g = load("cora")
    assert (g.num_nodes, g.num_edges, g.x.shape[1], g.num_classes) == (2708, 5278, 1433, 7)
    assert g.x.dtype == torch.float32 and torch.allclose(g.x.sum(1), torch.ones(2708))
    s = split_nodes(g)
    assert (s.train.numel(), s.val.numel(), s.test.numel()) == (140, 500, 1000)
    assert torch.equal(s.train, torch.arange(140)) and torch.equal(s.val, torch.arange(140, 640))
    assert Counter(g.y.tolist()) == {3: 818, 4: 426, 2: 418, 0: 351, 5: 298, 1: 217, 6: 180}
    _undirected_ok(g)


@real
def test_pubmed_features_missing_and_structure():
    with pytest.raises(DatasetError, match=r"ind\.pubmed\.allx is missing.*--features identity"):
        load("pubmed")
    with pytest.raises(DatasetError, match="max_identity_nodes"):  # 19717² floats refused
        load("pubmed", features="identity")
    g = load("pubmed", features="none")  # structure only, without the 1.5 GB identity
    assert g.x.shape == (19717, 0)
    assert (g.num_nodes, g.num_edges, g.num_classes) == (19717, 44324, 3)
    assert [t.numel() for t in (g.node_split.train, g.node_split.val, g.node_split.test)] == [60, 500, 1000]


@real
def test_disease_lp():
    g = load("disease_lp")
    assert (g.num_nodes, g.num_edges, g.x.shape[1]) == (2665, 2664, 11)
    assert Counter(g.y.tolist()) == {0: 1605, 1: 1060}
    assert g.meta["normalised"] is False and g.meta["features_kind"] == "given"
    assert nx.is_tree(nx.Graph(g.edge_index.t().tolist()))
    # first-seen re-indexing: node 0 and 1 are the two ends of the file's first line
    first = (DATA / "disease_lp" / "disease_lp.edges.csv").read_text().splitlines()[0].split(",")
    assert g.meta["node_ids"][:2] == first


@real
def test_disease_nc_features_missing():
    with pytest.raises(DatasetError, match=r"disease_nc\.feats\.npz is missing.*--features identity"):
        load("disease_nc")
    g = load("disease_nc", features="identity")
    assert (g.num_nodes, g.num_edges, g.x.shape[1]) == (1044, 1043, 1044)
    assert torch.equal(g.x, torch.eye(1044)) and g.meta["features_kind"] == "identity"
    assert Counter(g.y.tolist()) == {0: 833, 1: 211}


@real
def test_airport_features_as_hgcn():
    g = load("airport")
    assert (g.num_nodes, g.num_edges, g.x.shape[1], g.num_classes) == (3188, 18630, 11, 4)
    # independent oracle: HGCN's recipe with networkx / numpy
    graph = pickle.load(open(DATA / "airport" / "airport.p", "rb"))  # sha256 verified by load()
    assert graph.number_of_edges() == 18631 and nx.number_of_selfloops(graph) == 1
    feat = np.array([graph.nodes[u]["feat"] for u in graph.nodes()])
    deg = np.asarray(nx.adjacency_matrix(graph).sum(axis=0)).ravel().astype(int)
    lab = np.digitize(feat[:, 4], [1, 8 / 7, 9 / 7])
    assert np.array_equal(g.y.numpy(), lab - lab.min())
    cols = feat[:, :4] / feat[:, :4].sum(1, keepdims=True)
    ref = np.hstack([cols, np.eye(6)[np.minimum(deg, 5)], np.ones((3188, 1))])
    assert np.allclose(g.x.numpy(), ref, atol=1e-6)
    lp = load("airport", task="lp")
    assert lp.x.shape == (3188, 12) and torch.allclose(lp.x[:, :5].sum(1), torch.ones(3188))
    # for LP the degree columns come from the training graph (as HGCN's adj_train), so
    # held-out edges do not leak into the features
    ls = split_links(lp, seed=0)
    train_deg = np.bincount(ls.message_edge_index[0].numpy(), minlength=3188)
    assert torch.equal(ls.x[:, 5:11], torch.as_tensor(np.eye(6)[np.minimum(train_deg, 5)], dtype=torch.float32))
    assert torch.equal(ls.x[:, :5], lp.x[:, :5]) and not torch.equal(ls.x, lp.x)
    assert split_links(load("disease_lp")).x is None
    # the reference split leaks ~225 test nodes into train on 4-class Airport; ours is disjoint
    s = split_nodes(g, seed=1234)
    tr, va, te = (set(t.tolist()) for t in (s.train, s.val, s.test))
    assert not tr & te and not tr & va and not va & te and len(tr | va | te) == 3188
    for part in (s.train, s.val, s.test):
        assert set(g.y[part].tolist()) == {0, 1, 2, 3}
    assert abs(len(te) - 0.15 * 3188) <= 4


@real
def test_info_reports_counts_delta_and_splits():
    r = info("disease_lp")
    assert (r["nodes"], r["edges"], r["features"], r["classes"], r["delta"]) == (2665, 2664, 11, 2, 0.0)
    assert r["link_split"]["test_pos"] == int(2664 * 0.1) and r["node_split"]["val"] == 266
    assert info("airport", delta_samples=3000)["delta"] >= 1.0  # HGCN: δ(airport) = 1
    r = info("disease_nc")  # structure still reported when the features file is missing
    assert (r["nodes"], r["features"], r["features_kind"]) == (1044, 0, "missing: disease_nc.feats.npz")


def test_synthetic_disease_deterministic_tree_both_classes():
    a, b = load("synthetic-disease", seed=7), load("synthetic-disease", seed=7)
    assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index) and torch.equal(a.y, b.y)
    c = load("synthetic-disease", seed=8)
    assert not torch.equal(a.y, c.y)
    assert a.num_nodes == 1000 and nx.is_tree(nx.Graph(a.edge_index.t().tolist()))
    assert 0.1 <= a.y.float().mean() <= 0.9 and a.num_classes == 2
    # the infected set is connected and holds patient zero (an epidemic, not random labels)
    sick = nx.Graph(a.edge_index.t().tolist()).subgraph(a.y.nonzero().view(-1).tolist())
    assert nx.is_connected(sick) and 0 in sick
    # the informative columns carry the susceptibility signal: infected nodes score higher
    assert a.x[a.y == 1, 0].mean() > a.x[a.y == 0, 0].mean()
    # the lineage columns are shared along edges (what makes LP learnable), the noise ones not
    assert a.x.shape[1] == 12
    e = a.edge_index
    rand = torch.randint(0, 1000, (2, 5000), generator=torch.Generator().manual_seed(0))
    gap = lambda pairs, cols: (a.x[pairs[0], cols] - a.x[pairs[1], cols]).abs().mean()
    assert gap(e, slice(4, 8)) < 0.5 * gap(rand, slice(4, 8))
    assert gap(e, slice(8, 12)) > 0.8 * gap(rand, slice(8, 12))
    big = load("synthetic-disease", seed=0, num_nodes=2500, branching=3)
    assert big.num_nodes == 2500 and big.num_edges == 2499
    with pytest.raises(DatasetError, match="num_nodes >= 10"):
        load("synthetic-disease", num_nodes=3)
    assert load("synthetic-disease", num_nodes="50", infect_prob="1.0").num_nodes == 50  # CLI strings
    with pytest.raises(DatasetError, match="unknown options \\['size'\\]; allowed: num_nodes"):
        load("synthetic-disease", size=5)
    with pytest.raises(DatasetError, match="cora: unexpected options"):
        load("cora", num_nodes=5)


def test_user_csv_with_features_and_labels(tmp_path):
    (tmp_path / "e.csv").write_text("source,target\na,b\nb,c\nc,a\nc,d\nd,d\n")
    np.save(tmp_path / "f.npy", np.arange(8, dtype=np.float64).reshape(4, 2))
    np.save(tmp_path / "l.npy", np.array([0, 1, 0, 1]))
    g = load(tmp_path / "e.csv", features_path=tmp_path / "f.npy", labels_path=tmp_path / "l.npy")
    assert (g.num_nodes, g.num_edges, g.num_classes, g.name) == (4, 4, 2, "e")
    assert torch.equal(g.x, torch.arange(8.).view(4, 2))
    _undirected_ok(g)
    g2 = load(str(tmp_path / "e.csv"))
    assert torch.equal(g2.x, torch.eye(4)) and g2.y is None


def test_from_pyg():
    from torch_geometric.data import Data
    d = Data(x=torch.randn(4, 3), edge_index=torch.tensor([[0, 1, 2, 2], [1, 2, 3, 2]]),
             y=torch.tensor([0, 1, 1, 0]))
    d.train_mask = torch.tensor([1, 0, 0, 0]).bool()
    d.val_mask = torch.tensor([0, 1, 0, 0]).bool()
    d.test_mask = torch.tensor([0, 0, 1, 1]).bool()
    g = from_pyg(d, name="toy")
    assert g.edge_index.size(1) == 6 and g.num_classes == 2
    assert g.node_split.test.tolist() == [2, 3]
    with pytest.raises(DatasetError, match="names node 9"):
        from_pyg(Data(x=torch.ones(3, 1), edge_index=torch.tensor([[0], [9]])))


# ---------------------------------------------------------------- bad input, one error each
def test_unknown_name_lists_known():
    with pytest.raises(DatasetError, match="unknown dataset 'coraa'.*cora, pubmed.*synthetic-disease"):
        load("coraa")
    assert known() == ["cora", "pubmed", "disease_lp", "disease_nc", "airport", "synthetic-disease"]


def test_missing_files_say_what_and_where(tmp_path, monkeypatch):
    monkeypatch.delenv("HYPSST_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(DatasetError) as e:
        load("disease_lp", root=tmp_path / "r")
    msg = str(e.value)
    assert "disease_lp.edges.csv" in msg and str(tmp_path / "r" / "disease_lp") in msg
    assert ".cache/hypsst/disease_lp" in msg and "hypsst data download disease_lp" in msg


@real
def test_lookup_order_root_then_env(tmp_path, monkeypatch):
    shutil.copytree(DATA / "disease_nc", tmp_path / "disease_nc")
    monkeypatch.setenv("HYPSST_DATA", str(DATA))
    g = load("disease_nc", root=tmp_path, features="identity")
    assert g.meta["source_files"][0].startswith(str(tmp_path))
    g = load("disease_nc", root=tmp_path / "empty", features="identity")
    assert g.meta["source_files"][0].startswith(str(DATA))
    # a folder lacking the features file does not hide a later one that has it
    shutil.copytree(DATA / "disease_lp", tmp_path / "env" / "disease_lp")
    (tmp_path / "part" / "disease_lp").mkdir(parents=True)
    for f in ("disease_lp.edges.csv", "disease_lp.labels.npy"):
        shutil.copy(DATA / "disease_lp" / f, tmp_path / "part" / "disease_lp")
    monkeypatch.setenv("HYPSST_DATA", str(tmp_path / "env"))
    assert load("disease_lp", root=tmp_path / "part").meta["source_files"][0].startswith(str(tmp_path / "env"))
    assert load("disease_lp", root=tmp_path / "part", features="identity").meta["source_files"][0] \
        .startswith(str(tmp_path / "part"))


@real
@pytest.mark.parametrize("mutate", ["truncate", "flip"])
def test_wrong_checksum(tmp_path, mutate):
    shutil.copytree(DATA / "cora", tmp_path / "cora")
    p = tmp_path / "cora" / "ind.cora.graph"
    p.chmod(0o644)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2] if mutate == "truncate" else data[:-1] + b"\x00")
    with pytest.raises(DatasetError, match=r"ind\.cora\.graph: wrong checksum"):
        load("cora", root=tmp_path)


def test_hostile_pickle_refused(tmp_path):
    from hypsst.datasets.safe_pickle import safe_load
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    p = tmp_path / "ind.x.graph"
    p.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(DatasetError, match="refusing to load posix.system|refusing to load os.system"):
        safe_load(p)
    assert not marker.exists()
    p.write_bytes(pickle.dumps({0: [1]})[:5])
    with pytest.raises(DatasetError, match="truncated or corrupted pickle"):
        safe_load(p)


def _planetoid_dir(tmp_path, graph):
    """A tiny well-formed Planetoid folder (3 train, 1 test node), with ``graph`` as adjacency."""
    import scipy.sparse as sp
    files = {"x": sp.csr_matrix(np.eye(2, 3)), "y": np.eye(2)[[0, 1]],
             "allx": sp.csr_matrix(np.eye(3)), "ally": np.eye(2)[[0, 1, 0]],
             "tx": sp.csr_matrix(np.ones((1, 3))), "ty": np.eye(2)[[1]], "graph": graph}
    for k, v in files.items():
        (tmp_path / f"ind.t.{k}").write_bytes(pickle.dumps(v))
    (tmp_path / "ind.t.test.index").write_text("3\n")
    return tmp_path


def test_planetoid_reader_and_bad_edges(tmp_path):
    from hypsst.datasets.planetoid import load_planetoid
    g = load_planetoid(_planetoid_dir(tmp_path, {0: [1], 1: [2], 2: [3]}), "t",
                       features="auto", max_identity_nodes=10)
    assert (g.num_nodes, g.num_edges) == (4, 3) and g.y.tolist() == [0, 1, 0, 1]
    with pytest.raises(DatasetError, match=r"ind\.t\.graph: an edge names node 7.*0\.\.3"):
        load_planetoid(_planetoid_dir(tmp_path, {0: [7]}), "t", features="auto", max_identity_nodes=10)


@pytest.mark.parametrize("case,match", [
    ("nan", r"f\.npy: features contain NaN or Inf"),
    ("labels_len", r"l\.npy: 3 labels for a graph of 4 nodes"),
    ("feat_rows", r"f\.npy: 3 feature rows for the 4 nodes"),
    ("corrupt_npz", r"f\.npz: truncated or corrupted features file"),
    ("corrupt_labels", r"l\.npy: truncated or corrupted labels file"),
    ("empty", r"e\.csv: no edges"),
    ("self_loops_only", r"e\.csv: the graph is empty"),
    ("bad_line", r"e\.csv, line 2: expected 'u,v'"),
])
def test_bad_user_files(tmp_path, case, match):
    e, f, lab = tmp_path / "e.csv", tmp_path / "f.npy", tmp_path / "l.npy"
    e.write_text("a,b\nb,c\nc,d\n")
    np.save(f, np.ones((4, 2)))
    np.save(lab, np.zeros(4, dtype=int))
    if case == "nan":
        np.save(f, np.array([[1, 2], [np.nan, 1], [0, 0], [1, 1]]))
    elif case == "labels_len":
        np.save(lab, np.zeros(3, dtype=int))
    elif case == "feat_rows":
        np.save(f, np.ones((3, 2)))
    elif case == "corrupt_npz":
        f = tmp_path / "f.npz"
        f.write_bytes(b"PK\x03\x04 not a zip")
    elif case == "corrupt_labels":
        lab.write_bytes(lab.read_bytes()[:20])
    elif case == "empty":
        e.write_text("\n")
    elif case == "self_loops_only":
        e.write_text("a,a\nb,b\n")
        f = lab = None
    elif case == "bad_line":
        e.write_text("a,b\nc\n")
    with pytest.raises(DatasetError, match=match):
        load(e, features_path=f, labels_path=lab)


@real
def test_disease_nc_with_user_features_file(tmp_path):
    np.save(tmp_path / "f.npy", np.random.default_rng(0).normal(size=(1044, 5)))
    g = load("disease_nc", features_path=tmp_path / "f.npy")
    assert g.x.shape == (1044, 5) and g.meta["features_kind"] == "given"
    with pytest.raises(DatasetError, match=r"f\.npy: 1044 feature rows for the 2665 nodes"):
        load("disease_lp", features_path=tmp_path / "f.npy")
    with pytest.raises(DatasetError, match="only be given for disease"):
        load("cora", features_path=tmp_path / "f.npy")
