"""Link and node splits: leak-freedom of the default, exactness of the HGCN rule, disjointness."""
import numpy as np
import pytest
import scipy.sparse as sp
import torch

from hypsst.datasets import load, split_links, split_nodes
from hypsst.datasets.splits import _keys
from hypsst.errors import DatasetError


@pytest.fixture(scope="module")
def g():
    return load("synthetic-disease", seed=3, num_nodes=400)


def _keyset(pairs, n):
    return set(_keys(pairs, n).tolist())


def test_default_link_split_is_leak_free(g):
    s = split_links(g, seed=1)
    n = g.num_nodes
    e = g.num_edges
    assert s.sizes() == {"train_pos": e - int(e * .05) - int(e * .1), "val_pos": int(e * .05),
                         "val_neg": int(e * .05), "test_pos": int(e * .1), "test_neg": int(e * .1)}
    parts = {k: _keyset(getattr(s, k), n) for k in ("train_pos", "val_pos", "val_neg", "test_pos", "test_neg")}
    for a in parts:  # no pair in two splits, no duplicates inside one
        assert len(parts[a]) == getattr(s, a).size(1)
        for b in parts:
            assert a == b or not parts[a] & parts[b]
    edges = _keyset(g.edge_index, n)
    assert parts["train_pos"] | parts["val_pos"] | parts["test_pos"] == edges
    assert not (parts["val_neg"] | parts["test_neg"]) & edges
    for k in ("val_neg", "test_neg"):
        assert (getattr(s, k)[0] != getattr(s, k)[1]).all()
    # the encoder's graph holds the train edges only, both directions
    assert _keyset(s.message_edge_index, n) == parts["train_pos"]
    assert s.message_edge_index.size(1) == 2 * s.train_pos.size(1)
    neg = s.train_negatives(20000, torch.Generator().manual_seed(0))
    assert neg.shape == (2, 20000) and (neg[0] != neg[1]).all()
    assert not _keyset(neg, n) & (edges | parts["val_neg"] | parts["test_neg"])
    again = s.train_negatives(20000, torch.Generator().manual_seed(0))
    assert torch.equal(neg, again)
    assert not torch.equal(neg, s.train_negatives(20000, torch.Generator().manual_seed(1)))
    # deterministic per seed
    assert torch.equal(split_links(g, seed=1).test_neg, s.test_neg)


def _hgcn_mask_edges(g, val_prop, test_prop, seed):
    """HGCN's mask_edges rule, written out densely (small graph only) as the oracle."""
    n = g.num_nodes
    adj = sp.csr_matrix((np.ones(g.edge_index.size(1)), g.edge_index.numpy()), shape=(n, n))
    np.random.seed(seed)
    x, y = sp.triu(adj).nonzero()
    pos = np.array(list(zip(x, y)))
    np.random.shuffle(pos)
    x, y = sp.triu(sp.csr_matrix(1. - adj.toarray())).nonzero()
    neg = np.array(list(zip(x, y)))
    np.random.shuffle(neg)
    nv, nt = int(len(pos) * val_prop), int(len(pos) * test_prop)
    return pos[:nv], pos[nv:nv + nt], pos[nv + nt:], neg[:nv], neg[nv:nv + nt]


def test_hgcn_split_reproduces_reference_rule(g):
    s = split_links(g, method="hgcn", seed=1234)
    vp, tp, trp, vn, tn = _hgcn_mask_edges(g, 0.05, 0.1, 1234)
    assert s.exact_reference
    for ours, ref in ((s.val_pos, vp), (s.test_pos, tp), (s.train_pos, trp), (s.val_neg, vn), (s.test_neg, tn)):
        assert np.array_equal(ours.t().numpy(), ref)
    # train negatives: any pair i <= j that is not a train edge (the reference's leak kept)
    neg = s.train_negatives(200000, torch.Generator().manual_seed(0))
    assert (neg[0] <= neg[1]).all()
    assert not _keyset(neg, g.num_nodes) & _keyset(s.train_pos, g.num_nodes)
    assert (neg[0] == neg[1]).any()  # diagonal included, as in HGCN
    held_out = _keyset(s.val_pos, g.num_nodes)
    assert _keyset(neg, g.num_nodes) & held_out


def test_hgcn_split_falls_back_to_sampling_above_limit(g, monkeypatch):
    import hypsst.datasets.splits as S
    monkeypatch.setattr(S, "HGCN_EXACT_MAX_NONEDGES", 10)
    s = split_links(g, method="hgcn", seed=1234)
    assert not s.exact_reference
    vp = _hgcn_mask_edges(g, 0.05, 0.1, 1234)[0]
    assert np.array_equal(s.val_pos.t().numpy(), vp)  # positives stay exact
    edges = _keyset(g.edge_index, g.num_nodes)
    assert not (_keyset(s.val_neg, g.num_nodes) | _keyset(s.test_neg, g.num_nodes)) & edges


def test_bad_split_arguments(g):
    with pytest.raises(DatasetError, match="'default' or 'hgcn'"):
        split_links(g, method="random")
    with pytest.raises(DatasetError, match="less than 1"):
        split_links(g, val_frac=0.5, test_frac=0.6)


def test_stratified_node_split(g):
    s = split_nodes(g, seed=0)
    tr, va, te = (set(t.tolist()) for t in (s.train, s.val, s.test))
    assert not tr & va and not tr & te and not va & te
    assert tr | va | te == set(range(g.num_nodes))
    for part in (s.train, s.val, s.test):
        assert set(g.y[part].tolist()) == {0, 1}
    assert abs(len(va) - 0.1 * g.num_nodes) <= 2 and abs(len(te) - 0.6 * g.num_nodes) <= 2
    assert torch.equal(split_nodes(g, seed=0).test, s.test)
    assert not torch.equal(split_nodes(g, seed=1).test, s.test)


def test_node_split_needs_labels_and_enough_per_class():
    from hypsst.datasets.graph import make_graph
    ei = torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    no_labels = make_graph(torch.ones(5, 2), ei, None, name="t", source="t")
    with pytest.raises(DatasetError, match="no labels"):
        split_nodes(no_labels)
    tiny = make_graph(torch.ones(5, 2), ei, [0, 0, 0, 0, 1], name="t", source="t")
    with pytest.raises(DatasetError, match="class 1 has 1 node"):
        split_nodes(tiny)


def test_dense_graph_refused_not_looping():
    from hypsst.datasets.graph import make_graph
    ei = torch.combinations(torch.arange(6)).t()  # complete graph: no non-edges at all
    k6 = make_graph(torch.ones(6, 1), ei, None, name="k6", source="k6")
    with pytest.raises(DatasetError, match="cannot draw 6 negative pairs: only 0"):
        split_links(k6, val_frac=0.2, test_frac=0.2)
    s = split_links(k6, method="hgcn", val_frac=0.2, test_frac=0.2)  # diagonal pairs remain
    assert (s.val_neg[0] == s.val_neg[1]).all()
