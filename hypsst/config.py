"""Configuration of one training run.

:class:`TrainConfig` holds every option of ``hypsst train``; each field's metadata carries
its help text (and choices), so the command-line parser, its ``--help`` and the README's
options table are all generated from this one place. :meth:`TrainConfig.validate` turns
bad or incompatible options into a :class:`~hypsst.errors.HypsstError` with one message
naming the problem and what is allowed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import HypsstError

TASKS = ("lp", "nc")
MODELS = ("hgcn", "hybonet", "hnn", "gcn", "mlp", "shallow")
MANIFOLDS = ("poincare", "lorentz", "euclidean")
METHODS = ("full", "lora", "relora", "sst")
SPLITS = ("default", "hgcn")
DTYPES = ("float32", "float64")
OPTIMIZERS = ("radam", "adam", "rsgd")
ACTS = ("relu", "elu", "leaky_relu", "tanh", "sigmoid", "none")
LOSSES = {"lp": ("bce", "margin"), "nc": ("ce", "margin")}
DECODERS = ("linear", "lorentz")

# Manifolds each model accepts; the first is its default.
MODEL_MANIFOLDS = {
    "hgcn": ("poincare", "lorentz", "euclidean"),
    "hybonet": ("lorentz",),
    "hnn": ("poincare", "lorentz", "euclidean"),
    "gcn": ("euclidean",),
    "mlp": ("euclidean",),
    "shallow": ("euclidean", "poincare", "lorentz"),
}

# Options that select what is learned and how; the rest (device, logging cadence) do not
# change the result and are left out of the run's identity hash.
_NOT_IN_HASH = ("device", "checkpoint_seconds", "preset")


def _opt(default, help: str, *, choices=None, group: str = "training", metavar=None):
    meta = {"help": help, "group": group}
    if choices is not None:
        meta["choices"] = choices
    if metavar is not None:
        meta["metavar"] = metavar
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class TrainConfig:
    """Every option of one run (``hypsst train``); defaults give the offline demo run."""

    # --- task and data
    task: str = _opt("lp", "task: link prediction or node classification", choices=TASKS,
                     group="task and data")
    dataset: str = _opt("synthetic-disease", "dataset name (see `hypsst data list`) or path "
                        "to an edge-list CSV", group="task and data", metavar="NAME|PATH")
    features: str = _opt("auto", "node features: 'auto' (the dataset's own, identity if it "
                         "has none), 'identity', or a .npy/.npz file", group="task and data",
                         metavar="auto|identity|FILE")
    labels: str | None = _opt(None, "node labels file for a dataset given as files",
                              group="task and data", metavar="FILE")
    data_root: str | None = _opt(None, "folder with dataset files (before $HYPSST_DATA and "
                                 "the user cache)", group="task and data", metavar="DIR")
    data_options: dict = _opt({}, "extra dataset/generator option KEY=VALUE, repeatable "
                              "(e.g. num_nodes=200 for synthetic-disease)",
                              group="task and data", metavar="KEY=VALUE")
    split: str = _opt("default", "link split: 'default' leak-free, 'hgcn' the reference "
                      "code's split (to compare with published numbers); lp only",
                      choices=SPLITS, group="task and data")
    val_frac: float | None = _opt(None, "validation fraction (edges for lp, nodes for nc); "
                                  "default: the dataset's usual value", group="task and data")
    test_frac: float | None = _opt(None, "test fraction (edges for lp, nodes for nc); "
                                   "default: the dataset's usual value", group="task and data")
    # --- model
    model: str = _opt("hgcn", "encoder", choices=MODELS, group="model")
    manifold: str | None = _opt(None, "output manifold of the encoder; default: the model's "
                                "own (hgcn/hnn poincare, hybonet lorentz, gcn/mlp/shallow "
                                "euclidean)", choices=MANIFOLDS, group="model")
    c: float = _opt(1.0, "curvature magnitude (sectional curvature -c)", group="model")
    learn_c: bool = _opt(False, "train the curvature (per layer where the model has one)",
                         group="model")
    dim: int = _opt(16, "embedding dimension", group="model")
    layers: int = _opt(2, "number of encoder layers", group="model")
    act: str = _opt("relu", "activation", choices=ACTS, group="model")
    dropout: float = _opt(0.0, "dropout probability", group="model")
    bias: bool = _opt(True, "use biases in the layers", group="model")
    loss: str | None = _opt(None, "loss ('margin' is HyboNet's); default: bce for lp, ce for nc",
                            choices=("bce", "ce", "margin"), group="model")
    margin: float | None = _opt(None, "margin of the margin loss (default: the task model's)",
                                group="model")
    decoder: str | None = _opt(None, "nc decoder; default: lorentz for hybonet, else linear",
                               choices=DECODERS, group="model")
    # --- parameterization (the SST part)
    method: str = _opt("sst", "how weight matrices train: full-rank, LoRA, ReLoRA* or "
                       "Sparse Spectral Training", choices=METHODS, group="method")
    rank: int = _opt(2, "rank r (trainable singular-vector pairs for sst; ignored by full)",
                     group="method")
    steps_per_iteration: int | None = _opt(None, "sst/relora: steps between resamples/merges "
                                           "(T3); default: hypsst's", group="method")
    iterations_per_round: int | None = _opt(None, "sst: iterations between re-SVDs (T2); "
                                            "default: hypsst's", group="method")
    warmup_steps: int | None = _opt(None, "sst/relora: LR warm-up steps after each "
                                    "resample/merge; default: hypsst's", group="method")
    uniform_mix: float | None = _opt(None, "sst: share of uniform sampling beta in [0, 1]; "
                                     "default: hypsst's", group="method")
    # --- optimisation
    optimizer: str = _opt("radam", "optimizer (radam = geoopt RiemannianAdam)",
                          choices=OPTIMIZERS)
    lr: float = _opt(0.01, "learning rate")
    weight_decay: float = _opt(0.0, "weight decay")
    grad_clip: float | None = _opt(None, "clip the gradient norm to this value")
    epochs: int = _opt(1000, "maximum number of epochs (full-batch: one step each)")
    patience: int = _opt(100, "stop after this many epochs without a better validation "
                         "metric")
    min_epochs: int = _opt(100, "never stop early before this many epochs")
    eval_every: int = _opt(1, "evaluate on the validation set every N epochs")
    neg_ratio: int = _opt(1, "lp: sampled negative edges per positive edge each epoch")
    seed: int = _opt(0, "seed of everything: weights, split, negative sampling, SST sampling")
    # --- runtime
    dtype: str = _opt("float32", "floating-point type", choices=DTYPES, group="runtime")
    device: str = _opt("auto", "torch device ('auto': cuda if available, else cpu)",
                       group="runtime")
    checkpoint_seconds: float = _opt(5.0, "write checkpoint.pt at least this often "
                                     "(seconds)", group="runtime")
    preset: str | None = _opt(None, "named hyper-parameter set (see `hypsst train "
                              "--list-presets`); explicit options override it",
                              group="runtime", metavar="NAME")

    # ------------------------------------------------------------------ helpers
    @classmethod
    def option_fields(cls) -> list[dataclasses.Field]:
        return list(dataclasses.fields(cls))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise HypsstError(f"unknown option(s) {', '.join(unknown)}; allowed: "
                              f"{', '.join(sorted(names))}")
        return cls(**values)

    def replace(self, **changes) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def run_id(self) -> str:
        """Short readable name plus a hash of every result-relevant option."""
        values = {k: v for k, v in self.to_dict().items() if k not in _NOT_IN_HASH}
        digest = hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:8]
        rank = "" if self.method == "full" else f"-r{self.rank}"
        name = Path(self.dataset).stem if _looks_like_path(self.dataset) else self.dataset
        return f"{self.task}-{name}-{self.model}-{self.method}{rank}-s{self.seed}-{digest}"

    # --------------------------------------------------------------- validation
    def validate(self) -> "TrainConfig":
        """Check every option; return a copy with model-dependent defaults filled in."""
        _choice("task", self.task, TASKS)
        _choice("model", self.model, MODELS)
        _choice("method", self.method, METHODS)
        _choice("split", self.split, SPLITS)
        _choice("dtype", self.dtype, DTYPES)
        _choice("optimizer", self.optimizer, OPTIMIZERS)
        _choice("act", self.act, ACTS)
        allowed = MODEL_MANIFOLDS[self.model]
        manifold = self.manifold if self.manifold is not None else allowed[0]
        _choice("manifold", manifold, MANIFOLDS)
        if manifold not in allowed:
            only = "is lorentz-only" if allowed == ("lorentz",) else \
                f"supports only {', '.join(allowed)}"
            raise HypsstError(f"model {self.model!r} {only}; got --manifold {manifold}")
        loss = self.loss if self.loss is not None else LOSSES[self.task][0]
        if loss not in LOSSES[self.task]:
            raise HypsstError(f"loss {loss!r} does not apply to task {self.task!r}; "
                              f"allowed: {', '.join(LOSSES[self.task])}")
        decoder = self.decoder
        if self.task == "nc" and decoder is None:
            decoder = "lorentz" if self.model == "hybonet" else "linear"
        if self.task == "lp" and decoder is not None:
            raise HypsstError("--decoder applies to task nc only (lp uses the Fermi-Dirac "
                              "distance decoder)")
        if decoder == "lorentz" and manifold != "lorentz":
            raise HypsstError(f"--decoder lorentz needs --manifold lorentz; got {manifold}")
        _int_at_least("dim", self.dim, 1)
        _int_at_least("layers", self.layers, 1)
        if not isinstance(self.rank, int) or isinstance(self.rank, bool) \
                or not 1 <= self.rank <= self.dim:
            raise HypsstError(f"rank must be an integer in 1..{self.dim} (the dimension "
                              f"--dim); got {self.rank!r}")
        for name in ("steps_per_iteration", "iterations_per_round", "warmup_steps"):
            value = getattr(self, name)
            if value is not None:
                _int_at_least(name, value, 0 if name == "warmup_steps" else 1)
        if self.uniform_mix is not None and not 0.0 <= self.uniform_mix <= 1.0:
            raise HypsstError(f"uniform_mix must be in [0, 1]; got {self.uniform_mix}")
        if not 0.0 <= self.dropout < 1.0:
            raise HypsstError(f"dropout must be in [0, 1); got {self.dropout}")
        _positive("lr", self.lr)
        _positive("c", self.c)
        if self.weight_decay < 0:
            raise HypsstError(f"weight_decay must be >= 0; got {self.weight_decay}")
        if self.grad_clip is not None:
            _positive("grad_clip", self.grad_clip)
        if self.margin is not None:
            _positive("margin", self.margin)
        for name in ("val_frac", "test_frac"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value < 1.0:
                raise HypsstError(f"{name} must be in (0, 1); got {value}")
        if (self.val_frac or 0.0) + (self.test_frac or 0.0) >= 1.0:
            raise HypsstError("val_frac + test_frac must be below 1")
        _int_at_least("epochs", self.epochs, 1)
        _int_at_least("patience", self.patience, 1)
        _int_at_least("min_epochs", self.min_epochs, 0)
        _int_at_least("eval_every", self.eval_every, 1)
        _int_at_least("neg_ratio", self.neg_ratio, 1)
        _int_at_least("seed", self.seed, 0)
        _positive("checkpoint_seconds", self.checkpoint_seconds)
        if self.task == "nc" and self.split != "default":
            raise HypsstError("--split hgcn applies to link prediction (lp) only")
        if not isinstance(self.data_options, dict):
            raise HypsstError("data_options must be a mapping of option names to values")
        return self.replace(manifold=manifold, loss=loss, decoder=decoder)


def _looks_like_path(name: str) -> bool:
    return "/" in name or "\\" in name or name.endswith((".csv", ".txt", ".tsv"))


def _choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise HypsstError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")


def _int_at_least(name: str, value, low: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise HypsstError(f"{name} must be an integer >= {low}; got {value!r}")


def _positive(name: str, value) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise HypsstError(f"{name} must be a number > 0; got {value!r}")
