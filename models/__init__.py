"""Hyperbolic and Euclidean graph models for hypsst.

Every weight matrix is a plain ``nn.Linear`` child, so ``hypsst.convert`` can turn any
of these models into its SST / LoRA / ReLoRA* form.
"""
from .aggregation import Adjacency, AdjacencyCache, normalized_adjacency
from .decoders import FermiDiracDecoder, LinearDecoder, LorentzDecoder
from .encoders import ENCODERS, GCN, HGCN, HNN, MLP, Encoder, HyboNet, Shallow, build_encoder
from .layers_lorentz import LorentzAgg, LorentzConv, LorentzLinear
from .layers_poincare import HGCNConv, HypAct, HypAgg, HypLinear
from .tasks import LPModel, NCModel

__all__ = [
    "build_encoder", "ENCODERS", "Encoder", "HGCN", "HyboNet", "HNN", "GCN", "MLP", "Shallow",
    "HypLinear", "HypAgg", "HypAct", "HGCNConv", "LorentzLinear", "LorentzAgg", "LorentzConv",
    "FermiDiracDecoder", "LinearDecoder", "LorentzDecoder", "LPModel", "NCModel",
    "Adjacency", "AdjacencyCache", "normalized_adjacency",
]
