"""Turn trained SST / LoRA / ReLoRA* layers into plain layers for inference."""
from __future__ import annotations

import logging
import math

import torch
from torch import nn

from ._layers import replace_modules
from .errors import HypsstError
from .lora import LoRALinear
from .lowrank import LowRankLinear
from .sst import SSTLinear

log = logging.getLogger("hypsst")


@torch.no_grad()
def merge(model: nn.Module, keep: float = 1.0) -> nn.Module:
    """Replace every SSTLinear / LoRALinear / ReLoRALinear in ``model`` (in place).

    ``keep == 1``: by an ``nn.Linear`` with the layer's dense weight (same outputs).
    ``keep < 1``: by a :class:`LowRankLinear` keeping the ceil(keep·k) largest singular
    values of the weight; its ``relative_error`` attribute holds the relative output error
    (see there), also logged at INFO on the "hypsst" logger. Returns the model (the new
    layer if ``model`` itself is one); device, dtype and training mode are kept.
    """
    if isinstance(keep, bool) or not isinstance(keep, (int, float)) or not 0 < keep <= 1:
        raise HypsstError(f"keep must be a fraction in (0, 1], got {keep!r}")

    def make(name: str, layer: nn.Module) -> nn.Module:
        W = layer.weight.detach()
        m, n = W.shape
        bias = layer.bias
        if keep == 1:
            new = nn.Linear(n, m, bias is not None, device=W.device, dtype=W.dtype)
            new.weight.copy_(W)
        else:
            q = max(1, math.ceil(keep * min(m, n)))
            U, S, Vh = torch.linalg.svd(W.to(torch.float64), full_matrices=False)
            root = S[:q].sqrt()
            new = LowRankLinear(n, m, q, bias is not None, device=W.device, dtype=W.dtype)
            new.down.weight.copy_(root[:, None] * Vh[:q])
            new.up.weight.copy_(U[:, :q] * root)
            total = float(S.square().sum())
            new.relative_error = math.sqrt(float(S[q:].square().sum()) / total) if total else 0.0
            log.info("merge: %s rank %d of %d, relative error %.3g", name or "<model>", q,
                     min(m, n), new.relative_error)
        if bias is not None:
            (new.up if keep != 1 else new).bias.copy_(bias)
        return new.train(layer.training)

    return replace_modules(model, lambda m: isinstance(m, (SSTLinear, LoRALinear)), make)
