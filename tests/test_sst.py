"""SSTLinear: function preservation, gradients vs closed forms, the two compute paths,
invariants of the bookkeeping, sampling, state_dict round trips and errors."""
import io

import numpy as np
import pytest
import torch
from torch import nn

from hypsst import SSTLinear
from hypsst._spectral import path_costs, use_dense_path
from hypsst.errors import HypsstError

D = torch.float64


def _layer(n=9, m=7, r=3, path="auto", enhanced=True, seed=0, bias=True, **kw):
    torch.manual_seed(seed)
    lin = nn.Linear(n, m, bias=bias, dtype=D)
    return lin, SSTLinear.from_linear(lin, r, compute_path=path, enhanced_grad=enhanced,
                                      seed=seed, **kw)


@pytest.mark.parametrize("dtype,tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
@pytest.mark.parametrize("path", ["dense", "factored"])
def test_from_linear_preserves_outputs(dtype, tol, path):
    torch.manual_seed(1)
    lin = nn.Linear(12, 5, dtype=dtype)
    sst = SSTLinear.from_linear(lin, 2, compute_path=path)
    x = torch.randn(4, 3, 12, dtype=dtype)
    assert sst(x).shape == (4, 3, 5) and sst(x).dtype == dtype
    torch.testing.assert_close(sst(x), lin(x), atol=tol, rtol=tol)
    torch.testing.assert_close(sst.weight, lin.weight, atol=tol, rtol=tol)


def test_constructor_initialises_like_linear_and_factorises():
    torch.manual_seed(3)
    ref = nn.Linear(10, 6)
    torch.manual_seed(3)
    sst = SSTLinear(10, 6, 2)
    torch.testing.assert_close(sst.weight, ref.weight, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(sst.bias, ref.bias)
    # only σ, the active pairs and the bias are parameters; the rest are buffers
    names = {n for n, _ in sst.named_parameters()}
    assert names == {"sigma", "U_active", "Vh_active", "bias"}
    assert sst.U_active.shape == (6, 2) and sst.Vh_active.shape == (2, 10)
    assert not sst.U_all.requires_grad and sst.sigma.shape == (6,)
    torch.testing.assert_close(sst.U[:, sst.active], sst.U_active)
    torch.testing.assert_close(sst.Vh[sst.active], sst.Vh_active)


def _dense_grads(lin_weight, bias, x, gy):
    """G = ∂L/∂W of the equivalent dense layer for L = Σ y ⊙ gy."""
    W = lin_weight.detach().clone().requires_grad_(True)
    y = nn.functional.linear(x.detach(), W, bias.detach())
    (y * gy).sum().backward()
    return W.grad


@pytest.mark.parametrize("path", ["dense", "factored"])
@pytest.mark.parametrize("enhanced", [True, False])
def test_gradients_match_closed_forms(path, enhanced):
    lin, sst = _layer(path=path, enhanced=enhanced)
    x = torch.randn(2, 11, 9, dtype=D, requires_grad=True)
    gy = torch.randn(2, 11, 7, dtype=D)
    (sst(x) * gy).sum().backward()
    G = _dense_grads(sst.weight, sst.bias, x, gy)
    U, Vh, s, a = sst.U.detach(), sst.Vh.detach(), sst.sigma.detach(), sst.active
    torch.testing.assert_close(sst.sigma.grad, torch.diagonal(U.T @ G @ Vh.T))
    scale = torch.ones_like(s[a]) if enhanced else s[a]
    torch.testing.assert_close(sst.U_active.grad, (G @ Vh[a].T) * scale)       # G vᵢ (σᵢ)
    torch.testing.assert_close(sst.Vh_active.grad, (U[:, a].T @ G) * scale[:, None])
    torch.testing.assert_close(sst.bias.grad, gy.sum((0, 1)))
    torch.testing.assert_close(x.grad, gy @ sst.weight.detach())


def test_enhanced_off_equals_autograd_of_the_factorisation():
    _, sst = _layer(enhanced=False)
    x = torch.randn(13, 9, dtype=D)
    gy = torch.randn(13, 7, dtype=D)
    (sst(x) * gy).sum().backward()
    got = [p.grad.clone() for p in (sst.sigma, sst.U_active, sst.Vh_active)]
    for p in sst.parameters():
        p.grad = None
    # plain autograd through W = U diag(σ) Vh with U, Vh assembled from the parameters
    (nn.functional.linear(x, sst.weight, sst.bias) * gy).sum().backward()
    for g, p in zip(got, (sst.sigma, sst.U_active, sst.Vh_active)):
        torch.testing.assert_close(g, p.grad)


@pytest.mark.parametrize("enhanced", [True, False])
def test_dense_and_factored_paths_agree(enhanced):
    grads, outs = [], []
    x0 = torch.randn(3, 17, 9, dtype=D)
    gy = torch.randn(3, 17, 7, dtype=D)
    for path in ("dense", "factored"):
        _, sst = _layer(path=path, enhanced=enhanced)
        x = x0.clone().requires_grad_(True)
        y = sst(x)
        (y * gy).sum().backward()
        outs.append(y.detach())
        grads.append([x.grad] + [p.grad for p in sst.parameters()])
    torch.testing.assert_close(outs[0], outs[1], atol=1e-13, rtol=1e-12)
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-11)


def test_paths_agree_in_float32():
    torch.manual_seed(2)
    lin = nn.Linear(40, 6)
    x = torch.randn(50, 40, requires_grad=True)
    grads = []
    for path in ("dense", "factored"):
        sst = SSTLinear.from_linear(lin, 2, compute_path=path)
        x.grad = None
        sst(x).square().sum().backward()
        grads.append([x.grad.clone()] + [p.grad for p in sst.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_no_grad_evaluation_and_no_bias():
    lin, sst = _layer(bias=False)
    x = torch.randn(5, 9, dtype=D)
    with torch.no_grad():
        y = sst(x)
    assert not y.requires_grad
    torch.testing.assert_close(y, lin(x).detach())


def test_cost_model_picks_factored_for_graph_and_dense_for_transformer_shapes():
    assert not use_dense_path(2708, 1433, 16, 2, backward=True)
    assert use_dense_path(4096, 512, 512, 64, backward=True)
    dense, factored = path_costs(10, 4, 3, 1, backward=False)
    assert (dense, factored) == (3 * 3 * 4 + 10 * 3 * 4, 10 * 3 * 7)


def _train(sst, steps, lr=0.05, x=None):
    from hypsst import make_optimizer
    opt = make_optimizer(sst, lr)
    x = torch.randn(32, sst.in_features, dtype=sst.sigma.dtype) if x is None else x
    target = torch.randn(32, sst.out_features, dtype=sst.sigma.dtype)
    for _ in range(steps):
        opt.zero_grad()
        (sst(x) - target).square().mean().backward()
        opt.step()
    return opt


def test_invariants_after_steps_without_resample():
    _, sst = _layer(n=10, m=8, r=3, steps_per_iteration=100)
    frozen = [i for i in range(8) if i not in sst.active.tolist()]
    U0, Vh0 = sst.U_all.clone(), sst.Vh_all.clone()
    active0 = sst.active.clone()
    _train(sst, 7, lr=0.3)
    assert torch.equal(sst.active, active0)
    assert (sst.sigma >= 0).all()
    torch.testing.assert_close(sst.U_active.norm(dim=0), torch.ones(3, dtype=D))
    torch.testing.assert_close(sst.Vh_active.norm(dim=1), torch.ones(3, dtype=D))
    assert torch.equal(sst.U[:, frozen], U0[:, frozen])
    assert torch.equal(sst.Vh[frozen], Vh0[frozen])
    assert not torch.allclose(sst.U_active, U0[:, active0])  # the active ones did move


def test_resample_writes_back_and_resvd_preserves_weight():
    _, sst = _layer(n=10, m=8, r=3, steps_per_iteration=4, iterations_per_round=2,
                    warmup_steps=0)
    _train(sst, 3, lr=0.1)
    old_active = sst.active.clone()
    U_act, Vh_act = sst.U_active.detach().clone(), sst.Vh_active.detach().clone()
    W_before = sst.weight.detach().clone()
    sst.after_step(None)  # step 4: resample (iteration 1, no re-SVD)
    torch.testing.assert_close(sst.U_all[:, old_active], U_act)  # written back
    torch.testing.assert_close(sst.Vh_all[old_active], Vh_act)
    assert torch.equal(sst.U_all[:, sst.active], sst.U_active.detach())  # loaded
    assert torch.equal(sst.Vh_all[sst.active], sst.Vh_active.detach())
    torch.testing.assert_close(sst.weight, W_before, atol=1e-12, rtol=0)
    # re-SVD: same W, orthonormal factors, sorted σ
    _train(sst, 3, lr=0.1)
    W = sst.weight.detach().clone()
    sst.after_step(None)  # step 8 = iteration 2 -> re-SVD
    torch.testing.assert_close(sst.weight, W, atol=1e-12, rtol=0)
    eye = torch.eye(8, dtype=D)
    torch.testing.assert_close(sst.U.T @ sst.U, eye)
    torch.testing.assert_close(sst.Vh @ sst.Vh.T, eye)
    assert (sst.sigma[:-1] >= sst.sigma[1:]).all()


def test_active_indices_distinct_and_frequencies_follow_p():
    torch.manual_seed(0)
    sst = SSTLinear(6, 6, 1, seed=5)
    with torch.no_grad():
        sst.sigma.copy_(torch.tensor([4.0, 2.0, 1.0, 1.0, 0.5, 0.5]))
    p = sst.probabilities().numpy()
    n = 6000
    counts = np.bincount([int(sst.draw_active()) for _ in range(n)], minlength=6)
    chi2 = float(((counts - n * p) ** 2 / (n * p)).sum())
    assert chi2 < 20.5  # 99.9 % quantile of chi-square with 5 degrees of freedom
    sst.uniform_mix = 1.0
    counts = np.bincount([int(sst.draw_active()) for _ in range(n)], minlength=6)
    chi2 = float(((counts - n / 6) ** 2 / (n / 6)).sum())
    assert chi2 < 20.5
    # r > 1: distinct indices, inclusion rates as successive sampling ∝ p (numpy's choice)
    sst4 = SSTLinear(8, 8, 3, seed=1)
    with torch.no_grad():
        sst4.sigma.copy_(torch.tensor([5.0, 3, 2, 1, 1, 0.5, 0.5, 0]))
    draws = [sst4.draw_active().tolist() for _ in range(3000)]
    assert all(len(set(d)) == 3 for d in draws)
    assert not any(7 in d for d in draws)  # σ = 0 is never drawn while enough σ > 0
    torch_rate = np.bincount(np.ravel(draws), minlength=8) / 3000
    rng = np.random.default_rng(0)
    pr = sst4.probabilities().numpy()
    ref = np.ravel([rng.choice(8, 3, replace=False, p=pr / pr.sum()) for _ in range(3000)])
    np.testing.assert_allclose(torch_rate, np.bincount(ref, minlength=8) / 3000, atol=0.05)


def test_state_dict_round_trip_includes_active_and_generator():
    _, a = _layer(n=10, m=8, r=2, seed=4, steps_per_iteration=2)
    _train(a, 5)
    buf = io.BytesIO()
    torch.save(a.state_dict(), buf)
    buf.seek(0)
    _, b = _layer(n=10, m=8, r=2, seed=99, steps_per_iteration=2)
    b.load_state_dict(torch.load(buf))
    assert torch.equal(a.active, b.active) and int(a.step_count) == int(b.step_count)
    x = torch.randn(4, 10, dtype=D)
    torch.testing.assert_close(a(x), b(x), atol=0, rtol=0)
    # same generator state: the next draws agree
    assert [a.draw_active().tolist() for _ in range(5)] == [b.draw_active().tolist()
                                                            for _ in range(5)]


@pytest.mark.parametrize("rank", [0, -1, 6, 2.0, True])
def test_bad_rank(rank):
    with pytest.raises(ValueError, match=r"rank must be an integer from 1 to .* = 5"):
        SSTLinear(7, 5, rank)
    with pytest.raises(ValueError, match="rank"):
        SSTLinear.from_linear(nn.Linear(5, 7), rank)


def test_bad_module_and_weight():
    with pytest.raises(ValueError, match="needs a torch.nn.Linear, got Conv1d"):
        SSTLinear.from_linear(nn.Conv1d(3, 4, 1), 1)
    lin = nn.Linear(4, 3)
    lin.weight = nn.Parameter(torch.randn(3, 4, 1))
    with pytest.raises(ValueError, match=r"weight must be 2-D .* got shape \(3, 4, 1\)"):
        SSTLinear.from_linear(lin, 1)
    with pytest.raises(HypsstError, match="steps_per_iteration"):
        SSTLinear(4, 3, 1, steps_per_iteration=0)
