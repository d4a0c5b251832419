"""`hypsst bench`: grid parsing, results.csv/.md, resuming a half-finished grid, gap closed."""
import csv
from pathlib import Path

import pytest

from hypsst import bench, train
from hypsst.cli import main
from hypsst.errors import HypsstError

CONFIGS = Path(__file__).resolve().parents[1] / "benchmarks" / "configs"

GRID = """
name = "two"
[grid]
tasks = ["lp"]
datasets = ["synthetic-disease"]
models = ["hgcn"]
methods = ["full", "sst"]
ranks = [1, 2]          # full-rank ignores ranks: 1 + 2 cells ...
seeds = [0]
[options]
epochs = 4
min_epochs = 0
dim = 4
data_options = { num_nodes = 60 }
[model.hgcn]
dropout = 0.1
"""


def _grid(tmp_path, text=GRID):
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return path


def test_grid_cells_and_precedence(tmp_path):
    name, cells = bench.load_grid(_grid(tmp_path, GRID.replace("ranks = [1, 2]", "ranks = [1]")))
    assert name == "two"
    assert [c.name for c in cells] == ["lp-synthetic-disease-hgcn-full-s0",
                                       "lp-synthetic-disease-hgcn-sst-r1-s0"]
    assert all(c.config.dropout == 0.1 and c.config.epochs == 4 for c in cells)


def test_seeds_override_replaces_the_files_seeds(tmp_path):
    _, cells = bench.load_grid(_grid(tmp_path), seeds=[3, 4])
    assert [c.name for c in cells] == [f"lp-synthetic-disease-hgcn-{m}-s{s}"
                                       for m in ("full", "sst-r1", "sst-r2") for s in (3, 4)]
    assert [c.config.seed for c in cells] == [3, 4] * 3
    with pytest.raises(HypsstError, match="seeds must be"):
        bench.load_grid(_grid(tmp_path), seeds=[])
    assert main(["bench", str(_grid(tmp_path)), "--seeds", "0,x"]) == 2


def test_committed_grids_validate():
    for path in sorted(CONFIGS.glob("*.toml")):
        _, cells = bench.load_grid(path)
        assert cells, path
    _, cells = bench.load_grid(CONFIGS / "lp-hgcn-split.toml")
    hybonet = next(c.config for c in cells if c.name == "lp-disease_lp-hybonet-sst-r2-s0")
    assert (hybonet.margin, hybonet.lr, hybonet.split, hybonet.preset) == \
        (30.0, 0.005, "hgcn", "hybonet-lp-disease")
    # full-rank once per seed, the others once per rank and seed
    assert len(cells) == 3 * 2 * (1 + 3 * 2) * 5


@pytest.mark.parametrize("text, words", [
    ("[grid]\ntasks = ['lp']\n", ["missing datasets"]),
    (GRID.replace('models = ["hgcn"]', 'models = ["hybonet"]')
     + "[model.hybonet]\nmanifold = 'poincare'\n", ["cell lp-synthetic-disease-hybonet", "lorentz-only"]),
    ("grid = 3\nwat = 1\n", ["unknown key", "wat"]),
])
def test_bad_grid_files_name_the_problem(tmp_path, text, words):
    with pytest.raises(HypsstError) as info:
        bench.load_grid(_grid(tmp_path, text))
    assert all(w in str(info.value) for w in words)


def test_grid_writes_csv_and_markdown_and_resumes_without_rerunning(tmp_path, monkeypatch, capsys):
    out = tmp_path / "results"
    grid = _grid(tmp_path, GRID.replace("ranks = [1, 2]", "ranks = [1]"))
    assert main(["bench", str(grid), "--out", str(out)]) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert [(r["method"], r["rank"], r["status"]) for r in rows] == [("full", "", "done"),
                                                                    ("sst", "1", "done")]
    for r in rows:
        assert 0 <= float(r["test_roc_auc"]) <= 1 and int(r["trainable_params"]) > 0
    assert int(rows[1]["trainable_params"]) < int(rows[0]["trainable_params"])
    md = (out / "results.md").read_text()
    assert "| lp | synthetic-disease | hgcn | full | – |" in md
    assert "| lp | synthetic-disease | hgcn | sst | 1 |" in md
    assert "[2/2]" in capsys.readouterr().out

    # A second run finds every cell finished: nothing trains.
    def no_training(*args, **kwargs):
        raise AssertionError("a finished cell ran again")

    monkeypatch.setattr(train, "run", no_training)
    capsys.readouterr()
    assert main(["bench", str(grid), "--out", str(out), "--quiet"]) == 0
    assert list(csv.DictReader(open(out / "results.csv"))) == rows
    lines = capsys.readouterr().out.splitlines()  # --quiet: exactly one line per cell
    assert len(lines) == len(rows) and all(line.startswith(f"[{i + 1}/{len(rows)}] ")
                                           for i, line in enumerate(lines))
    # --report with more seeds than were run: nothing trains, only finished cells listed
    (out / "results.csv").unlink()
    assert main(["bench", str(grid), "--out", str(out), "--seeds", "0,1", "--report"]) == 0
    assert list(csv.DictReader(open(out / "results.csv"))) == rows
    assert main(["bench", str(grid), "--out", str(tmp_path / "empty"), "--report"]) == 2
    monkeypatch.undo()

    # A half-finished cell (checkpoint, no metrics.json) resumes from its checkpoint.
    cell = out / "runs" / "lp-synthetic-disease-hgcn-sst-r1-s0"
    (cell / "metrics.json").unlink()
    calls = []
    real_run = train.run
    monkeypatch.setattr(train, "run", lambda *a, **k: calls.append(k["resume"]) or real_run(*a, **k))
    assert main(["bench", str(grid), "--out", str(out), "--quiet"]) == 0
    assert calls == [True]
    again = list(csv.DictReader(open(out / "results.csv")))
    assert again[1]["test_roc_auc"] == rows[1]["test_roc_auc"]


def test_parallel_jobs_give_the_same_rows_as_serial(tmp_path):
    grid = _grid(tmp_path, GRID.replace("ranks = [1, 2]", "ranks = [1]"))
    serial = bench.run_grid(grid, out=tmp_path / "serial", progress=False)
    parallel = bench.run_grid(grid, out=tmp_path / "parallel", jobs=2, progress=False)
    drop = ("train_time_s", "epoch_time_ms")
    assert [{k: v for k, v in r.items() if k not in drop} for r in serial] == \
        [{k: v for k, v in r.items() if k not in drop} for r in parallel]


def test_summary_mean_std_published_and_gap_closed():
    def row(method, rank, seed, auc, dataset="disease_lp"):
        return dict(cell=f"{method}{rank}{seed}", task="lp", dataset=dataset, model="hgcn",
                    method=method, rank=rank, seed=seed, status="done", test_roc_auc=auc,
                    trainable_params=10, optimizer_state_bytes=80, epoch_time_ms=1.0)

    rows = [row("full", "", 0, 0.90), row("full", "", 1, 0.92),
            row("lora", 1, 0, 0.80), row("lora", 1, 1, 0.80),
            row("relora", 1, 0, 0.84), row("relora", 1, 1, 0.84),
            row("sst", 1, 0, 0.88), row("sst", 1, 1, 0.86),
            dict(row("sst", 1, 2, 0.0), status="diverged", error="loss is nan at epoch 3")]
    summary = {(e["method"], e["rank"]): e for e in bench.summarize(rows)}
    full, sst = summary[("full", "")], summary[("sst", 1)]
    assert full["mean"] == pytest.approx(91.0) and full["std"] == pytest.approx(2 ** 0.5)
    assert full["published"] == 90.8 and sst["published"] is None
    assert sst["done"] == 2 and sst["runs"] == 3
    assert sst["gap_lora"] == pytest.approx((87 - 80) / (91 - 80))
    assert sst["gap_best"] == pytest.approx((87 - 84) / (91 - 84))
    md = bench.markdown("t", rows)
    assert "| 91.0 ± 1.4 | 90.8 |" in md and "| 64% | 43% |" in md
    assert "loss is nan at epoch 3" in md
    assert "| hgcn | published | – | 90.8 |" in md
    assert "| hgcn | sst gap closed vs LoRA | 1 | 64% |" in md
    marked = bench.summarize([dict(row("full", "", 0, 0.7, "disease_nc"), task="nc",
                                   test_f1=0.7, features="identity")])
    assert marked[0]["dataset"] == "disease_nc (identity features)"
    assert marked[0]["published"] == 74.5


def test_gap_closed_is_undefined_without_a_gap():
    full, low = {"mean": 0.1 + 0.2}, {"mean": 0.3}  # equal up to rounding
    assert bench.gap_closed({"mean": 0.5}, full, low) is None
    assert bench.gap_closed({"mean": 0.5}, None, low) is None
    # low-rank above full-rank: no gap to close (not a negative share)
    assert bench.gap_closed({"mean": 0.5}, {"mean": 0.3}, {"mean": 0.4}) is None
