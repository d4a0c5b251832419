"""Optimizers whose ``step()`` also runs the SST / ReLoRA* bookkeeping.

``make_optimizer(model, lr, ...)`` returns a subclass of geoopt's ``RiemannianAdam``
(default), torch's ``Adam`` or geoopt's ``RiemannianSGD`` that, after the ordinary update,
calls ``after_step(optimizer)`` of every SST / ReLoRA* layer of the model (clamp σ,
renormalise, resample, re-SVD, merge, reset optimizer state slots) and runs the LR warm-up
they ask for. A training loop needs no other call:
``opt.zero_grad(); loss.backward(); opt.step()``.

LR warm-up: when a layer resamples / merges it returns a warm-up length W; the next W
steps use ``lr = base_lr · j / W`` (j = 1..W), the last one ``base_lr`` again. ``base_lr``
is the group's lr when the warm-up starts (so an outer LR schedule keeps working between
warm-ups). Each param group stores ``base_lr``, ``warmup_total`` and ``warmup_done``, so
``state_dict()``/``load_state_dict()`` restores the warm-up exactly.
"""
from __future__ import annotations

import geoopt
import torch
from torch import nn

from .errors import HypsstError
from .sst import SSTLinear

OPTIMIZERS = ("radam", "adam", "rsgd")


class _Bookkeeping:
    """Mixin placed before a torch optimizer class."""

    _int_step = False  # True where the base class counts steps with Python ints (geoopt)

    def __init__(self, params, *, layers=(), **kwargs):
        super().__init__(params, **kwargs)
        self.layers = list(layers)

    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        _warmup_defaults(self.param_groups[-1])

    def step(self, closure=None):
        for group in self.param_groups:
            if group["warmup_done"] < group["warmup_total"]:
                group["warmup_done"] += 1
                group["lr"] = group["base_lr"] * group["warmup_done"] / group["warmup_total"]
        loss = super().step(closure)
        restart = max([layer.after_step(self) for layer in self.layers], default=0)
        if restart:
            for group in self.param_groups:
                if group["warmup_done"] >= group["warmup_total"]:  # not mid-warm-up
                    group["base_lr"] = group["lr"]
                group["warmup_total"], group["warmup_done"] = restart, 0
        return loss

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        for group in self.param_groups:  # a checkpoint of a plain optimizer lacks them
            _warmup_defaults(group)
        if self._int_step:
            # torch's loader turns step counters into tensors; geoopt counts with Python
            # ints, and a float32 tensor step changes its bias correction's rounding
            for state in self.state.values():
                if torch.is_tensor(state.get("step")):
                    state["step"] = int(state["step"].item())


def _warmup_defaults(group: dict) -> None:
    group.setdefault("base_lr", group["lr"])
    group.setdefault("warmup_total", 0)
    group.setdefault("warmup_done", 0)


class _HyboNetRiemannianAdam(geoopt.optim.RiemannianAdam):
    """geoopt's RiemannianAdam with HyboNet's weight decay: decoupled on Euclidean
    parameters, p <- p - lr·(adam_direction + wd·p), and the L2 term added to the gradient
    (geoopt's rule) only on manifold parameters.

    geoopt adds wd·p to every gradient before Adam's normalisation, which makes the decay
    of weights with small loss gradients (most of HyboNet's input weights on sparse
    bag-of-words features) a step of about lr per step instead of lr·wd·|p|: on LP cora
    (preset wd 1e-3, hgcn split, seed 1234) test ROC-AUC 0.911 coupled vs 0.951 decoupled.
    Euclidean retraction is p + u, so shrinking p before geoopt's step is exactly that update.
    """

    def step(self, closure=None):
        saved = [group["weight_decay"] for group in self.param_groups]
        with torch.no_grad():
            for group in self.param_groups:
                wd = group["weight_decay"]
                if not wd:
                    continue
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if _is_manifold_param(p):
                        p.grad.add_(p, alpha=wd)
                    else:
                        p.mul_(1.0 - group["lr"] * wd)
                group["weight_decay"] = 0.0
        try:
            return super().step(closure)
        finally:
            for group, wd in zip(self.param_groups, saved):
                group["weight_decay"] = wd


class RiemannianAdam(_Bookkeeping, _HyboNetRiemannianAdam):
    """geoopt's RiemannianAdam with HyboNet's decoupled weight decay on Euclidean
    parameters + SST / ReLoRA* bookkeeping (see module docstring)."""

    _int_step = True


class Adam(_Bookkeeping, torch.optim.Adam):
    """torch's Adam + SST / ReLoRA* bookkeeping (Euclidean parameters only)."""


class RiemannianSGD(_Bookkeeping, geoopt.optim.RiemannianSGD):
    """geoopt's RiemannianSGD + SST / ReLoRA* bookkeeping."""

    _int_step = True


_CLASSES = {"radam": RiemannianAdam, "adam": Adam, "rsgd": RiemannianSGD}


def make_optimizer(model: nn.Module, lr: float, weight_decay: float = 0.0, *,
                   optimizer: str = "radam", **kwargs) -> torch.optim.Optimizer:
    """Optimizer over ``model``'s trainable parameters with the method's bookkeeping.

    * ``optimizer``: "radam" (geoopt RiemannianAdam: manifold and Euclidean parameters in
      one optimizer; the safe default; weight decay as HyboNet's own RiemannianAdam:
      decoupled, p -= lr·wd·p, on Euclidean parameters, L2 on manifold ones), "adam" (torch.optim.Adam; refuses models with
      non-Euclidean ``geoopt.ManifoldParameter``s, whose updates must stay on their
      manifold), "rsgd" (geoopt RiemannianSGD; pass e.g. ``momentum=0.9``).
    * Param groups: ``weight_decay`` on weights (incl. SST's active vectors and LoRA's A,
      B); none on biases, scales (HyboNet's ``log_scale``, ``att_scale``, ``att_bias``),
      SST singular values, ``ManifoldParameter``s and parameters
      of geoopt manifolds (e.g. a learnable curvature). Empty groups are left out.
    * ``kwargs`` go to the optimizer class (betas, eps, momentum, stabilize, ...).
    """
    if optimizer not in _CLASSES:
        raise HypsstError(f"unknown optimizer {optimizer!r}; allowed: {', '.join(OPTIMIZERS)}")
    decay, no_decay = _split_params(model)
    if optimizer == "adam":
        on_manifold = [p for p in decay + no_decay if _is_manifold_param(p)
                       and not isinstance(p.manifold, geoopt.Euclidean)]
        if on_manifold:
            raise HypsstError(f"optimizer 'adam' cannot keep {len(on_manifold)} manifold "
                              "parameter(s) on their manifold; use 'radam' or 'rsgd'")
    groups = [g for g in ({"params": decay, "weight_decay": weight_decay},
                          {"params": no_decay, "weight_decay": 0.0}) if g["params"]]
    if not groups:
        raise HypsstError("the model has no trainable parameters")
    layers = [m for m in model.modules() if callable(getattr(m, "after_step", None))]
    return _CLASSES[optimizer](groups, lr=lr, layers=layers, **kwargs)


def _is_manifold_param(p) -> bool:
    return isinstance(p, (geoopt.ManifoldParameter, geoopt.ManifoldTensor))


def _no_decay_name(leaf: str) -> bool:
    """Biases and scales: HyboNet's optimizer exempts every parameter whose name contains
    'bias' or 'scale' — LorentzLinear's log time-scale (init log 10) and the Lorentz
    attention's scale and bias. Decaying log_scale pulls the time cap exp(s) from 10
    towards 1, i.e. bounds how far from the origin a layer can map its points."""
    return leaf == "bias" or leaf.endswith("_bias") or leaf.endswith("scale")


def _split_params(model: nn.Module):
    exempt = set()
    for module in model.modules():
        if isinstance(module, geoopt.manifolds.Manifold):
            exempt.update(id(p) for p in module.parameters())
        if isinstance(module, SSTLinear):
            exempt.add(id(module.sigma))
    decay, no_decay = [], []
    for name, p in model.named_parameters():  # shared parameters are listed once
        if not p.requires_grad:
            continue
        if _no_decay_name(name.rsplit(".", 1)[-1]) or _is_manifold_param(p) or id(p) in exempt:
            no_decay.append(p)
        else:
            decay.append(p)
    return decay, no_decay
