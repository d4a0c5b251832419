"""make_optimizer: parameter groups, bookkeeping inside step(), LR warm-up, optimizer-state
resets, and exact resume from state_dicts across resamples, re-SVDs and ReLoRA* merges."""
import io

import geoopt
import pytest
import torch
from torch import nn

import hypsst


def _model(method, seed=0, **kw):
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(6, 10), nn.Tanh(), nn.Linear(10, 3))
    return hypsst.convert(model, method, 2, seed=seed, **kw)


def _batches(n, seed=1):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(16, 6, generator=g), torch.randn(16, 3, generator=g))
            for _ in range(n)]


def _run(model, opt, batches):
    for x, y in batches:
        opt.zero_grad()
        (model(x) - y).square().mean().backward()
        opt.step()


def test_param_groups_exempt_bias_sigma_and_manifold_params():
    model = _model("sst")
    model.ball = geoopt.PoincareBall(learnable=True)
    model.emb = geoopt.ManifoldParameter(torch.zeros(4, 2), manifold=model.ball)
    opt = hypsst.make_optimizer(model, 0.01, weight_decay=0.1)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    ids = lambda ps: {id(p) for p in ps}  # noqa: E731
    assert ids(decay["params"]) == ids([model[0].U_active, model[0].Vh_active,
                                        model[2].U_active, model[2].Vh_active])
    assert ids(no_decay["params"]) == ids([model[0].sigma, model[0].bias, model[2].sigma,
                                           model[2].bias, model.emb, model.ball.isp_c])
    assert isinstance(opt, geoopt.optim.RiemannianAdam)
    with pytest.raises(hypsst.HypsstError, match="'adam' cannot keep 1 manifold parameter"):
        hypsst.make_optimizer(model, 0.01, optimizer="adam")
    with pytest.raises(ValueError, match="allowed: radam, adam, rsgd"):
        hypsst.make_optimizer(model, 0.01, optimizer="sgd")


def test_lorentz_scales_and_attention_bias_are_not_decayed():
    # HyboNet exempts every parameter named *bias* or *scale* from weight decay; decaying
    # LorentzLinear's log_scale (log 10) shrinks its time cap exp(s) towards 1.
    from hypsst.manifolds import Lorentz
    from hypsst.models import LorentzConv

    torch.manual_seed(0)
    conv = LorentzConv(4, 3, Lorentz(), use_att=True)
    decay, no_decay = hypsst.make_optimizer(conv, 0.01, weight_decay=1e-3).param_groups
    names = {id(p): n for n, p in conv.named_parameters()}
    assert sorted(names[id(p)] for p in decay["params"]) == [
        "agg.key.linear.weight", "agg.query.linear.weight", "lin.linear.weight"]
    assert sorted(names[id(p)] for p in no_decay["params"]) == [
        "agg.att_bias", "agg.att_scale", "agg.key.linear.bias", "agg.key.log_scale",
        "agg.query.linear.bias", "agg.query.log_scale", "lin.linear.bias", "lin.log_scale"]
    assert no_decay["weight_decay"] == 0.0 and decay["weight_decay"] == 1e-3


def test_radam_weight_decay_is_decoupled_on_euclidean_params_as_hybonet():
    # HyboNet's RiemannianAdam: p <- p - lr·(adam_dir + wd·p) for Euclidean parameters;
    # geoopt's coupled L2 made cora LP's input weights decay by ~lr per step (test ROC-AUC
    # 0.911 vs 0.951). A zero loss gradient must leave only the lr·wd shrink.
    model = nn.Linear(3, 2)
    model.ball = geoopt.Lorentz()
    model.emb = geoopt.ManifoldParameter(model.ball.expmap0(
        torch.tensor([[0.0, 0.3, -0.2]])), manifold=model.ball)
    with torch.no_grad():
        model.weight.fill_(2.0)
    opt = hypsst.make_optimizer(model, 0.1, weight_decay=0.01)
    opt.param_groups[1]["weight_decay"] = 0.01  # the manifold point too: L2 on its gradient
    w_dir = torch.tensor([[1.0, -1.0, 0.5], [0.0, 0.0, 0.0]])
    (model.weight * 0).sum().backward()
    model.bias.grad = None
    model.emb.grad = torch.zeros_like(model.emb)
    emb0 = model.emb.detach().clone()
    opt.step()
    assert torch.allclose(model.weight, torch.full((2, 3), 2.0 * (1 - 0.1 * 0.01)))
    assert not torch.allclose(model.emb, emb0)  # the coupled L2 gradient moved it
    assert model.ball.check_point_on_manifold(model.emb)
    assert [g["weight_decay"] for g in opt.param_groups] == [0.01, 0.01]
    # With a gradient g, Adam's first step is lr·sign(g) (bias-corrected), plus the shrink.
    opt = hypsst.make_optimizer(nn.Linear(3, 2), 0.1, weight_decay=0.01)
    lin = opt.param_groups[0]["params"][0]
    with torch.no_grad():
        lin.fill_(2.0)
    lin.grad = w_dir.clone()
    opt.step()
    expected = 2.0 * (1 - 0.1 * 0.01) - 0.1 * torch.sign(w_dir)
    assert torch.allclose(lin, expected, atol=1e-6)


def test_warmup_after_resample_and_state_reset():
    model = _model("sst", steps_per_iteration=3, warmup_steps=4, iterations_per_round=2)
    opt = hypsst.make_optimizer(model, 0.1)
    lrs = []
    for i, (x, y) in enumerate(_batches(11)):
        opt.zero_grad()
        (model(x) - y).square().mean().backward()
        opt.step()
        lrs.append(opt.param_groups[0]["lr"])
        if i == 2:  # step 3 just resampled: the active slots' Adam state is fresh
            for p in (model[0].U_active, model[0].Vh_active):
                st = opt.state[p]
                assert st["step"] == 0 and not st["exp_avg"].any()
                assert not st["exp_avg_sq"].any()
            assert opt.state[model[0].sigma]["step"] == 3  # σ keeps its state ...
        if i == 5:  # ... until the re-SVD at iteration 2 (step 6)
            assert opt.state[model[0].sigma]["step"] == 0
    # steps 4..: lr = 0.1 * j/4; restarts at steps 6 and 9 (mid-warm-up keeps base 0.1)
    expected = [0.1, 0.1, 0.1, 0.025, 0.05, 0.075, 0.025, 0.05, 0.075, 0.025, 0.05]
    assert lrs == pytest.approx(expected)


@pytest.mark.parametrize("method,optimizer,kw", [
    ("sst", "radam", {"steps_per_iteration": 3, "iterations_per_round": 2, "warmup_steps": 2}),
    ("sst", "adam", {"steps_per_iteration": 3, "iterations_per_round": 2, "warmup_steps": 2}),
    ("relora", "radam", {"steps_per_iteration": 3, "warmup_steps": 2}),
    ("lora", "rsgd", {}),
])
def test_resume_is_identical_to_uninterrupted(method, optimizer, kw):
    batches = _batches(16)
    okw = {"momentum": 0.9} if optimizer == "rsgd" else {}
    ref = _model(method, **kw)
    opt = hypsst.make_optimizer(ref, 0.05, 0.01, optimizer=optimizer, **okw)
    _run(ref, opt, batches)

    first = _model(method, **kw)
    opt1 = hypsst.make_optimizer(first, 0.05, 0.01, optimizer=optimizer, **okw)
    _run(first, opt1, batches[:7])  # stop mid-warm-up, between resamples
    buf = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt1.state_dict()}, buf)
    buf.seek(0)
    ckpt = torch.load(buf)
    resumed = _model(method, seed=123, **kw)  # different init: everything must come back
    opt2 = hypsst.make_optimizer(resumed, 0.05, 0.01, optimizer=optimizer, **okw)
    resumed.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["opt"])
    _run(resumed, opt2, batches[7:])
    for (name, a), b in zip(ref.state_dict().items(), resumed.state_dict().values()):
        if name.endswith("_extra_state"):
            assert torch.equal(a["rng_state"], b["rng_state"]), name
            assert a["step_count"] == b["step_count"], name
        else:
            assert torch.equal(a, b), name
    assert opt.param_groups[0]["lr"] == opt2.param_groups[0]["lr"]


def test_relora_merge_keeps_function_and_restarts_adapter():
    model = _model("relora", steps_per_iteration=2, warmup_steps=0)
    opt = hypsst.make_optimizer(model, 0.05)
    _run(model, opt, _batches(1))
    layer = model[0]
    assert layer.lora_B.abs().sum() > 0
    W, A = layer.weight.detach().clone(), layer.lora_A.detach().clone()
    assert layer.after_step(opt) == 0  # step 2: merge B A into W0, redraw A, B = 0
    torch.testing.assert_close(layer.weight0, W)
    torch.testing.assert_close(layer.weight, W)
    assert not layer.lora_B.any() and not torch.equal(layer.lora_A, A)
    assert opt.state[layer.lora_B]["step"] == 0 and not opt.state[layer.lora_A]["exp_avg"].any()
