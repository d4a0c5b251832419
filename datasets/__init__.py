"""hypsst.datasets: graphs for hyperbolic GNNs and their train/val/test splits.

``load(name_or_path, root=None, *, features="auto", ...) -> GraphData`` for cora, pubmed,
disease_lp, disease_nc, airport, synthetic-disease or an edge-list CSV; ``from_pyg(data)``;
``split_links`` / ``split_nodes``; ``info``; ``download``; ``known``.
"""
from .graph import GraphData, NodeSplit, from_pyg
from .registry import download, info, known, load
from .splits import LinkSplit, split_links, split_nodes

__all__ = ["GraphData", "NodeSplit", "LinkSplit", "load", "from_pyg", "known", "info",
           "download", "split_links", "split_nodes"]
