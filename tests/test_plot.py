"""`hypsst plot`: curves, spectra and Poincaré-disk pictures are written and correct."""
import pytest
import torch

from hypsst import plot, train
from hypsst.cli import main
from hypsst.config import TrainConfig
from hypsst.manifolds.conversions import poincare_to_lorentz

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three tiny 2-D runs (full, SST, LoRA) laid out like a bench folder."""
    root = tmp_path_factory.mktemp("bench")
    base = TrainConfig(data_options={"num_nodes": 60}, dim=2, rank=1, epochs=4, min_epochs=0)
    folders = []
    for method in ("full", "sst", "lora"):
        folder = root / "runs" / f"lp-hgcn-{method}"
        train.run(base.replace(method=method), out=folder, progress=False)
        folders.append(folder)
    return root, folders


def test_plot_runs_writes_nonempty_pngs(runs, tmp_path, capsys):
    _, folders = runs
    assert main(["plot", *map(str, folders), "--out", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["curves.png", "embeddings-lp-hgcn-full.png", "embeddings-lp-hgcn-lora.png",
                     "embeddings-lp-hgcn-sst.png", "spectra.png"]
    for path in tmp_path.iterdir():
        data = path.read_bytes()
        assert data.startswith(PNG) and len(data) > 5000, path.name
    assert str(tmp_path / "spectra.png") in capsys.readouterr().out


def test_plot_bench_folder_groups_runs(runs):
    root, _ = runs
    written = plot.plot([root])
    assert {p.name for p in written} >= {"curves-lp-synthetic-disease-hgcn.png",
                                         "spectra-lp-synthetic-disease-hgcn.png"}
    assert all(p.parent == root / "plots" and p.stat().st_size > 0 for p in written)


def test_spectra_are_the_singular_values_of_the_effective_weights(runs):
    _, (full, sst, lora) = runs
    state = torch.load(full / "best.pt", weights_only=True)["model"]
    spectra = plot.layer_spectra(full)
    assert len(spectra) >= 2
    for name, values in spectra.items():
        expected = torch.linalg.svdvals(state[f"{name}.weight"].double()).float()
        assert torch.allclose(values, expected, atol=1e-6), name
    sst_spectra = plot.layer_spectra(sst)
    assert sst_spectra.keys() == spectra.keys()
    for name in spectra:  # SST keeps every layer full-rank: same number of singular values
        assert sst_spectra[name].numel() == spectra[name].numel()
        assert (sst_spectra[name][:-1] >= sst_spectra[name][1:]).all()


def test_disk_coordinates_map_both_models_to_the_unit_disk():
    c = 2.0
    y = torch.tensor([[0.1, -0.3], [0.0, 0.6], [-0.5, 0.2]], dtype=torch.float64) / c ** 0.5
    unit = y * c ** 0.5
    assert torch.allclose(plot.disk_coordinates(y, "poincare", c), unit)
    x = poincare_to_lorentz(y, c)
    assert torch.allclose(plot.disk_coordinates(x, "lorentz", c), unit)
    assert torch.equal(plot.disk_coordinates(y, "euclidean", c), y)


def test_plot_rejects_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a run folder" in capsys.readouterr().err
