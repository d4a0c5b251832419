"""hypsst: hyperbolic deep learning trained with Sparse Spectral Training (SST).

Public names (DESIGN.md, "Public API") are resolved lazily so that ``import hypsst``
stays cheap and a script that only needs the SST layers does not import torch_geometric.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_PUBLIC = {
    "SSTLinear": "hypsst.sst",
    "LoRALinear": "hypsst.lora",
    "ReLoRALinear": "hypsst.lora",
    "convert": "hypsst.conversion",
    "make_optimizer": "hypsst.optim",
    "memory_report": "hypsst.memory",
    "merge": "hypsst.merging",
    "HypsstError": "hypsst.errors",
}
_SUBPACKAGES = ("manifolds", "models", "datasets")

__all__ = sorted(_PUBLIC) + list(_SUBPACKAGES)


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"hypsst.{name}")
    else:
        raise AttributeError(f"module 'hypsst' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return __all__
