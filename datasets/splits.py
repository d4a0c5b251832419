"""Train / validation / test splits for link prediction and node classification.

Link prediction, ``method="default"`` (leak-free):
  * positives: the undirected edges, shuffled with ``torch.Generator(seed)``; the first
    ``int(E·val_frac)`` are validation, the next ``int(E·test_frac)`` test, the rest train;
  * the message graph the encoder sees holds the train edges only;
  * validation / test negatives: distinct node pairs i < j that are no edge of the full graph
    (never self-loops), disjoint from each other;
  * train negatives (``train_negatives``): fresh pairs each call, never an edge of the full
    graph (incl. val/test positives), never a self-loop, never a val/test negative.

``method="hgcn"`` follows HGCN's ``mask_edges`` rule: ``np.random.seed(seed)``, shuffle the
upper-triangle edges (row-major order) — same 5%/10% cut with ``int()`` — then shuffle all
upper-triangle non-edges *including the diagonal* and take val / test negatives from the
front; train negatives are drawn uniformly, with replacement, from every pair i <= j that is
not a train edge (HGCN's ``train_edges_false`` = all non-edges + val/test positives), so they
may be self-loops, val/test negatives or val/test positives — the leak this mode keeps for
comparability. HGCN materialises the dense N×N non-edge matrix; here the same permutation is
reproduced by shuffling an int32 rank array with the same legacy RandomState stream (equal
draws: ``shuffle`` draws depend only on the length) and decoding ranks to pairs, which
needs 4·M bytes for M non-edges. Above ``HGCN_EXACT_MAX_NONEDGES`` (PubMed) val/test
negatives are instead drawn uniformly from the same set with the torch generator: same
distribution, not the same pairs (``LinkSplit.exact_reference`` says which).

Node classification: the dataset's own split (Planetoid public split) when it has one and no
fractions are given; otherwise stratified: per class, ``round(frac·n_c)`` (at least 1) nodes
to val and to test, the rest to train, so every class is in every part and the parts are
disjoint (HGCN's ``split_data`` is binary-only; on 4-class Airport it puts test nodes in train).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch_geometric.utils import to_undirected

from hypsst.errors import DatasetError

from .graph import GraphData, NodeSplit
from .hgcn_formats import degree_onehot

HGCN_EXACT_MAX_NONEDGES = 20_000_000
NODE_SPLIT_DEFAULTS = {"disease_nc": (0.10, 0.60), "disease_lp": (0.10, 0.60),
                       "synthetic-disease": (0.10, 0.60), "airport": (0.15, 0.15)}


def _keys(pairs: torch.Tensor, n: int) -> torch.Tensor:
    """Unordered pair (i, j) -> min·n + max (int64)."""
    lo, hi = torch.minimum(pairs[0], pairs[1]), torch.maximum(pairs[0], pairs[1])
    return lo * n + hi


def _isin_sorted(keys: torch.Tensor, sorted_keys: torch.Tensor) -> torch.Tensor:
    if sorted_keys.numel() == 0:
        return torch.zeros_like(keys, dtype=torch.bool)
    pos = torch.searchsorted(sorted_keys, keys).clamp_max(sorted_keys.numel() - 1)
    return sorted_keys[pos] == keys


def sample_pairs(num: int, n: int, forbidden: torch.Tensor, generator: torch.Generator, *,
                 diagonal: bool, distinct: bool) -> torch.Tensor:
    """``num`` pairs (2, num) with i <= j (i < j unless ``diagonal``), uniform over the pairs
    whose key is not in the sorted ``forbidden``; vectorised rejection sampling.

    Written here rather than using torch_geometric's ``negative_sampling`` because that
    draws from numpy / torch's *global* RNG (no generator argument), so a run could not be
    reproduced from its seed nor resumed bit-identically, and it cannot include the diagonal
    as HGCN's rule needs. Uniformity: (a, b) uniform on [0,n)×[0,n) maps 2-to-1 onto i < j;
    with the diagonal, (a, b) uniform on [0,n)×[0,n+1) maps 2-to-1 onto i <= j via
    b > a -> (a, b-1), b <= a -> (b, a).
    """
    free = (n * (n + 1) if diagonal else n * (n - 1)) // 2 - forbidden.numel()
    if free < (num if distinct else min(num, 1)):
        raise DatasetError(f"cannot draw {num} negative pairs: only {free} node pairs are not "
                           f"excluded (the graph is too dense)")
    out, have, seen = [], 0, torch.empty(0, dtype=torch.long)
    while have < num:
        m = int(1.3 * (num - have)) + 64
        a = torch.randint(0, n, (m,), generator=generator)
        b = torch.randint(0, n + int(diagonal), (m,), generator=generator)
        if diagonal:
            i, j = torch.where(b > a, a, b), torch.where(b > a, b - 1, a)
        else:
            keep = a != b
            i, j = torch.minimum(a, b)[keep], torch.maximum(a, b)[keep]
        k = i * n + j
        ok = ~_isin_sorted(k, forbidden)
        k = k[ok]
        if distinct:
            k = k[~_isin_sorted(k, seen)]
            first = np.unique(k.numpy(), return_index=True)[1]
            k = k[torch.as_tensor(np.sort(first))]
            seen = torch.sort(torch.cat([seen, k]))[0]
        k = k[: num - have]
        out.append(k)
        have += k.numel()
    k = torch.cat(out) if out else torch.empty(0, dtype=torch.long)
    return torch.stack([k // n, k % n])


@dataclass
class LinkSplit:
    """Link-prediction split. Pair tensors are (2, ·), one direction each (i < j; i <= j
    for "hgcn" negatives); ``message_edge_index`` holds both directions of the train edges."""

    train_pos: torch.Tensor
    val_pos: torch.Tensor
    val_neg: torch.Tensor
    test_pos: torch.Tensor
    test_neg: torch.Tensor
    message_edge_index: torch.Tensor
    num_nodes: int
    method: str
    exact_reference: bool
    _forbidden: torch.Tensor  # sorted keys a train negative may not have
    #: features to train with on this split when the dataset's depend on its edges (Airport's
    #: degree one-hot, recomputed on the message graph as HGCN does, so held-out edges do not
    #: leak into x); None = use the graph's x unchanged
    x: torch.Tensor | None = None

    def train_negatives(self, num: int, generator: torch.Generator) -> torch.Tensor:
        """(2, num) negatives for one training epoch, drawn with ``generator`` (see module doc)."""
        return sample_pairs(num, self.num_nodes, self._forbidden, generator,
                            diagonal=self.method == "hgcn", distinct=False)

    def sizes(self) -> dict:
        return {k: int(getattr(self, k).size(1))
                for k in ("train_pos", "val_pos", "val_neg", "test_pos", "test_neg")}


def _rank_to_pair(ranks: np.ndarray, n: int, upper: np.ndarray) -> np.ndarray:
    """Decode ranks in the row-major list of non-edges (i, j), i <= j, to pairs.

    ``upper`` (E, 2) sorted row-major edges with i < j. Row i has n - i cells j >= i, of which
    ``deg_up[i]`` are edges; the rank's row comes from the cumulative counts, its column by
    skipping the row's edge columns that lie at or before it.
    """
    deg_up = np.bincount(upper[:, 0], minlength=n)
    ptr = np.concatenate([[0], np.cumsum(deg_up)])
    cum = np.cumsum(n - np.arange(n) - deg_up)
    rows = np.searchsorted(cum, ranks, side="right")
    out = np.empty((len(ranks), 2), dtype=np.int64)
    for t, (r, i) in enumerate(zip(ranks, rows)):
        j = i + r - (cum[i - 1] if i > 0 else 0)
        for c in upper[ptr[i]:ptr[i + 1], 1]:
            if c <= j:
                j += 1
            else:
                break
        out[t] = (i, j)
    return out


def split_links(g: GraphData, *, method: str = "default", val_frac: float = 0.05,
                test_frac: float = 0.1, seed: int = 0) -> LinkSplit:
    if method not in ("default", "hgcn"):
        raise DatasetError(f"split method must be 'default' or 'hgcn', got {method!r}")
    if not (0 <= val_frac and 0 <= test_frac and val_frac + test_frac < 1):
        raise DatasetError(f"val_frac={val_frac}, test_frac={test_frac}: need fractions >= 0 "
                           f"summing to less than 1")
    n = g.num_nodes
    ei = g.edge_index
    upper = ei[:, ei[0] < ei[1]]  # coalesced edge_index: row-major sorted
    e = upper.size(1)
    n_val, n_test = int(e * val_frac), int(e * test_frac)
    if e - n_val - n_test < 1:
        raise DatasetError(f"{g.name}: {e} edges leave no training edges")
    edge_keys = torch.sort(_keys(upper, n))[0]
    gen = torch.Generator().manual_seed(seed)
    exact = True
    if method == "default":
        perm = torch.randperm(e, generator=gen)
        neg = sample_pairs(n_val + n_test, n, edge_keys, gen, diagonal=False, distinct=True)
    else:
        rs = np.random.RandomState(seed)
        perm_np = np.arange(e)
        rs.shuffle(perm_np)
        perm = torch.as_tensor(perm_np)
        m = n * (n + 1) // 2 - e
        if m <= HGCN_EXACT_MAX_NONEDGES:
            ranks = np.arange(m, dtype=np.int32)
            rs.shuffle(ranks)
            neg = torch.as_tensor(_rank_to_pair(ranks[: n_val + n_test].astype(np.int64), n,
                                                upper.t().numpy())).t()
        else:
            exact = False
            neg = sample_pairs(n_val + n_test, n, edge_keys, gen, diagonal=True, distinct=True)
    val_pos, test_pos = upper[:, perm[:n_val]], upper[:, perm[n_val:n_val + n_test]]
    train_pos = upper[:, perm[n_val + n_test:]]
    val_neg, test_neg = neg[:, :n_val], neg[:, n_val:]
    if method == "default":
        forbidden = torch.sort(torch.cat([edge_keys, _keys(neg, n)]))[0]
    else:
        forbidden = torch.sort(_keys(train_pos, n))[0]
    message = to_undirected(train_pos, num_nodes=n)
    x = None
    if "degree_onehot_columns" in g.meta:
        a, b = g.meta["degree_onehot_columns"]
        x = g.x.clone()
        x[:, a:b] = torch.as_tensor(degree_onehot(np.bincount(message[0].numpy(), minlength=n)))
    return LinkSplit(train_pos=train_pos, val_pos=val_pos, val_neg=val_neg, test_pos=test_pos,
                     test_neg=test_neg, message_edge_index=message, num_nodes=n, method=method,
                     exact_reference=exact, _forbidden=forbidden, x=x)


def split_nodes(g: GraphData, *, val_frac: float | None = None, test_frac: float | None = None,
                seed: int = 0) -> NodeSplit:
    if g.y is None:
        raise DatasetError(f"{g.name}: no labels, so no node-classification split")
    if val_frac is None and test_frac is None and g.node_split is not None:
        return g.node_split
    dv, dt = NODE_SPLIT_DEFAULTS.get(g.name, (0.15, 0.15))
    val_frac = dv if val_frac is None else val_frac
    test_frac = dt if test_frac is None else test_frac
    if not (0 < val_frac and 0 < test_frac and val_frac + test_frac < 1):
        raise DatasetError(f"val_frac={val_frac}, test_frac={test_frac}: need fractions > 0 "
                           f"summing to less than 1")
    gen = torch.Generator().manual_seed(seed)
    parts = {"train": [], "val": [], "test": []}
    for c in range(g.num_classes):
        idx = (g.y == c).nonzero().view(-1)
        if idx.numel() == 0:
            continue
        if idx.numel() < 3:
            raise DatasetError(f"{g.name}: class {c} has {idx.numel()} node(s); every class needs "
                               f"at least 3 to appear in train, val and test")
        idx = idx[torch.randperm(idx.numel(), generator=gen)]
        nv = max(1, round(val_frac * idx.numel()))
        nt = max(1, round(test_frac * idx.numel()))
        nv, nt = min(nv, idx.numel() - 2), min(nt, idx.numel() - 1 - min(nv, idx.numel() - 2))
        parts["val"].append(idx[:nv])
        parts["test"].append(idx[nv:nv + nt])
        parts["train"].append(idx[nv + nt:])
    return NodeSplit(**{k: torch.sort(torch.cat(v))[0] for k, v in parts.items()})
