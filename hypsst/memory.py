"""Memory accounting of a model and its optimizer (what SST saves over full-rank)."""
from __future__ import annotations

import torch
from torch import nn


def memory_report(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> dict:
    """Counts and bytes of what training ``model`` with ``optimizer`` stores.

    * ``trainable_params``: numbers in parameters with ``requires_grad``.
    * ``frozen_params``: numbers stored but not trained: frozen parameters plus
      floating-point buffers (SST's stored factors ``U_all``/``Vh_all`` — k(m+n), their
      active slots being refreshed copies —, LoRA's W₀, norm statistics).
    * ``param_bytes``: bytes of all parameters and floating-point buffers.
    * ``grad_bytes``: bytes of the gradients backward allocates (one per trainable number).
    * ``optimizer_state_bytes``: bytes of every tensor in ``optimizer.state``, measured (so
      0 before the first step). RiemannianAdam: exp_avg + exp_avg_sq, its step counter is a
      Python int (0 bytes); torch Adam adds a float32 scalar ``step`` tensor (4 bytes) per
      parameter. An SST layer with bias under RiemannianAdam holds exactly
      2·(r(m+n) + k + m)·itemsize.
    """
    params = list(model.parameters())  # unique
    buffers = [b for b in model.buffers() if b.is_floating_point()]
    trainable = [p for p in params if p.requires_grad]
    state_bytes = 0
    if optimizer is not None:
        for state in optimizer.state.values():
            state_bytes += sum(v.numel() * v.element_size() for v in state.values()
                               if torch.is_tensor(v))
    return {
        "trainable_params": sum(p.numel() for p in trainable),
        "frozen_params": sum(p.numel() for p in params if not p.requires_grad)
        + sum(b.numel() for b in buffers),
        "param_bytes": sum(t.numel() * t.element_size() for t in params + buffers),
        "grad_bytes": sum(p.numel() * p.element_size() for p in trainable),
        "optimizer_state_bytes": state_bytes,
    }
