"""One training run: data, split, encoder + task model, SST conversion, epoch loop.

The loop is task-agnostic (HGCN's harness design): the task model owns its loss, its
metrics, its main metric and its "has improved" rule. Training is full-batch, one
optimizer step per epoch. Early stopping watches the validation main metric; the test
metrics reported are those at the best validation epoch.

Reproducibility: the seed fixes torch/numpy/python RNGs, the dataset generator, the split,
the SST sampling (``hypsst.convert(seed=...)``) and the negative sampler's own generator.
``checkpoint.pt`` (written atomically every ``checkpoint_seconds`` and at the end) holds
model + optimizer state (which include the SST state), every RNG state, the epoch, the
best-so-far and the history, as tensors and plain types so that it loads with
``torch.load(weights_only=True)``; ``resume=True`` continues from it and ends with exactly
the metrics of an uninterrupted run.
"""
from __future__ import annotations

import copy
import csv
import io
import json
import logging
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .config import TrainConfig
from .errors import HypsstError, TrainingDiverged
from .io import atomic_torch_save, atomic_write_json, atomic_write_text

log = logging.getLogger("hypsst.train")

FORMAT = 1
# Options that may change between a run and its resumption (they do not change results).
_RESUMABLE_CHANGES = ("device", "checkpoint_seconds", "preset")


# ----------------------------------------------------------------------------- setup
@dataclass
class Setup:
    """Everything a run trains on, built deterministically from a config."""

    config: TrainConfig
    graph: Any           # hypsst.datasets.GraphData
    split: Any           # LinkSplit (lp) or NodeSplit (nc)
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    x: torch.Tensor
    edge_index: torch.Tensor   # the graph the encoder sees (train edges only for lp)
    y: torch.Tensor | None
    model_args: dict
    device: torch.device


def default_out(config: TrainConfig) -> Path:
    return Path("runs") / config.run_id()


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError):
        raise HypsstError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise HypsstError(f"device {name!r} requested but CUDA is not available; use cpu")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def load_graph(config: TrainConfig):
    from . import datasets

    features, features_path = config.features, None
    if features not in ("auto", "identity"):
        features, features_path = "auto", config.features
    # task: airport comes in HGCN's lp (5 feature columns) and nc (4 + label) variants
    return datasets.load(config.dataset, root=config.data_root, features=features,
                         features_path=features_path, labels_path=config.labels,
                         seed=config.seed, task=config.task, **config.data_options)


def make_split(config: TrainConfig, graph):
    from . import datasets

    fracs = {k: v for k, v in (("val_frac", config.val_frac), ("test_frac", config.test_frac))
             if v is not None}
    if config.task == "lp":
        return datasets.split_links(graph, method=config.split, seed=config.seed, **fracs)
    if graph.y is None or graph.num_classes < 2:
        raise HypsstError(f"dataset {graph.name!r} has no node labels; node classification "
                          "(--task nc) needs them (give --labels FILE)")
    return datasets.split_nodes(graph, seed=config.seed, **fracs)


def build_model(config: TrainConfig, model_args: dict) -> torch.nn.Module:
    """Encoder + task model, before conversion (``model_args``: in_features, num_nodes,
    num_classes — recorded in checkpoints so a model can be rebuilt without the data)."""
    from . import models

    encoder = models.build_encoder(
        config.model, model_args["in_features"], dim=config.dim, num_layers=config.layers,
        manifold=config.manifold, c=config.c, learn_c=config.learn_c, act=config.act,
        dropout=config.dropout, bias=config.bias, num_nodes=model_args["num_nodes"])
    extra = {} if config.margin is None else {"margin": config.margin}
    if config.task == "lp":
        return models.LPModel(encoder, loss=config.loss, **extra)
    return models.NCModel(encoder, model_args["num_classes"], decoder=config.decoder,
                          loss=config.loss, **extra)


def method_kwargs(config: TrainConfig) -> dict:
    """The schedule options that apply to ``config.method`` and were set explicitly."""
    applies = {"full": (), "lora": (), "relora": ("steps_per_iteration", "warmup_steps"),
               "sst": ("steps_per_iteration", "iterations_per_round", "warmup_steps",
                       "uniform_mix")}[config.method]
    return {k: getattr(config, k) for k in applies if getattr(config, k) is not None}


def convert_model(config: TrainConfig, model: torch.nn.Module) -> torch.nn.Module:
    import hypsst

    return hypsst.convert(model, config.method, config.rank, seed=config.seed,
                          **method_kwargs(config))


def rebuild_model(ckpt: dict) -> torch.nn.Module:
    """The converted model of a checkpoint (best.pt or checkpoint.pt), weights loaded."""
    config = TrainConfig.from_dict(ckpt["config"]).validate()
    model = build_model(config, ckpt["model_args"]).to(dtype=getattr(torch, config.dtype))
    model = convert_model(config, model)
    model.load_state_dict(ckpt["model"])
    return model


def setup(config: TrainConfig) -> Setup:
    """Seed, load, split, build, convert, make the optimizer (in that fixed order)."""
    import hypsst

    config = config.validate()
    device = resolve_device(config.device)
    dtype = getattr(torch, config.dtype)
    seed_everything(config.seed)
    graph = load_graph(config)
    split = make_split(config, graph)
    model_args = dict(in_features=int(graph.x.size(1)), num_nodes=int(graph.num_nodes),
                      num_classes=int(graph.num_classes))
    model = build_model(config, model_args).to(device=device, dtype=dtype)
    model = convert_model(config, model)
    optimizer = hypsst.make_optimizer(model, lr=config.lr, weight_decay=config.weight_decay,
                                      optimizer=config.optimizer)
    edge_index = split.message_edge_index if config.task == "lp" else graph.edge_index
    y = graph.y.to(device) if graph.y is not None else None
    return Setup(config, graph, split, model, optimizer, graph.x.to(device=device, dtype=dtype),
                 edge_index.to(device), y, model_args, device)


# ------------------------------------------------------------------------ RNG states
def rng_state(negatives: torch.Generator) -> dict:
    """All RNG states as tensors and plain types (loadable with weights_only=True)."""
    _, keys, pos, has_gauss, cached = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    state = {"torch": torch.get_rng_state(),
             "numpy": {"keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                       "has_gauss": int(has_gauss), "cached": float(cached)},
             "python": [version, list(internal), gauss_next],
             "negatives": negatives.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict, negatives: torch.Generator) -> None:
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    np.random.set_state(("MT19937", n["keys"].numpy().astype(np.uint32), n["pos"],
                         n["has_gauss"], n["cached"]))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))
    negatives.set_state(state["negatives"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


# ------------------------------------------------------------------------ task steps
def _train_loss(s: Setup, z: torch.Tensor, negatives: torch.Generator) -> torch.Tensor:
    if s.config.task == "lp":
        pos = s.split.train_pos.to(s.device)
        neg = s.split.train_negatives(pos.size(1) * s.config.neg_ratio, negatives)
        return s.model.loss(z, pos, neg.to(s.device))
    idx = s.split.train.to(s.device)
    return s.model.loss(z, idx, s.y[idx])


def _metrics(s: Setup, z: torch.Tensor, part: str) -> dict[str, float]:
    if s.config.task == "lp":
        pos = getattr(s.split, f"{part}_pos").to(s.device)
        neg = getattr(s.split, f"{part}_neg").to(s.device)
        values = s.model.metrics(z, pos, neg)
    else:
        idx = getattr(s.split, part).to(s.device)
        values = s.model.metrics(z, idx, s.y[idx])
    return {k: float(v) for k, v in values.items()}


def _embed(s: Setup) -> torch.Tensor:
    s.model.eval()
    with torch.no_grad():
        return s.model(s.x, s.edge_index)


# ----------------------------------------------------------------------- the run
class _Run:
    """State of one run in an output folder: the loop, checkpoints and outputs."""

    def __init__(self, s: Setup, out: Path, progress: bool):
        self.s, self.out, self.progress = s, out, progress
        self.negatives = torch.Generator().manual_seed(s.config.seed)
        self.epoch = 0                    # epochs completed
        self.best: dict | None = None     # {"epoch", "val", "test"}
        self._saved_epoch = 0             # epoch of the checkpoint on disk
        self.history: list[dict] = []
        self.train_time = 0.0
        self.epoch_times: list[float] = []
        self.best_state: dict | None = None   # best.pt content not yet on disk
        self.finished = False

    # ---- persistence
    def checkpoint(self) -> dict:
        return {"format": FORMAT, "config": self.s.config.to_dict(),
                "model_args": self.s.model_args, "epoch": self.epoch,
                "model": self.s.model.state_dict(), "optimizer": self.s.optimizer.state_dict(),
                "rng": rng_state(self.negatives), "best": self.best, "history": self.history,
                "train_time_s": self.train_time, "epoch_times": self.epoch_times,
                "finished": self.finished}

    def save(self) -> None:
        """best.pt (if changed), history.csv, then checkpoint.pt — each atomic, and never a
        state with NaN/Inf weights (the last good checkpoint stays)."""
        for name, p in self.s.model.state_dict().items():
            if torch.is_tensor(p) and p.is_floating_point() and not torch.isfinite(p).all():
                raise TrainingDiverged(f"weights {name} became NaN/Inf after epoch "
                                       f"{self.epoch}; last good checkpoint kept: "
                                       f"{self.out / 'checkpoint.pt'}")
        if self.best_state is not None:
            atomic_torch_save(self.best_state, self.out / "best.pt")
            self.best_state = None
        write_history(self.out / "history.csv", self.history)
        atomic_torch_save(self.checkpoint(), self.out / "checkpoint.pt")

    def restore(self, ckpt: dict) -> None:
        self.s.model.load_state_dict(ckpt["model"])
        self.s.optimizer.load_state_dict(ckpt["optimizer"])
        set_rng_state(ckpt["rng"], self.negatives)
        self.epoch = self._saved_epoch = ckpt["epoch"]
        self.best = ckpt["best"]
        self.history, self.train_time = ckpt["history"], ckpt["train_time_s"]
        self.epoch_times, self.finished = ckpt["epoch_times"], ckpt["finished"]

    # ---- the loop
    def train_epoch(self) -> float:
        s = self.s
        s.model.train()
        s.optimizer.zero_grad(set_to_none=True)
        z = s.model(s.x, s.edge_index)
        loss = _train_loss(s, z, self.negatives)
        if not torch.isfinite(loss):
            raise TrainingDiverged(
                f"loss is {loss.item()} at epoch {self.epoch + 1}; last good checkpoint "
                f"kept: {self.out / 'checkpoint.pt'} (epoch {self._saved_epoch})")
        loss.backward()
        if s.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(s.model.parameters(), s.config.grad_clip)
        s.optimizer.step()
        return float(loss.detach())

    def evaluate(self) -> dict[str, float]:
        s = self.s
        z = _embed(s)
        if not torch.isfinite(z).all():
            raise TrainingDiverged(
                f"the embeddings contain NaN/Inf at epoch {self.epoch}; last good checkpoint "
                f"kept: {self.out / 'checkpoint.pt'} (epoch {self._saved_epoch})")
        val = _metrics(s, z, "val")
        if s.model.has_improved(self.best["val"] if self.best else None, val):
            self.best = {"epoch": self.epoch, "val": val, "test": _metrics(s, z, "test")}
            self.best_state = {"format": FORMAT, "config": s.config.to_dict(),
                               "model_args": s.model_args, **self.best,
                               "model": copy.deepcopy(s.model.state_dict())}
            if s.config.dim == 2:  # for `hypsst plot`: the Poincare-disk picture
                self.best_state["embeddings"] = z.detach().cpu()
                c = getattr(getattr(s.model, "encoder", None), "manifold", None)
                c = getattr(c, "c", None)
                if c is not None:
                    self.best_state["c"] = float(c)
                if s.y is not None:
                    self.best_state["labels"] = s.y.cpu()
        return val

    def loop(self) -> None:
        from tqdm.auto import tqdm

        c = self.s.config
        main = self.s.model.main_metric
        last_save = time.monotonic()
        bar = tqdm(total=c.epochs, initial=self.epoch, disable=not self.progress,
                   desc=c.run_id().rsplit("-", 1)[0], unit="ep", leave=False, dynamic_ncols=True)
        every = max(1, c.epochs // 10)
        try:
            while self.epoch < c.epochs and not self.stopped():
                start = time.perf_counter()
                loss = self.train_epoch()
                self.epoch += 1
                row = {"epoch": self.epoch, "train_loss": loss}
                if self.epoch % c.eval_every == 0 or self.epoch == c.epochs:
                    row.update({f"val_{k}": v for k, v in self.evaluate().items()})
                elapsed = time.perf_counter() - start
                self.train_time += elapsed
                self.epoch_times.append(elapsed * 1e3)
                row["epoch_ms"] = elapsed * 1e3
                self.history.append(row)
                val = row.get(f"val_{main}")
                bar.set_postfix_str(f"loss {loss:.4f}" + ("" if val is None else
                                                         f" val {main} {val:.4f}"),
                                    refresh=False)
                bar.update(1)
                if not self.progress and self.epoch % every == 0:
                    best = self.best["val"][main] if self.best else float("nan")
                    log.info("epoch %d/%d  loss %.4f  best val %s %.4f", self.epoch,
                             c.epochs, loss, main, best)
                if time.monotonic() - last_save >= c.checkpoint_seconds:
                    self.save()
                    self._saved_epoch, last_save = self.epoch, time.monotonic()
        finally:
            bar.close()
        self.finished = True
        self.save()

    def stopped(self) -> bool:
        c = self.s.config
        since_best = self.epoch - (self.best["epoch"] if self.best else 0)
        return self.epoch >= c.min_epochs and since_best >= c.patience

    def metrics(self) -> dict:
        import hypsst

        c = self.s.config
        if self.best is None:
            raise TrainingDiverged("no validation evaluation happened (epochs < eval_every?)")
        report = hypsst.memory_report(self.s.model, self.s.optimizer)
        return {"task": c.task, "dataset": c.dataset, "model": c.model, "manifold": c.manifold,
                "method": c.method, "rank": None if c.method == "full" else c.rank,
                "seed": c.seed, "epochs_run": self.epoch, "best_epoch": self.best["epoch"],
                "stopped_early": self.epoch < c.epochs,
                "val": self.best["val"], "test": self.best["test"],
                "trainable_params": int(report["trainable_params"]),
                "optimizer_state_bytes": int(report["optimizer_state_bytes"]),
                "param_bytes": int(report["param_bytes"]),
                "train_time_s": round(self.train_time, 3),
                "epoch_time_ms": round(statistics.median(self.epoch_times), 3)
                if self.epoch_times else 0.0}


def write_history(path: Path, history: list[dict]) -> None:
    columns: list[str] = []
    for row in history:
        columns += [k for k in row if k not in columns]
    columns.sort(key=lambda k: k == "epoch_ms")  # epoch, train_loss, val_*, epoch_ms
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns or ["epoch"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    atomic_write_text(path, buffer.getvalue())


def load_checkpoint(path: Path) -> dict:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise HypsstError(f"no checkpoint to resume from: {path} does not exist") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise HypsstError(f"{path} is not a hypsst checkpoint (format {FORMAT})")
    return ckpt


def _check_same_run(config: TrainConfig, saved: dict, path: Path) -> None:
    now = config.to_dict()
    diff = [f"{k} {saved.get(k)!r} -> {now[k]!r}" for k in now
            if k not in _RESUMABLE_CHANGES and saved.get(k) != now[k]]
    if diff:
        raise HypsstError(f"options differ from the run in {path.parent} being resumed: "
                          f"{'; '.join(diff)}")


def run(config: TrainConfig, out: str | Path | None = None, resume: bool = False,
        progress: bool = True) -> dict:
    """Train one model; write the outputs of DESIGN.md "CLI" into ``out``; return metrics.

    ``resume=True`` continues the run in ``out`` from its ``checkpoint.pt`` (the config
    must match the saved one except device/checkpoint cadence). Raises HypsstError for bad
    options or data, TrainingDiverged for a NaN/Inf loss (checkpoints kept).
    """
    config = config.validate()
    out = Path(out) if out is not None else default_out(config)
    # geoopt's manifold maths is TorchScript; the optimizing executor re-compiles (fuses)
    # it after a few calls, which changes results in the last bits: a run resumed in a
    # fresh process would then not match an uninterrupted one. Plain execution is exact.
    with torch.jit.optimized_execution(False):
        return _run(config, out, resume, progress)


def _run(config: TrainConfig, out: Path, resume: bool, progress: bool) -> dict:
    ckpt = None
    if resume:
        ckpt = load_checkpoint(out / "checkpoint.pt")
        _check_same_run(config, ckpt["config"], out / "checkpoint.pt")
        if ckpt["finished"] and (out / "metrics.json").exists():
            log.info("run in %s already finished", out)
            return json.loads((out / "metrics.json").read_text())
    s = setup(config)
    r = _Run(s, out, progress)
    method = config.method if config.method == "full" else f"{config.method} (rank {config.rank})"
    log.info("%s: %d nodes, %d edges, %s + %s -> %s", s.graph.name, s.graph.num_nodes,
             s.graph.num_edges, config.model, method, out)
    if ckpt is not None:
        r.restore(ckpt)
        log.info("resuming from epoch %d", r.epoch)
    else:
        out.mkdir(parents=True, exist_ok=True)
        for stale in ("metrics.json", "best.pt"):
            (out / stale).unlink(missing_ok=True)
        atomic_write_json(out / "config.json", config.to_dict())
        r.save()  # epoch 0: a divergence at the first epoch still leaves a checkpoint
    r.loop()
    metrics = r.metrics()
    atomic_write_json(out / "metrics.json", metrics)
    return metrics


def summary_line(metrics: dict) -> str:
    main = "roc_auc" if metrics["task"] == "lp" else "f1"
    return (f"test {main} {metrics['test'][main]:.4f} (val {metrics['val'][main]:.4f}, best "
            f"epoch {metrics['best_epoch']}/{metrics['epochs_run']}, "
            f"{metrics['train_time_s']:.1f}s)")
