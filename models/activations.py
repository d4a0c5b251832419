"""Activation functions by name (the ``act`` option of every encoder)."""
from __future__ import annotations

import torch.nn as nn

from hypsst.errors import HypsstError

_ACTIVATIONS = {
    "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU, "elu": nn.ELU, "selu": nn.SELU,
    "gelu": nn.GELU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "none": nn.Identity,
}


def get_activation(name) -> nn.Module:
    """``relu`` | ``leaky_relu`` | ``elu`` | ``selu`` | ``gelu`` | ``tanh`` | ``sigmoid`` |
    ``none`` (None also means identity)."""
    key = "none" if name is None else str(name).lower()
    if key not in _ACTIVATIONS:
        raise HypsstError(f"unknown activation {name!r}; allowed: {', '.join(_ACTIVATIONS)}")
    return _ACTIVATIONS[key]()
