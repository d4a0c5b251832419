"""synthetic-disease: an epidemic on a random tree, made the way HGCN's Disease data was.

1. Tree: breadth-first growth from a root; each node gets Uniform{1..branching} children until
   ``num_nodes`` nodes exist (depth ≈ log_{(1+branching)/2} N, so the graph is a tree: δ = 0).
2. Susceptibility s_v ~ Beta(2, 2) per node.
3. SIR from the root (patient zero): every infected node, before recovering, infects each
   susceptible neighbour v independently with probability ``infect_prob * 2 * s_v`` (clipped
   to 1). On a tree this discrete-time SIR is an independent cascade; label y_v = 1 if v was
   ever infected. The infected set is a subtree around the root.
4. Features, not normalised (as Disease): ``informative`` noisy copies of s_v (noise std 0.1·k
   for copy k), ``lineage`` columns of a Brownian motion down the tree (root N(0, 1), each child
   = parent + N(0, 0.3²)) — a "where in the hierarchy" signal shared by linked nodes, like the
   last Disease-LP column, which is what makes link prediction learnable from features on a
   tree where held-out edges leave most leaves isolated — and ``noise`` pure N(0, 1) columns.

Everything is drawn from one ``numpy.random.Generator(seed)``: the same seed gives the same
graph. If an outbreak infects under 10% or over 90% of the nodes (both classes must be
usable for NC), the epidemic is re-run from the same generator stream, so still deterministic.
"""
from __future__ import annotations

from collections import deque

import numpy as np

from hypsst.errors import DatasetError

from .graph import GraphData, make_graph

DEFAULTS = dict(num_nodes=1000, branching=4, infect_prob=0.9, informative=4, lineage=4, noise=4)
LINEAGE_STEP = 0.3


def random_tree(num_nodes: int, branching: int, rng: np.random.Generator) -> np.ndarray:
    """Parent array (parent[0] = -1) of a breadth-first random tree."""
    parent = np.full(num_nodes, -1, dtype=np.int64)
    queue, nxt = deque([0]), 1
    while nxt < num_nodes:
        u = queue.popleft()
        for _ in range(int(rng.integers(1, branching + 1))):
            if nxt == num_nodes:
                break
            parent[nxt] = u
            queue.append(nxt)
            nxt += 1
    return parent


def sir_on_tree(parent: np.ndarray, susceptibility: np.ndarray, infect_prob: float,
                rng: np.random.Generator) -> np.ndarray:
    """Ever-infected indicator of a discrete-time SIR started at node 0."""
    n = parent.size
    nbrs = [[] for _ in range(n)]
    for v in range(1, n):
        nbrs[v].append(parent[v])
        nbrs[parent[v]].append(v)
    infected = np.zeros(n, dtype=bool)
    infected[0] = True
    frontier = deque([0])
    while frontier:
        u = frontier.popleft()
        for v in nbrs[u]:
            if not infected[v] and rng.random() < min(1.0, infect_prob * 2 * susceptibility[v]):
                infected[v] = True
                frontier.append(v)
    return infected


def make_synthetic_disease(seed: int = 0, *, num_nodes: int = DEFAULTS["num_nodes"],
                           branching: int = DEFAULTS["branching"],
                           infect_prob: float = DEFAULTS["infect_prob"],
                           informative: int = DEFAULTS["informative"],
                           lineage: int = DEFAULTS["lineage"],
                           noise: int = DEFAULTS["noise"]) -> GraphData:
    try:  # options may arrive as strings from the command line (--data-option KEY=VALUE)
        num_nodes, branching, informative, lineage, noise = (
            int(v) for v in (num_nodes, branching, informative, lineage, noise))
        infect_prob = float(infect_prob)
    except ValueError as e:
        raise DatasetError(f"synthetic-disease: bad option value ({e})") from None
    if num_nodes < 10 or branching < 1 or not 0 < infect_prob <= 1 or min(informative, lineage, noise) < 0 \
            or informative + lineage + noise < 1:
        raise DatasetError("synthetic-disease: need num_nodes >= 10, branching >= 1, 0 < infect_prob "
                           "<= 1, informative, lineage, noise >= 0 with at least one feature column")
    rng = np.random.default_rng(seed)
    parent = random_tree(num_nodes, branching, rng)
    s = rng.beta(2.0, 2.0, size=num_nodes)
    for _ in range(100):
        y = sir_on_tree(parent, s, infect_prob, rng)
        if 0.1 <= y.mean() <= 0.9:
            break
    else:
        raise DatasetError(f"synthetic-disease: infect_prob={infect_prob} gives no outbreak "
                           f"infecting 10-90% of the nodes; choose a value nearer 0.9")
    scales = 0.1 * np.arange(1, informative + 1)
    walk = rng.normal(size=(num_nodes, lineage)) * LINEAGE_STEP
    walk[0] /= LINEAGE_STEP
    for v in range(1, num_nodes):  # parents precede children in breadth-first numbering
        walk[v] += walk[parent[v]]
    x = np.hstack([s[:, None] + rng.normal(size=(num_nodes, informative)) * scales, walk,
                   rng.normal(size=(num_nodes, noise))])
    edges = np.stack([parent[1:], np.arange(1, num_nodes)])
    opts = dict(num_nodes=num_nodes, branching=branching, infect_prob=infect_prob,
                informative=informative, lineage=lineage, noise=noise)
    return make_graph(x, edges, y.astype(np.int64), name="synthetic-disease", source="synthetic-disease",
                      meta={"features_kind": "given", "normalised": False, "seed": seed,
                            "generator_options": opts})
