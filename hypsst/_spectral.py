r"""The SST linear map and its gradients, in two mathematically identical compute paths.

With ``U`` (m×k) and ``Vh`` (k×n) the full singular factors (active slots filled from the
trainable ``U_active``/``Vh_active``), the layer computes ``y = x Wᵀ + b`` with
``W = U diag(σ) Vh``. For a loss L and ``G = ∂L/∂W = gyᵀ x`` (gy = ∂L/∂y, rows = samples):

* ``∂L/∂σᵢ = uᵢᵀ G vᵢ``  — the true gradient, for all k singular values;
* active pair j (spectrum index i = active[j]):  ``G vᵢ`` for uᵢ and ``Gᵀ uᵢ`` for vᵢ —
  the *enhanced* gradient, i.e. the true one (``σᵢ G vᵢ``, ``σᵢ Gᵀ uᵢ``) without its σᵢ;
* ``∂L/∂x = gy W`` and ``∂L/∂b = Σ_rows gy``.

Dense path: assemble ``W`` once (m·k·n flops), then everything as for nn.Linear plus
``Uᵀ G`` (k·m·n), whose rows at ``active`` are the vᵢ gradients and whose row-wise dot with
``Vh`` gives diag(Uᵀ G V).

Factored path: never form W or G; go through the activations ``h = x Vhᵀ`` (N×k) and
``gy U`` (N×k): ``σ``-gradient = column sums of ``(gy U) ⊙ h``, uᵢ-gradient = ``gyᵀ h[:, i]``,
vᵢ-gradient = ``xᵀ (gy U)[:, i]``. Cheaper when N·k·(m+n) < m·n·N, e.g. thousands of
graph nodes against a 1433→16 matrix; the dense path wins for square transformer layers.
"""
from __future__ import annotations

import torch


def path_costs(rows: int, in_features: int, out_features: int, rank: int, *,
               backward: bool) -> tuple[int, int]:
    """Multiply-add counts (dense, factored) of one forward (+ backward if ``backward``).

    Dense:    forward m·k·n (assemble W) + N·m·n;  backward N·m·n (x-grad) + N·m·n (G)
              + k·m·n (Uᵀ G) + r·m·n (G Vh_activeᵀ).
    Factored: forward N·k·(n+m);  backward N·k·m (gy U) + N·k·n (x-grad) + N·r·(m+n).
    """
    n, m, N, r = in_features, out_features, rows, rank
    k = min(m, n)
    dense = m * k * n + N * m * n
    factored = N * k * (n + m)
    if backward:
        dense += 2 * N * m * n + k * m * n + r * m * n
        factored += N * k * (m + n) + N * r * (m + n)
    return dense, factored


def use_dense_path(rows, in_features, out_features, rank, *, backward: bool) -> bool:
    dense, factored = path_costs(rows, in_features, out_features, rank, backward=backward)
    return dense <= factored


class SSTLinearFunction(torch.autograd.Function):
    """``y = x (U diag(σ) Vh)ᵀ + b`` for 2-D ``x``; see the module docstring for gradients."""

    @staticmethod
    def forward(ctx, x, sigma, U_active, Vh_active, U_all, Vh_all, active, bias,
                dense: bool, enhanced: bool):
        U = U_all.index_copy(1, active, U_active)
        Vh = Vh_all.index_copy(0, active, Vh_active)
        if dense:
            W = (U * sigma) @ Vh
            y = torch.nn.functional.linear(x, W, bias)
            ctx.save_for_backward(x, sigma, U, Vh, W, active)
        else:
            h = x @ Vh.T
            hs = h * sigma
            y = hs @ U.T if bias is None else torch.addmm(bias, hs, U.T)
            ctx.save_for_backward(x, sigma, U, Vh, h, active)
        ctx.dense, ctx.enhanced, ctx.has_bias = dense, enhanced, bias is not None
        return y

    @staticmethod
    def backward(ctx, gy):
        x, sigma, U, Vh, saved, active = ctx.saved_tensors
        need_x, need_sigma, need_u, need_vh = ctx.needs_input_grad[:4]
        gx = gsigma = gU = gVh = gb = None
        if ctx.dense:
            W = saved
            if need_x:
                gx = gy @ W
            if need_sigma or need_u or need_vh:
                G = gy.T @ x                                   # (m, n)
                UtG = U.T @ G                                  # (k, n)
                gsigma = (UtG * Vh).sum(1) if need_sigma else None
                gU = G @ Vh[active].T if need_u else None      # G vᵢ      (m, r)
                gVh = UtG[active] if need_vh else None         # (Gᵀ uᵢ)ᵀ  (r, n)
        else:
            h = saved
            gyU = gy @ U                                       # (N, k)
            if need_x:
                gx = (gyU * sigma) @ Vh
            gsigma = (gyU * h).sum(0) if need_sigma else None
            gU = gy.T @ h[:, active] if need_u else None       # gyᵀ x vᵢ = G vᵢ
            gVh = gyU[:, active].T @ x if need_vh else None    # uᵢᵀ gyᵀ x = (Gᵀ uᵢ)ᵀ
        if not ctx.enhanced:
            s = sigma[active]
            gU = None if gU is None else gU * s
            gVh = None if gVh is None else gVh * s[:, None]
        if ctx.has_bias and ctx.needs_input_grad[7]:
            gb = gy.sum(0)
        return gx, gsigma, gU, gVh, None, None, None, gb, None, None
