"""Sampled Gromov δ-hyperbolicity (four-point condition), as HGCN reports it.

For nodes a, b, c, d with graph distances d(·,·), sort the three pair sums
S1 >= S2 >= S3 of {d(a,b)+d(c,d), d(a,c)+d(b,d), d(a,d)+d(b,c)}; the quadruple's δ is
(S1 - S2)/2 and the graph's δ is the max over all quadruples (0 for trees; small δ = tree-like,
the regime where hyperbolic embeddings help). We sample: ``anchors`` nodes of the largest
connected component drawn with ``numpy.random.default_rng(seed)``, breadth-first distances from
each (networkx ``single_source_shortest_path_length``), then ``num_samples`` random quadruples
among the anchors. The result is a lower bound on the true δ.
"""
from __future__ import annotations

import networkx as nx
import numpy as np
import torch


def sampled_delta(edge_index: torch.Tensor, num_nodes: int, *, num_samples: int = 20000,
                  anchors: int = 100, seed: int = 0) -> float:
    g = nx.Graph()
    g.add_nodes_from(range(num_nodes))
    g.add_edges_from(edge_index.t().tolist())
    cc = max(nx.connected_components(g), key=len)
    if len(cc) < 4:
        return 0.0
    rng = np.random.default_rng(seed)
    nodes = rng.choice(sorted(cc), size=min(anchors, len(cc)), replace=False)
    col = {int(u): t for t, u in enumerate(nodes)}
    dist = np.zeros((len(nodes), len(nodes)))
    for t, u in enumerate(nodes):
        for v, d in nx.single_source_shortest_path_length(g, int(u)).items():
            if v in col:
                dist[t, col[v]] = d
    q = np.array([rng.choice(len(nodes), 4, replace=False) for _ in range(num_samples)])
    a, b, c, d = q.T
    s = np.sort(np.stack([dist[a, b] + dist[c, d], dist[a, c] + dist[b, d],
                          dist[a, d] + dist[b, c]]), axis=0)
    return float((s[2] - s[1]).max() / 2)
