"""``hypsst plot``: PNG figures of runs (``hypsst train --out``) or of a bench folder.

* ``curves*.png``: train loss and validation main metric per epoch (history.csv), one line
  per run.
* ``spectra*.png``: singular values σ₁ ≥ σ₂ ≥ … of every layer's effective weight at the
  best epoch (``best.pt``; the SST/LoRA layers merged to dense with ``hypsst.merge``,
  then ``torch.linalg.svdvals``), one panel per layer, one line per run: full-rank vs SST
  vs LoRA shows how SST keeps the whole spectrum trainable where LoRA adds rank r to a
  frozen initial weight.
* ``embeddings*.png``: for 2-D runs, the node embeddings in the Poincaré disk coloured by
  label. Poincaré points y (ball of radius 1/√c) are scaled by √c to the unit disk;
  hyperboloid points x (x₀² − |x_s|² = 1/c) map by the isometry y = √c·x_s / (1 + √c·x₀);
  Euclidean 2-D embeddings are drawn as they are (no disk).

A bench folder (``results.csv`` + ``runs/``) gets one set of figures per (task, dataset,
model), overlaying its methods and ranks at the smallest seed.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import torch

from .errors import HypsstError
from .io import atomic_write_bytes


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # no pyplot: no global backend state, Agg canvas

    return Figure(figsize=(width, height), dpi=110)


def _save(fig, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return atomic_write_bytes(path, buffer.getvalue())


def _label(run: Path) -> str:
    config = _config(run)
    if config is None:
        return run.name
    rank = "" if config["method"] == "full" else f" r{config['rank']}"
    return f"{config['model']} {config['method']}{rank} s{config['seed']}"


def _labels(runs: list[Path]) -> list[str]:
    """One legend label per run; the folder name disambiguates equal descriptions."""
    labels = [_label(run) for run in runs]
    return [f"{label} ({run.name})" if labels.count(label) > 1 else label
            for label, run in zip(labels, runs)]


def _config(run: Path) -> dict | None:
    path = run / "config.json"
    return json.loads(path.read_text()) if path.exists() else None


def _history(run: Path) -> list[dict]:
    with open(run / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


def plot_curves(runs: list[Path], path: Path) -> Path:
    fig = _figure(10, 3.6)
    loss_ax, val_ax = fig.subplots(1, 2)
    histories = [_history(run) for run in runs]
    # the main validation metric of each run (lp: roc_auc, nc: f1)
    keys = [next((k for k in ("val_roc_auc", "val_f1") if rows and k in rows[0]), None)
            for rows in histories]
    mixed = len(set(keys)) > 1
    for rows, key, label in zip(histories, keys, _labels(runs)):
        if not rows:
            continue
        loss_ax.plot([int(r["epoch"]) for r in rows], [float(r["train_loss"]) for r in rows],
                     label=label, lw=1)
        points = [(int(r["epoch"]), float(r[key])) for r in rows if key and r.get(key)]
        if points:
            val_ax.plot(*zip(*points), label=f"{label} [{key[4:]}]" if mixed else label, lw=1)
    shown = "main metric" if mixed or keys[0] is None else keys[0][4:]
    loss_ax.set(xlabel="epoch", ylabel="train loss", title="training loss")
    val_ax.set(xlabel="epoch", ylabel=f"validation {shown}", title="validation")
    val_ax.legend(fontsize=7)
    return _save(fig, path)


def layer_spectra(run: Path) -> dict[str, torch.Tensor]:
    """Singular values of each layer's effective (dense) weight at the best epoch."""
    import hypsst
    from . import train

    ckpt_path = run / "best.pt" if (run / "best.pt").exists() else run / "checkpoint.pt"
    ckpt = train.load_checkpoint(ckpt_path)
    model = hypsst.merge(train.rebuild_model(ckpt))
    return {name: torch.linalg.svdvals(m.weight.detach().double()).float()
            for name, m in model.named_modules() if isinstance(m, torch.nn.Linear)}


def plot_spectra(runs: list[Path], path: Path) -> Path:
    spectra = [(label, layer_spectra(run)) for run, label in zip(runs, _labels(runs))]
    layers = list(dict.fromkeys(name for _, s in spectra for name in s))
    if not layers:
        raise HypsstError("no linear layers to plot a spectrum of")
    cols = min(3, len(layers))
    rows = -(-len(layers) // cols)
    fig = _figure(4.2 * cols, 3.2 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, layer in zip(axes, layers):
        for label, s in spectra:
            if layer in s:
                values = s[layer].numpy()
                ax.plot(range(1, len(values) + 1), values, marker=".", lw=1, label=label)
        ax.set(title=layer, xlabel="index i", ylabel="singular value σᵢ", yscale="log")
    for ax in axes[len(layers):]:
        ax.axis("off")
    axes[0].legend(fontsize=7)
    return _save(fig, path)


def disk_coordinates(z: torch.Tensor, manifold: str, c: float) -> torch.Tensor:
    """2-D embeddings to unit-disk coordinates (see the module docstring)."""
    z = z.double()
    if manifold == "lorentz":
        s = torch.as_tensor(float(c), dtype=z.dtype).sqrt()
        return s * z[:, 1:] / (1 + s * z[:, :1])
    if manifold == "poincare":
        return z * float(c) ** 0.5
    return z


def plot_embeddings(run: Path, path: Path) -> Path | None:
    best = run / "best.pt"
    if not best.exists():
        return None
    ckpt = torch.load(best, map_location="cpu", weights_only=True)
    if "embeddings" not in ckpt:
        return None
    config = ckpt["config"]
    xy = disk_coordinates(ckpt["embeddings"], config["manifold"], ckpt.get("c", config["c"]))
    fig = _figure(5, 5)
    ax = fig.subplots()
    labels = ckpt.get("labels")
    ax.scatter(xy[:, 0].numpy(), xy[:, 1].numpy(), s=6,
               c=None if labels is None else labels.numpy(), cmap="tab10", linewidths=0)
    if config["manifold"] != "euclidean":
        from matplotlib.patches import Circle

        ax.add_patch(Circle((0, 0), 1.0, fill=False, lw=1, color="black"))
        ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05))
        ax.axis("off")
    ax.set_aspect("equal")
    ax.set_title(f"{_label(run)}: {config['dataset']} (epoch {ckpt['epoch']})", fontsize=9)
    return _save(fig, path)


def _is_run(path: Path) -> bool:
    return (path / "history.csv").exists() and (path / "config.json").exists()


def _bench_groups(folder: Path) -> dict[str, list[Path]]:
    """Run folders of a bench results folder, grouped by task-dataset-model, smallest seed."""
    runs = sorted(p for p in (folder / "runs").iterdir() if _is_run(p))
    groups: dict[str, list[Path]] = {}
    configs = {run: _config(run) for run in runs}
    for run, cfg in configs.items():
        key = f"{cfg['task']}-{Path(cfg['dataset']).stem}-{cfg['model']}"
        seed = min(c["seed"] for r, c in configs.items()
                   if f"{c['task']}-{Path(c['dataset']).stem}-{c['model']}" == key)
        if cfg["seed"] == seed:
            groups.setdefault(key, []).append(run)
    return groups


def plot(paths: list[str | Path], out: str | Path | None = None) -> list[Path]:
    """Write the figures for run folders or one bench folder; return the PNG paths."""
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_dir():
            raise HypsstError(f"{p}: not a folder (give run folders or a bench results folder)")
    out = Path(out) if out is not None else paths[0] / "plots"
    if len(paths) == 1 and (paths[0] / "runs").is_dir():
        groups = _bench_groups(paths[0])
    else:
        bad = [str(p) for p in paths if not _is_run(p)]
        if bad:
            raise HypsstError(f"not a run folder (no history.csv/config.json): {', '.join(bad)}")
        groups = {"": paths}
    if not groups:
        raise HypsstError(f"{paths[0]}: no finished runs to plot")
    written = []
    for key, runs in groups.items():
        suffix = f"-{key}" if key else ""
        written.append(plot_curves(runs, out / f"curves{suffix}.png"))
        written.append(plot_spectra(runs, out / f"spectra{suffix}.png"))
        for run in runs:
            name = f"embeddings-{run.name}.png" if len(runs) > 1 or key else "embeddings.png"
            picture = plot_embeddings(run, out / name)
            if picture is not None:
                written.append(picture)
    return written
