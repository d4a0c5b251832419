"""`hypsst train` end to end on tiny runs: outputs, metrics, exit codes, resume after a kill."""
import json
import os
import subprocess
import sys
import textwrap

import pytest
import torch

from hypsst.cli import main

TINY = ["--data-option", "num_nodes=60", "--dim", "4", "--rank", "1", "--epochs", "6",
        "--min-epochs", "0", "--quiet"]
KEYS = {"task", "dataset", "model", "manifold", "method", "rank", "seed", "epochs_run",
        "best_epoch", "val", "test", "trainable_params", "optimizer_state_bytes", "param_bytes",
        "train_time_s", "epoch_time_ms"}
METRICS = {"lp": {"roc_auc", "ap"}, "nc": {"f1", "accuracy", "f1_macro"}}
TIMES = ("train_time_s", "epoch_time_ms")


def _train(out, *argv):
    return main(["train", "--out", str(out), *TINY, *argv])


# Each model, each method and both tasks appear at least once.
@pytest.mark.parametrize("task, model, method", [
    ("lp", "hgcn", "sst"), ("lp", "hybonet", "lora"), ("lp", "hnn", "relora"),
    ("lp", "gcn", "full"), ("nc", "mlp", "sst"), ("nc", "shallow", "lora"),
    ("nc", "hgcn", "full"), ("nc", "hybonet", "sst"),
])
def test_train_writes_outputs_and_sane_metrics(tmp_path, capsys, task, model, method):
    assert _train(tmp_path, "--task", task, "--model", model, "--method", method) == 0
    for name in ("metrics.json", "config.json", "history.csv", "checkpoint.pt", "best.pt"):
        assert (tmp_path / name).stat().st_size > 0, name
    m = json.loads((tmp_path / "metrics.json").read_text())
    assert KEYS <= set(m)
    assert (m["task"], m["model"], m["method"]) == (task, model, method)
    assert m["rank"] == (None if method == "full" else 1)
    assert set(m["val"]) == set(m["test"]) == METRICS[task]
    for value in [*m["val"].values(), *m["test"].values()]:
        assert 0.0 <= value <= 1.0
    assert m["epochs_run"] == 6 and 1 <= m["best_epoch"] <= 6
    assert m["trainable_params"] > 0 and m["optimizer_state_bytes"] > 0
    assert m["param_bytes"] > 0 and m["epoch_time_ms"] > 0
    history = (tmp_path / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,train_loss,val_") and len(history) == 7
    out = capsys.readouterr().out
    assert f"test {'roc_auc' if task == 'lp' else 'f1'} " in out and str(tmp_path) in out


def test_sst_trains_fewer_numbers_than_full_rank(tmp_path):
    sizes = {}
    for method in ("full", "sst"):
        assert main(["train", "--out", str(tmp_path / method), "--method", method,
                     "--data-option", "num_nodes=60", "--epochs", "2", "--quiet"]) == 0
        sizes[method] = json.loads((tmp_path / method / "metrics.json").read_text())
    # HGCN dim 16 on 8 features, rank 2: SST trains sigma (k) + r(m+n) per layer, not m*n.
    assert sizes["sst"]["trainable_params"] < sizes["full"]["trainable_params"]
    assert sizes["sst"]["optimizer_state_bytes"] < sizes["full"]["optimizer_state_bytes"]


def test_default_out_folder_is_named_after_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", *TINY]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("lp-synthetic-disease-hgcn-sst-r1-s0-")
    assert (run / "metrics.json").exists()
    assert f"outputs in runs/{run.name}" in capsys.readouterr().out


@pytest.mark.parametrize("argv, words", [
    (["--dataset", "no-such-data"], ["no-such-data"]),
    (["--resume"], ["no checkpoint"]),
    (["--task", "nc", "--split", "hgcn"], ["lp"]),
])
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, argv, words):
    assert _train(tmp_path / "run", *argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert all(w in err for w in words)


def test_nan_loss_exits_1_naming_the_epoch_and_keeps_the_last_good_checkpoint(
        tmp_path, monkeypatch, capsys):
    from hypsst.models import LPModel

    real_loss, calls = LPModel.loss, []

    def loss(self, *args):
        calls.append(1)
        value = real_loss(self, *args)
        return value * float("nan") if len(calls) == 4 else value

    monkeypatch.setattr(LPModel, "loss", loss)
    assert _train(tmp_path, "--checkpoint-seconds", "1e-9") == 1
    err = capsys.readouterr().err
    assert "epoch 4" in err and "Traceback" not in err
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 3 and not ckpt["finished"]
    assert all(torch.isfinite(v).all() for v in ckpt["model"].values() if torch.is_tensor(v))
    assert not (tmp_path / "metrics.json").exists()


_KILL_AT_EPOCH = textwrap.dedent("""
    import os, signal, sys
    from hypsst.models import LPModel
    from hypsst.cli import main
    real_loss, calls = LPModel.loss, []
    def loss(self, *args):
        calls.append(1)
        if len(calls) == int(os.environ["KILL_AT"]):
            os.kill(os.getpid(), signal.SIGKILL)  # a real kill, mid-epoch
        return real_loss(self, *args)
    LPModel.loss = loss
    sys.exit(main(sys.argv[1:]))
""")


def test_resume_after_a_kill_ends_with_the_metrics_of_an_uninterrupted_run(tmp_path):
    # SST resamples every 2 steps, dropout draws from torch's RNG, lp draws negatives:
    # every piece of state must come back for the numbers to match exactly.
    argv = ["--data-option", "num_nodes=80", "--dim", "6", "--rank", "2", "--epochs", "14",
            "--min-epochs", "0", "--steps-per-iteration", "2", "--iterations-per-round", "2",
            "--dropout", "0.2", "--seed", "3", "--quiet"]
    assert main(["train", "--out", str(tmp_path / "whole"), *argv]) == 0
    killed = tmp_path / "killed"
    # the subprocess uses the suite's one intra-op thread (tests/conftest.py): a different
    # thread count changes float reduction order, so the last bits would differ
    env = {**os.environ, "KILL_AT": "9", "OMP_NUM_THREADS": str(torch.get_num_threads())}
    proc = subprocess.run([sys.executable, "-c", _KILL_AT_EPOCH, "train", "--out", str(killed),
                           *argv, "--checkpoint-seconds", "1e-9"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == -9, proc.stderr
    assert torch.load(killed / "checkpoint.pt", weights_only=True)["epoch"] == 8
    assert not (killed / "metrics.json").exists()
    assert main(["train", "--out", str(killed), "--resume", "--quiet"]) == 0
    whole = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    resumed = json.loads((killed / "metrics.json").read_text())
    for key in TIMES:
        whole.pop(key), resumed.pop(key)
    assert resumed == whole

    def losses(run):
        lines = (run / "history.csv").read_text().splitlines()
        return [line.split(",")[:-1] for line in lines]  # without the epoch time

    assert losses(killed) == losses(tmp_path / "whole")
    best = [torch.load(p / "best.pt", weights_only=True)["model"] for p in (killed, tmp_path / "whole")]
    for name, value in best[0].items():
        if torch.is_tensor(value):
            assert torch.equal(value, best[1][name]), name


def test_train_on_a_graph_given_as_files(tmp_path):
    import numpy as np

    # two 20-node communities (rings with chords) joined by one edge; label = community
    edges = [(c * 20 + i, c * 20 + (i + k) % 20) for c in (0, 1) for i in range(20) for k in (1, 3)]
    edges.append((0, 20))
    (tmp_path / "g.csv").write_text("source,target\n" + "".join(f"{u},{v}\n" for u, v in edges))
    ids = list(dict.fromkeys(n for e in edges for n in e))  # the loader's first-seen order
    labels = np.array([n // 20 for n in ids])
    np.save(tmp_path / "y.npy", labels)
    x = np.random.default_rng(0).normal(size=(40, 5))
    x[:, 0] += 2 * labels  # a noisy signal that neighbourhood averaging makes clear
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "run"
    assert main(["train", "--task", "nc", "--dataset", str(tmp_path / "g.csv"), "--features",
                 str(tmp_path / "x.npy"), "--labels", str(tmp_path / "y.npy"), "--model", "gcn",
                 "--method", "sst", "--epochs", "40", "--min-epochs", "0", "--lr", "0.05",
                 "--val-frac", "0.2", "--test-frac", "0.3", "--out", str(out), "--quiet"]) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["dataset"] == str(tmp_path / "g.csv")
    assert m["test"]["accuracy"] >= 0.9
