"""Task models and decoders: losses against hand computations, sklearn metrics,
improvement rules, decoder geometry, errors."""
import math

import pytest
import torch
import torch.nn.functional as F

from hypsst.errors import HypsstError
from hypsst.manifolds import Lorentz, PoincareBall
from hypsst.models import FermiDiracDecoder, LorentzDecoder, LPModel, NCModel, build_encoder


class Fixed(torch.nn.Module):
    """An 'encoder' returning given points, to test task logic in isolation."""

    def __init__(self, manifold, dim):
        super().__init__()
        self.manifold, self.out_features = manifold, dim

    def forward(self, x, edge_index):
        return x


def test_fermi_dirac_is_hgcn_formula():
    d2 = torch.tensor([0.0, 1.0, 2.0, 5.0])
    fd = FermiDiracDecoder(r=2.0, t=0.5)
    assert torch.allclose(fd(d2), 1 / (torch.exp((d2 - 2.0) / 0.5) + 1))
    with pytest.raises(HypsstError):
        FermiDiracDecoder(t=0.0)


def test_lp_bce_loss_scores_and_metrics_by_hand():
    m = PoincareBall(1.0)
    z = m.expmap0(torch.tensor([[0.0, 0.0], [0.1, 0.0], [0.0, 0.9], [-0.8, 0.1]]))
    model = LPModel(Fixed(m, 2), fd_r=1.0, fd_t=0.5)
    pos, neg = torch.tensor([[0, 2], [1, 3]]), torch.tensor([[0], [3]])
    d2p, d2n = m.dist(z[pos[0]], z[pos[1]]) ** 2, m.dist(z[neg[0]], z[neg[1]]) ** 2
    pp, pn = 1 / (torch.exp((d2p - 1) / 0.5) + 1), 1 / (torch.exp((d2n - 1) / 0.5) + 1)
    assert torch.allclose(model.scores(z, pos), pp, atol=1e-6)
    expected = -torch.log(pp).mean() - torch.log(1 - pn).mean()
    assert float(model.loss(z, pos, neg)) == pytest.approx(float(expected), rel=1e-5)
    # pair (0,1) is closest, (0,3) next, (2,3) farthest: AUC = 1/2 exactly
    metrics = model.metrics(z, pos, neg)
    assert metrics["roc_auc"] == pytest.approx(0.5) and 0 < metrics["ap"] <= 1
    assert LPModel.main_metric == "roc_auc"


def test_lp_margin_loss_uses_lorentzian_distance_on_the_hyperboloid():
    lz = Lorentz(1.0)
    z = lz.from_tangent0(torch.tensor([[0.0, 0.0], [0.3, 0.0], [0.0, 2.0], [1.0, 1.0]]))
    model = LPModel(Fixed(lz, 2), loss="margin", margin=0.5)
    pos, neg = torch.tensor([[0, 1], [1, 2]]), torch.tensor([[0], [2]])  # 2 pos, 1 neg: cycled
    sq = lambda a, b: -2 - 2 * lz.minkowski(z[a], z[b])  # HyboNet's squared Lorentz distance
    sp = torch.stack([-sq(0, 1), -sq(1, 2)])
    sn = -sq(0, 2)
    # HyboNet's MarginLoss averages over the stacked [pos, neg] columns: the pos column is
    # the constant margin, so the hinge mean (and its gradient) is halved.
    expected = 0.5 * (0.5 + F.relu(0.5 - sp + sn).mean())
    assert float(model.loss(z, pos, neg)) == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(HypsstError, match="unknown link-prediction loss"):
        LPModel(Fixed(lz, 2), loss="hinge")
    with pytest.raises(HypsstError, match=r"\(2, P\)"):
        model.loss(z, torch.tensor([0, 1]), neg)


def test_lp_has_improved_uses_mean_of_auc_and_ap():
    model = LPModel(Fixed(PoincareBall(), 2))
    assert model.has_improved(None, {"roc_auc": 0.1, "ap": 0.1})
    assert model.has_improved({"roc_auc": 0.9, "ap": 0.7}, {"roc_auc": 0.85, "ap": 0.8})
    assert not model.has_improved({"roc_auc": 0.9, "ap": 0.8}, {"roc_auc": 0.9, "ap": 0.8})


def test_nc_losses_and_metrics_by_hand():
    torch.manual_seed(0)
    enc = build_encoder("hgcn", 5, dim=4)
    model = NCModel(enc, 3, loss="margin", margin=1.0)
    z = enc.manifold.expmap0(torch.randn(6, 4) * 0.3)
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    idx = torch.tensor([0, 2, 5])
    logits = model.decoder.linear(enc.manifold.logmap0(z[idx]))
    assert torch.allclose(model.logits(z[idx]), logits, atol=1e-6)
    yi = y[idx]
    hinge = F.relu(1.0 - logits.gather(1, yi[:, None]) + logits)
    hinge[torch.arange(3), yi] = 0
    # HyboNet's form: 3 nodes x 3 columns, the true column a constant relu(margin) = 1
    expected = float((hinge.sum() + 3 * 1.0) / 9)
    assert float(model.loss(z, idx, y)) == pytest.approx(expected, rel=1e-5)
    assert float(model.loss(z, idx, yi)) == pytest.approx(expected, rel=1e-5)
    ce = NCModel(enc, 3, loss="ce")
    assert float(ce.loss(z, idx, y)) == pytest.approx(float(F.cross_entropy(ce.logits(z[idx]), yi)), rel=1e-5)
    # metrics: make the decoder predict class = argmax of a known table
    with torch.no_grad():
        model.decoder.linear.weight.zero_()
        model.decoder.linear.bias.copy_(torch.tensor([0.0, 1.0, 0.5]))  # always predicts 1
    m = model.metrics(z, torch.arange(6), y)
    assert m["accuracy"] == pytest.approx(2 / 6) and m["f1"] == pytest.approx(2 / 6)  # micro
    # class 1: precision 1/3, recall 1 -> F1 1/2; classes 0 and 2: F1 0
    assert m["f1_macro"] == pytest.approx(0.5 / 3)
    with pytest.raises(HypsstError, match="one entry per node"):
        model.loss(z, idx, y[:4])


def test_nc_binary_f1_for_two_classes():
    enc = build_encoder("gcn", 5, dim=4)
    model = NCModel(enc, 2)
    assert model.binary_f1 and NCModel.main_metric == "f1"
    with torch.no_grad():
        model.decoder.linear.weight.zero_()
        model.decoder.linear.bias.copy_(torch.tensor([0.0, 1.0]))  # always class 1
    y = torch.tensor([1, 0, 0, 0])
    m = model.metrics(torch.zeros(4, 4), torch.arange(4), y)
    assert m["f1"] == pytest.approx(2 * 0.25 * 1 / 1.25)  # binary F1 of class 1, not micro (0.25)
    assert m["accuracy"] == pytest.approx(0.25)
    assert model.has_improved(None, m) and not model.has_improved({"f1": 0.9}, m)


def test_lorentz_decoder_is_minus_squared_lorentz_distance_plus_bias():
    torch.manual_seed(0)
    lz = Lorentz(0.5)
    dec = LorentzDecoder(lz, 3, 4)
    with torch.no_grad():
        dec.bias.normal_()
    z = lz.from_tangent0(torch.randn(5, 3))
    expected = -lz.sqdist_lorentzian(z[:, None, :], dec.cls[None, :, :]) + dec.bias
    assert torch.allclose(dec(z), expected, atol=1e-4)
    assert lz.check_point_on_manifold(dec.cls.detach(), atol=1e-5, rtol=0)
    with pytest.raises(HypsstError, match="lorentz manifold"):
        LorentzDecoder(PoincareBall(), 3, 4)
    with pytest.raises(HypsstError, match="lorentz manifold"):
        NCModel(build_encoder("hgcn", 5), 3, decoder="lorentz")
    hyb = NCModel(build_encoder("hybonet", 5, dim=3), 4, decoder="lorentz", loss="margin")
    assert hyb.decoder.cls.manifold is hyb.encoder.manifold


@pytest.mark.parametrize("name,decoder,loss", [("hybonet", "lorentz", "margin"), ("hgcn", "linear", "ce")])
def test_node_classification_learns_communities(name, decoder, loss):
    """3 planted communities, identity features, 30% of nodes labelled: 200 float32 steps
    reach test accuracy ≥ 0.85 (the graph carries the labels) and the class points move."""
    import geoopt
    import networkx as nx

    torch.manual_seed(0)
    g = nx.stochastic_block_model([40, 40, 40], [[0.25, 0.01, 0.01], [0.01, 0.25, 0.01],
                                                 [0.01, 0.01, 0.25]], seed=0)
    und = torch.tensor(list(g.edges())).t()
    ei = torch.cat([und, und.flip(0)], 1)
    y = torch.arange(120) // 40
    perm = torch.randperm(120, generator=torch.Generator().manual_seed(0))
    train, test = perm[:36], perm[36:]
    x = torch.eye(120)
    model = NCModel(build_encoder(name, 120, dim=8), 3, decoder=decoder, loss=loss)
    trained = [p for p in model.decoder.parameters() if p.requires_grad]
    before = [p.detach().clone() for p in trained]
    opt = geoopt.optim.RiemannianAdam(model.parameters(), lr=0.01)
    for _ in range(200):
        loss_value = model.loss(model(x, ei), train, y)
        opt.zero_grad()
        loss_value.backward()
        opt.step()
    with torch.no_grad():
        metrics = model.metrics(model(x, ei), test, y)
    assert metrics["accuracy"] >= 0.85 and metrics["f1"] == pytest.approx(metrics["accuracy"])
    assert all(not torch.equal(a, b) for a, b in zip(before, trained))
    if decoder == "lorentz":
        lz = model.encoder.manifold
        assert lz.check_point_on_manifold(model.decoder.cls.detach(), atol=1e-4, rtol=0)
