r"""Sparse Spectral Training (SST) linear layer.

A weight ``W`` (m × n) is kept as its SVD, ``W = U diag(σ) Vh`` with k = min(m, n)
triplets. All k singular values σ train every step with their true gradient
``∂L/∂σᵢ = uᵢᵀ G vᵢ`` (G = ∂L/∂W). Only r singular-vector pairs — the *active* ones — are
``nn.Parameter``s; the other k − r pairs are frozen buffers without gradient or optimizer
state. Active vectors get the enhanced gradient ``G vᵢ`` / ``Gᵀ uᵢ`` (no σᵢ factor).

Bookkeeping (:meth:`SSTLinear.after_step`, run by the optimizers of
:func:`hypsst.make_optimizer` after every step):

* every step: ``σ ← max(σ, 0)``; active uᵢ, vᵢ renormalised to unit length;
* every ``steps_per_iteration`` steps (T3): write the active vectors back, draw r distinct
  indices with ``pᵢ = (1 − β) σᵢ / Σσ + β / k`` (β = ``uniform_mix``), load them, zero
  their optimizer state, restart an LR warm-up of ``warmup_steps`` steps;
* every ``iterations_per_round`` iterations (T2), before drawing: re-SVD
  ``U diag(σ) Vh`` (same W, orthonormal factors again) and reset σ's optimizer state.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ._layers import (SeededModule, check_linear, check_rank, check_weight,
                      init_like_linear, reset_optimizer_state)
from .errors import HypsstError
from ._spectral import SSTLinearFunction, use_dense_path


@dataclass(frozen=True)
class SSTConfig:
    """The one place holding the schedule defaults of SST and ReLoRA*.

    Provisional values, from the prototype evidence in DESIGN.md (HGCN, Cora LP, r = 2 of
    16): T3 = 5 hurt, T3 = 100 was worse than the middle, a 5-step warm-up helped, β = 0.5
    was worse than β = 0. A recorded sweep (benchmarks/results) replaces them here.
    ``iterations_per_round=None`` means ceil(k / r): one expected pass over the spectrum.
    """

    steps_per_iteration: int = 20
    iterations_per_round: int | None = None
    warmup_steps: int = 5
    uniform_mix: float = 0.0


DEFAULTS = SSTConfig()


def check_schedule(steps_per_iteration, iterations_per_round, warmup_steps, uniform_mix=0.0):
    """Validate schedule options (shared with ReLoRA*)."""

    def positive_int(value, name, allow_none=False, allow_zero=False):
        if value is None and allow_none:
            return
        low = 0 if allow_zero else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise HypsstError(f"{name} must be an integer >= {low}"
                              f"{' or None' if allow_none else ''}, got {value!r}")

    positive_int(steps_per_iteration, "steps_per_iteration")
    positive_int(iterations_per_round, "iterations_per_round", allow_none=True)
    positive_int(warmup_steps, "warmup_steps", allow_zero=True)
    if not 0.0 <= float(uniform_mix) <= 1.0:
        raise HypsstError(f"uniform_mix must be in [0, 1], got {uniform_mix!r}")


class SSTLinear(SeededModule):
    """Drop-in replacement for ``nn.Linear`` trained with Sparse Spectral Training.

    Args:
        in_features, out_features, bias: as ``nn.Linear`` (initialised like it, then
            factorised by SVD).
        rank: r, the number of active singular-vector pairs, 1 ≤ r ≤ min(in, out).
        steps_per_iteration: T3, optimizer steps between resamples.
        iterations_per_round: T2, resamples between re-SVDs (None: ceil(k / r)).
        warmup_steps: length of the linear LR warm-up after each resample (0: none).
        uniform_mix: β in pᵢ = (1 − β) σᵢ/Σσ + β/k.
        enhanced_grad: True gives active vectors ``G vᵢ`` / ``Gᵀ uᵢ``; False autograd's
            true gradient ``σᵢ G vᵢ`` / ``σᵢ Gᵀ uᵢ``.
        seed: seeds the layer's own sampling generator (saved in ``state_dict()``).
        compute_path: "auto" (cost model), "dense" or "factored"; all give the same
            values (see :mod:`hypsst._spectral`).

    Attributes: ``weight`` (computed dense W), ``sigma`` (Parameter, k), ``U`` (m×k) and
    ``Vh`` (k×n) assembled factors, ``active`` (LongTensor r), ``U_active`` (Parameter m×r),
    ``Vh_active`` (Parameter r×n), ``bias``. ``U_all``/``Vh_all`` are the stored factors
    (buffers; their active slots are refreshed on every resample); ``step_count`` counts
    optimizer steps. ``state_dict()`` holds all of it plus the generator state.

    Code that reads ``.weight`` instead of calling the layer (e.g. the ``out_proj`` of
    ``nn.MultiheadAttention``) still trains, but through autograd's true gradient.
    """

    def __init__(self, in_features: int, out_features: int, rank: int, bias: bool = True, *,
                 steps_per_iteration: int = DEFAULTS.steps_per_iteration,
                 iterations_per_round: int | None = DEFAULTS.iterations_per_round,
                 warmup_steps: int = DEFAULTS.warmup_steps,
                 uniform_mix: float = DEFAULTS.uniform_mix,
                 enhanced_grad: bool = True, seed: int = 0, compute_path: str = "auto",
                 device=None, dtype=None, _weight=None, _bias=None):
        super().__init__()
        check_rank(rank, in_features, out_features, type(self).__name__)
        check_schedule(steps_per_iteration, iterations_per_round, warmup_steps, uniform_mix)
        if compute_path not in ("auto", "dense", "factored"):
            raise HypsstError(f"compute_path must be 'auto', 'dense' or 'factored', "
                             f"got {compute_path!r}")
        if _weight is None:
            _weight, _bias = init_like_linear(out_features, in_features, bias, device, dtype)
        check_weight(_weight, type(self).__name__)
        self.in_features, self.out_features, self.rank = in_features, out_features, rank
        k = min(in_features, out_features)
        self.steps_per_iteration = steps_per_iteration
        self.iterations_per_round = (math.ceil(k / rank) if iterations_per_round is None
                                     else iterations_per_round)
        self.warmup_steps = warmup_steps
        self.uniform_mix = float(uniform_mix)
        self.enhanced_grad = enhanced_grad
        self.compute_path = compute_path
        self._init_generator(seed)

        U, S, Vh = _svd(_weight.detach())
        self.sigma = nn.Parameter(S)
        self.register_buffer("U_all", U)
        self.register_buffer("Vh_all", Vh)
        self.U_active = nn.Parameter(U.new_empty(out_features, rank))
        self.Vh_active = nn.Parameter(U.new_empty(rank, in_features))
        self.register_buffer("active", torch.zeros(rank, dtype=torch.long, device=U.device))
        if _bias is not None:
            self.bias = nn.Parameter(_bias.detach().clone())
        else:
            self.register_parameter("bias", None)
        self._load_active(self.draw_active())

    @classmethod
    def from_linear(cls, linear: nn.Linear, rank: int, **kwargs) -> "SSTLinear":
        """The SST layer computing the same function as ``linear`` (its SVD)."""
        check_linear(linear, cls.__name__)
        w = linear.weight
        return cls(linear.in_features, linear.out_features, rank, linear.bias is not None,
                   device=w.device, dtype=w.dtype, _weight=w, _bias=linear.bias, **kwargs)

    # ---- the map ---------------------------------------------------------------------
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-1]
        x2 = x.reshape(-1, self.in_features)
        if self.compute_path == "auto":
            backward = torch.is_grad_enabled() and (x.requires_grad or self.sigma.requires_grad)
            dense = use_dense_path(x2.shape[0], self.in_features, self.out_features,
                                   self.rank, backward=backward)
        else:
            dense = self.compute_path == "dense"
        y = SSTLinearFunction.apply(x2, self.sigma, self.U_active, self.Vh_active,
                                    self.U_all, self.Vh_all, self.active, self.bias,
                                    dense, self.enhanced_grad)
        return y.reshape(*lead, self.out_features)

    @property
    def U(self) -> torch.Tensor:
        return self.U_all.index_copy(1, self.active, self.U_active)

    @property
    def Vh(self) -> torch.Tensor:
        return self.Vh_all.index_copy(0, self.active, self.Vh_active)

    @property
    def weight(self) -> torch.Tensor:
        """Dense ``U diag(σ) Vh`` (computed; differentiable through autograd's true
        gradient, for code that reads ``.weight`` instead of calling the layer)."""
        return (self.U * self.sigma) @ self.Vh

    # ---- bookkeeping -----------------------------------------------------------------
    def probabilities(self) -> torch.Tensor:
        """pᵢ = (1 − β) σᵢ/Σσ + β/k in float64 on the CPU (uniform if all σ are 0)."""
        s = self.sigma.detach().to("cpu", torch.float64).clamp_min(0)
        k = s.numel()
        total = s.sum()
        p = s / total if total > 0 else torch.full_like(s, 1.0 / k)
        return (1.0 - self.uniform_mix) * p + self.uniform_mix / k

    def draw_active(self) -> torch.Tensor:
        """Draw r distinct spectrum indices (successive sampling ∝ pᵢ) with the layer's
        generator. Zero-probability indices are only taken when fewer than r have p > 0."""
        p = self.probabilities().clamp_min(1e-300)
        idx = torch.multinomial(p, self.rank, replacement=False, generator=self.generator)
        return idx.to(self.active.device)

    @torch.no_grad()
    def _load_active(self, idx: torch.Tensor) -> None:
        self.active.copy_(idx)
        self.U_active.copy_(self.U_all[:, idx])
        self.Vh_active.copy_(self.Vh_all[idx])

    @torch.no_grad()
    def write_back(self) -> None:
        """Copy the active vectors into ``U_all``/``Vh_all``."""
        self.U_all[:, self.active] = self.U_active
        self.Vh_all[self.active] = self.Vh_active

    @torch.no_grad()
    def resvd(self) -> None:
        """Replace the factors by the SVD of the current W (W unchanged up to rounding)."""
        self.write_back()
        U, S, Vh = _svd((self.U_all * self.sigma) @ self.Vh_all)
        self.U_all.copy_(U)
        self.Vh_all.copy_(Vh)
        self.sigma.copy_(S)
        self._load_active(self.active)

    @torch.no_grad()
    def after_step(self, optimizer=None) -> int:
        """Per-step bookkeeping; returns the LR warm-up length to restart (0 for none).

        Called by :func:`hypsst.make_optimizer`'s optimizers after each ``step()``; call
        it yourself after ``optimizer.step()`` when using another optimizer."""
        self.sigma.clamp_(min=0)
        self.U_active.div_(self.U_active.norm(dim=0, keepdim=True).clamp_min(1e-12))
        self.Vh_active.div_(self.Vh_active.norm(dim=1, keepdim=True).clamp_min(1e-12))
        self.step_count += 1
        step = self.step_count
        if step % self.steps_per_iteration:
            return 0
        self.write_back()
        if (step // self.steps_per_iteration) % self.iterations_per_round == 0:
            self.resvd()
            reset_optimizer_state(optimizer, [self.sigma])
        self._load_active(self.draw_active())
        reset_optimizer_state(optimizer, [self.U_active, self.Vh_active])
        return self.warmup_steps

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"rank={self.rank}, bias={self.bias is not None}, "
                f"steps_per_iteration={self.steps_per_iteration}, "
                f"iterations_per_round={self.iterations_per_round}, "
                f"warmup_steps={self.warmup_steps}, uniform_mix={self.uniform_mix}, "
                f"enhanced_grad={self.enhanced_grad}")


def _svd(W: torch.Tensor):
    """Thin SVD computed in float64 (accurate factors for float32 layers), cast back."""
    U, S, Vh = torch.linalg.svd(W.to(torch.float64), full_matrices=False)
    return U.to(W.dtype), S.to(W.dtype), Vh.to(W.dtype)
