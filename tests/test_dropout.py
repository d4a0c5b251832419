"""SparseAwareDropout: nn.Dropout's distribution and gradient, drawing only for nonzeros."""
import math

import torch
import torch.nn.functional as F

from hypsst.models.dropout import SparseAwareDropout


def sparse_features(n=400, d=300, density=0.02, seed=0):
    g = torch.Generator().manual_seed(seed)
    mask = torch.rand(n, d, generator=g) < density
    return torch.rand(n, d, generator=g, dtype=torch.float64).add(0.5) * mask


def test_sparse_input_keeps_a_binomial_share_of_nonzeros_scaled():
    x = sparse_features()
    drop = SparseAwareDropout(0.3).train()
    torch.manual_seed(0)
    y = drop(x)
    nz = x != 0
    assert torch.all(y[~nz] == 0)  # zeros stay zero
    kept = y[nz] != 0
    assert torch.allclose(y[nz][kept], x[nz][kept] / 0.7)  # kept entries scaled by 1/(1-p)
    n = int(nz.sum())
    share = float(kept.float().mean())  # Binomial(n, 0.7)/n: 5 standard deviations
    assert abs(share - 0.7) < 5 * math.sqrt(0.7 * 0.3 / n)
    # the mask changes from call to call and is fixed by the seed
    torch.manual_seed(0)
    assert torch.equal(drop(x), y) and not torch.equal(drop(x), y)


def test_gradient_is_the_mask_over_keep_probability_on_nonzeros():
    x = sparse_features().requires_grad_(True)
    drop = SparseAwareDropout(0.5).train()
    y = drop(x)
    g = torch.randn_like(y)
    (grad,) = torch.autograd.grad(y, x, g)
    kept = (y != 0).to(g.dtype)
    assert torch.allclose(grad, g * kept / 0.5)


def test_dense_small_and_eval_inputs_are_plain_dropout():
    drop = SparseAwareDropout(0.4)
    dense = torch.rand(400, 300) + 0.1
    small = sparse_features(20, 30).float()
    for x in (dense, small):
        torch.manual_seed(3)
        expected = F.dropout(x, 0.4, training=True)
        torch.manual_seed(3)
        assert torch.equal(drop.train()(x), expected)  # same draws as nn.Dropout
    x = sparse_features()
    assert drop.eval()(x) is x
    assert torch.equal(SparseAwareDropout(1.0).train()(x), torch.zeros_like(x))
