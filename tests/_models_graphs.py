"""Small generated graphs for stream C's model tests (no dependency on hypsst.datasets)."""
from __future__ import annotations

import networkx as nx
import torch


def tree_graph(n: int = 256, seed: int = 0):
    """A random tree plus an edge from every node to its grandparent (a hierarchy graph).

    The grandparent edges keep held-out edges predictable: removing one tree edge leaves
    its endpoints two hops apart. Returns (edge_index both directions, undirected (2, E)).
    """
    tree = nx.random_labeled_tree(n, seed=seed)
    parent = nx.predecessor(tree, 0)
    edges = set()
    for v in range(1, n):
        p = parent[v][0]
        edges.add((p, v))
        if parent[p]:
            edges.add((parent[p][0], v))
    und = torch.tensor(sorted(edges), dtype=torch.long).t()
    return torch.cat([und, und.flip(0)], dim=1), und


def link_split(edges: torch.Tensor, n: int, test_frac: float = 0.15, seed: int = 0):
    """Hold out test edges; negatives are random node pairs that are not edges.

    Returns train_pos, test_pos, test_neg (one direction each) and the message graph
    (training edges, both directions).
    """
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(edges.size(1), generator=gen)
    n_test = int(test_frac * edges.size(1))
    test_pos, train_pos = edges[:, perm[:n_test]], edges[:, perm[n_test:]]
    existing = set(map(tuple, edges.t().tolist())) | set(map(tuple, edges.flip(0).t().tolist()))
    neg = []
    while len(neg) < n_test:
        i, j = torch.randint(n, (2,), generator=gen).tolist()
        if i != j and (i, j) not in existing:
            neg.append((i, j))
    test_neg = torch.tensor(neg).t()
    return train_pos, test_pos, test_neg, torch.cat([train_pos, train_pos.flip(0)], dim=1)
