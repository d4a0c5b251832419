"""hypsst.train.run: learning, seeding, early stopping, checkpoint cadence, resume rules."""
import io
import random

import numpy as np
import pytest
import torch

from hypsst import train
from hypsst.config import TrainConfig
from hypsst.errors import HypsstError

TINY = TrainConfig(data_options={"num_nodes": 60}, dim=4, rank=1, epochs=5, min_epochs=0)


def _strip_times(metrics):
    return {k: v for k, v in metrics.items() if k not in ("train_time_s", "epoch_time_ms")}


def test_hgcn_sst_learns_link_prediction(tmp_path):
    config = TrainConfig(data_options={"num_nodes": 400}, epochs=80, min_epochs=0, lr=0.02)
    m = train.run(config, out=tmp_path, progress=False)
    history = (tmp_path / "history.csv").read_text().splitlines()
    first_val = float(history[1].split(",")[2])
    assert m["test"]["roc_auc"] > 0.65          # chance is 0.5
    assert m["val"]["roc_auc"] > first_val + 0.1


def test_rng_states_survive_a_weights_only_checkpoint():
    gen = torch.Generator().manual_seed(5)
    train.seed_everything(1)
    buffer = io.BytesIO()
    torch.save(train.rng_state(gen), buffer)
    draws = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(3, generator=gen))
    buffer.seek(0)
    train.set_rng_state(torch.load(buffer, weights_only=True), gen)
    again = (torch.rand(3), np.random.rand(3), random.random(), torch.rand(3, generator=gen))
    assert torch.equal(draws[0], again[0]) and np.array_equal(draws[1], again[1])
    assert draws[2] == again[2] and torch.equal(draws[3], again[3])


def test_the_seed_fixes_the_run(tmp_path):
    a = train.run(TINY, out=tmp_path / "a", progress=False)
    b = train.run(TINY, out=tmp_path / "b", progress=False)
    c = train.run(TINY.replace(seed=1), out=tmp_path / "c", progress=False)
    assert _strip_times(a) == _strip_times(b)
    def losses(run):  # history without the epoch time (last column)
        return [line.rsplit(",", 1)[0] for line in (tmp_path / run / "history.csv").open()]

    assert losses("a") == losses("b")
    assert _strip_times(a) != _strip_times(c)


def test_early_stopping_and_eval_every(tmp_path):
    m = train.run(TINY.replace(epochs=60, patience=4, eval_every=2), out=tmp_path,
                  progress=False)
    assert m["stopped_early"] and m["epochs_run"] < 60
    assert m["epochs_run"] - m["best_epoch"] >= 4 and m["best_epoch"] % 2 == 0
    rows = (tmp_path / "history.csv").read_text().splitlines()[1:]
    evaluated = [int(r.split(",")[0]) for r in rows if r.split(",")[2] != ""]
    assert evaluated == list(range(2, m["epochs_run"] + 1, 2))


def test_checkpoints_are_written_during_training_on_a_clock(tmp_path, monkeypatch):
    clock = iter(range(0, 10_000, 2))  # every reading of the clock: 2 s later
    monkeypatch.setattr(train.time, "monotonic", lambda: next(clock))
    saved = []
    real_save = train.atomic_torch_save

    def save(obj, path):
        if path.name == "checkpoint.pt":
            saved.append(obj["epoch"])
        return real_save(obj, path)

    monkeypatch.setattr(train, "atomic_torch_save", save)
    train.run(TINY.replace(epochs=8, checkpoint_seconds=5), out=tmp_path, progress=False)
    assert saved[0] == 0 and saved[-1] == 8 and len(saved) >= 4
    assert all(b > a for a, b in zip(saved, saved[1:]))


def test_resume_rules(tmp_path):
    first = train.run(TINY, out=tmp_path, progress=False)
    # A finished run resumes to its stored metrics without training again.
    assert train.run(TINY, out=tmp_path, resume=True, progress=False) == first
    # The device and checkpoint cadence may change, the learning options may not.
    train.run(TINY.replace(device="cpu", checkpoint_seconds=1), out=tmp_path, resume=True,
              progress=False)
    with pytest.raises(HypsstError, match="lr 0.01 -> 0.5"):
        train.run(TINY.replace(lr=0.5), out=tmp_path, resume=True, progress=False)
    with pytest.raises(HypsstError, match="no checkpoint"):
        train.run(TINY, out=tmp_path / "empty", resume=True, progress=False)


def test_rebuild_model_from_best_checkpoint_reproduces_the_embeddings(tmp_path):
    train.run(TINY.replace(dim=2), out=tmp_path, progress=False)
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    s = train.setup(TINY.replace(dim=2))
    model = train.rebuild_model(best).eval()
    with torch.no_grad():
        z = model(s.x, s.edge_index)
    assert torch.allclose(z, best["embeddings"], atol=1e-6)
    assert best["labels"].shape == (60,)
