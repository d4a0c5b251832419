"""``hypsst bench``: a grid of training runs from a TOML file, with a results table.

Grid file (benchmarks/configs/*.toml)::

    name = "lp-hgcn-split"          # optional; default: the file's stem
    use_presets = true              # use each cell's REFERENCE.md preset, if it has one
    [grid]                          # the cells: the product of these lists
    tasks = ["lp"]
    datasets = ["disease_lp", "airport", "cora"]
    models = ["hgcn", "hybonet"]
    methods = ["full", "lora", "relora", "sst"]   # "full" ignores ranks (one cell)
    ranks = [1, 2]
    seeds = [0, 1, 2, 3, 4]
    [defaults]                      # options for cells the preset does not set
    epochs = 5000
    [options]                       # fixed hypsst-train options for every cell
    split = "hgcn"
    [dataset.disease_nc]            # options for one dataset ...
    features = "identity"
    [model.hybonet]                 # ... or one model

Precedence, lowest first: [defaults], the preset, [options], [dataset.X], [model.X], and
the cell's own task/dataset/model/method/rank/seed.

Every cell runs through :func:`hypsst.train.run` (the ``hypsst train`` code path) in
``OUT/runs/<cell>/``. A cell whose ``metrics.json`` exists with the same options is not run
again; one with a checkpoint resumes, so an interrupted grid continues where it stopped.
``OUT/results.csv`` holds one row per run (rewritten as runs finish); ``OUT/results.md``
the mean ± std over seeds per cell, the published number beside full-rank rows, for SST
the share of the low-rank → full gap it closes, (SST − LoRA)/(full − LoRA) at the same
rank, and trainable parameters, optimizer-state bytes and the median epoch time.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import logging
import os
import statistics
import tomllib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from . import presets
from .config import TrainConfig
from .errors import HypsstError, TrainingDiverged
from .io import atomic_write_text

log = logging.getLogger("hypsst.bench")

_GRID_KEYS = ("tasks", "datasets", "models", "methods", "ranks", "seeds")
_TOP_KEYS = ("name", "use_presets", "grid", "defaults", "options", "dataset", "model")
METRIC_COLUMNS = ("status", "epochs_run", "best_epoch", "trainable_params",
                  "optimizer_state_bytes", "param_bytes", "train_time_s", "epoch_time_ms")
CELL_COLUMNS = ("cell", "task", "dataset", "features", "model", "method", "rank", "seed")


@dataclass
class Cell:
    name: str
    config: TrainConfig

    @property
    def key(self) -> dict[str, Any]:
        c = self.config
        return {"cell": self.name, "task": c.task, "dataset": c.dataset,
                "features": c.features, "model": c.model,
                "method": c.method, "rank": "" if c.method == "full" else c.rank,
                "seed": c.seed}


def find_config(name: str | os.PathLike) -> Path:
    """A TOML path, or a name in benchmarks/configs/ (with or without .toml)."""
    path = Path(name)
    candidates = [path, Path("benchmarks/configs") / path,
                  Path("benchmarks/configs") / f"{path}.toml"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise HypsstError(f"bench config {str(name)!r} not found (give a .toml path or a name in "
                      f"benchmarks/configs/)")


def load_grid(path: str | os.PathLike, seeds: list[int] | None = None) -> tuple[str, list[Cell]]:
    """Parse and validate a grid file; every cell's options are checked before any run.

    ``seeds`` replaces the file's seed list (a partial run of a committed grid)."""
    path = find_config(path)
    try:
        spec = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise HypsstError(f"{path}: not valid TOML: {exc}") from None
    unknown = sorted(set(spec) - set(_TOP_KEYS))
    if unknown:
        raise HypsstError(f"{path}: unknown key(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(_TOP_KEYS)}")
    grid = spec.get("grid", {})
    missing = [k for k in _GRID_KEYS if not grid.get(k)]
    extra = sorted(set(grid) - set(_GRID_KEYS))
    if missing or extra:
        raise HypsstError(f"{path}: [grid] needs non-empty lists {', '.join(_GRID_KEYS)}"
                          + (f" (missing {', '.join(missing)})" if missing else "")
                          + (f" (unknown {', '.join(extra)})" if extra else ""))
    if seeds is not None:
        if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
            raise HypsstError(f"seeds must be a non-empty list of integers; got {seeds!r}")
        grid = {**grid, "seeds": list(seeds)}
    cells, seen = [], set()
    for task, dataset, model, method, rank, seed in itertools.product(
            *(grid[k] for k in _GRID_KEYS)):
        values: dict[str, Any] = dict(spec.get("defaults", {}))
        preset = presets.find(model, task, dataset) if spec.get("use_presets") else None
        if preset:
            values.update(presets.get(preset), preset=preset)
        values.update(spec.get("options", {}))
        values.update(spec.get("dataset", {}).get(dataset, {}))
        values.update(spec.get("model", {}).get(model, {}))
        values.update(task=task, dataset=dataset, model=model, method=method, seed=seed,
                      rank=rank)
        name = (f"{task}-{Path(dataset).stem}-{model}-{method}"
                + ("" if method == "full" else f"-r{rank}") + f"-s{seed}")
        if name in seen:  # full-rank ignores the rank: one cell
            continue
        seen.add(name)
        try:
            config = TrainConfig.from_dict(values).validate()
        except HypsstError as exc:
            raise HypsstError(f"{path}: cell {name}: {exc}") from None
        cells.append(Cell(name, config))
    return spec.get("name", path.stem), cells


def _same_config(config: dict, out: Path) -> bool:
    saved = out / "config.json"
    return saved.exists() and json.loads(saved.read_text()) == config


def _finished_result(config: dict, out: Path) -> dict | None:
    """The result of a cell already run to the end with this very config, else None."""
    if _same_config(config, out) and (out / "metrics.json").exists():
        return {"status": "done", **json.loads((out / "metrics.json").read_text())}
    return None


def _run_cell(config: dict, out: str, threads: int | None, progress: bool = False) -> dict:
    """Run (or resume, or skip) one cell; never raises for a failed run. ``progress``:
    the run's own progress bar (serial grids only: parallel bars would interleave)."""
    from . import train

    if threads:
        import torch

        torch.set_num_threads(threads)
    out_path = Path(out)
    done = _finished_result(config, out_path)
    if done is not None:
        return done
    resume = _same_config(config, out_path) and (out_path / "checkpoint.pt").exists()
    try:
        return {"status": "done", **train.run(TrainConfig.from_dict(config), out=out_path,
                                              resume=resume, progress=progress)}
    except TrainingDiverged as exc:
        return {"status": "diverged", "error": str(exc)}
    except HypsstError as exc:
        return {"status": "error", "error": str(exc)}
    except Exception as exc:  # a bug in one cell must not abort a grid of hundreds
        return {"status": "error", "error": f"{type(exc).__name__}: {exc}"}


def _row(cell: Cell, result: dict) -> dict:
    row = dict(cell.key)
    row.update({k: result.get(k, "") for k in METRIC_COLUMNS})
    for part in ("val", "test"):
        for metric, value in sorted(result.get(part, {}).items()):
            row[f"{part}_{metric}"] = value
    row["error"] = result.get("error", "")
    return row


def write_csv(path: Path, rows: list[dict]) -> None:
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    columns = [c for c in columns if c != "error"] + ["error"]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def run_grid(config: str | os.PathLike, out: str | os.PathLike | None = None, jobs: int = 1,
             progress: bool = True, seeds: list[int] | None = None,
             report_only: bool = False, quiet: bool = False) -> list[dict]:
    """Run every cell of a grid file (``jobs`` in parallel); write results.csv/.md.
    ``seeds`` overrides the file's seeds (see :func:`load_grid`); ``report_only`` runs
    nothing and writes the tables from the cells already finished. Output: one line per
    finished cell, plus (``progress``, serial grids) each run's progress bar and the
    result paths; ``quiet`` keeps the per-cell lines only; ``progress=False`` and not
    ``quiet`` prints nothing (for library use)."""
    name, cells = load_grid(config, seeds)
    if not isinstance(jobs, int) or jobs < 1:
        raise HypsstError(f"--jobs must be an integer >= 1; got {jobs!r}")
    out = Path(out) if out is not None else Path("benchmarks/results") / name
    out.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}

    def finished(cell: Cell, result: dict) -> None:
        results[cell.name] = result
        if progress or quiet:
            main = "roc_auc" if cell.config.task == "lp" else "f1"
            shown = f"test {main} {result['test'][main]:.4f}" if result["status"] == "done" \
                else f"{result['status']}: {result['error']}"
            print(f"[{len(results)}/{len(cells)}] {cell.name}: {shown}", flush=True)
        rows = [_row(c, results[c.name]) for c in cells if c.name in results]
        write_csv(out / "results.csv", rows)

    args = [(c, (c.config.to_dict(), str(out / "runs" / c.name))) for c in cells]
    if report_only:
        found = [(c, _finished_result(cfg, Path(run_dir))) for c, (cfg, run_dir) in args]
        cells = [c for c, result in found if result is not None]
        results.update((c.name, result) for c, result in found if result is not None)
        if not cells:
            raise HypsstError(f"no finished cell of {name!r} in {out / 'runs'}")
    elif jobs == 1:
        for cell, (cfg, run_dir) in args:
            finished(cell, _run_cell(cfg, run_dir, None, progress and not quiet))
    else:
        threads = max(1, (os.cpu_count() or 1) // jobs)
        with ProcessPoolExecutor(jobs, mp_context=get_context("spawn")) as pool:
            futures = {pool.submit(_run_cell, cfg, run_dir, threads): cell
                       for cell, (cfg, run_dir) in args}
            for future in as_completed(futures):
                finished(futures[future], future.result())
    rows = [_row(c, results[c.name]) for c in cells]
    write_csv(out / "results.csv", rows)
    atomic_write_text(out / "results.md", markdown(name, rows))
    if progress and not quiet:
        print(f"results in {out / 'results.md'} and {out / 'results.csv'}")
    return rows


# ------------------------------------------------------------------- results table
def _main_metric(task: str) -> str:
    return "roc_auc" if task == "lp" else "f1"


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def summarize(rows: list[dict]) -> list[dict]:
    """One entry per (task, dataset, model, method, rank) over its finished seeds."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        features = row.get("features", "auto")
        dataset = row["dataset"] if features in ("auto", "", None) else \
            f"{row['dataset']} ({Path(features).name} features)"
        key = (row["task"], dataset, row["model"], row["method"], row["rank"])
        groups.setdefault(key, []).append(row)
    summary = []
    for (task, dataset, model, method, rank), members in groups.items():
        done = [r for r in members if r["status"] == "done"]
        main = _main_metric(task)
        scores = [100 * float(r[f"test_{main}"]) for r in done]
        entry = dict(task=task, dataset=dataset, model=model, method=method, rank=rank,
                     runs=len(members), done=len(done), main=main,
                     mean=None, std=None, trainable_params=None, optimizer_state_bytes=None,
                     epoch_time_ms=None)
        if done:
            entry["mean"], entry["std"] = _mean_std(scores)
            entry["trainable_params"] = int(statistics.median(
                int(r["trainable_params"]) for r in done))
            entry["optimizer_state_bytes"] = int(statistics.median(
                int(r["optimizer_state_bytes"]) for r in done))
            entry["epoch_time_ms"] = statistics.median(float(r["epoch_time_ms"]) for r in done)
        summary.append(entry)
    by_key = {(e["task"], e["dataset"], e["model"], e["method"], e["rank"]): e for e in summary}
    for e in summary:
        e["published"] = presets.published(e["model"], e["task"], e["dataset"].split()[0]) \
            if e["method"] == "full" else None
        e["gap_lora"] = e["gap_best"] = None
        if e["method"] != "sst" or e["mean"] is None:
            continue
        full = by_key.get((e["task"], e["dataset"], e["model"], "full", ""))
        lora = by_key.get((e["task"], e["dataset"], e["model"], "lora", e["rank"]))
        relora = by_key.get((e["task"], e["dataset"], e["model"], "relora", e["rank"]))
        e["gap_lora"] = gap_closed(e, full, lora)
        lows = [x for x in (lora, relora) if x is not None and x["mean"] is not None]
        best = max(lows, key=lambda x: x["mean"]) if lows else None
        e["gap_best"] = gap_closed(e, full, best)
    return summary


def gap_closed(sst: dict, full: dict | None, low: dict | None) -> float | None:
    """(SST − low-rank) / (full − low-rank) on the mean test metric (in %); None where
    undefined: a missing cell, or no gap to close (low-rank reaches full-rank, up to
    rounding, or beats it — the ratio's sign would then flip)."""
    if not full or not low or full["mean"] is None or low["mean"] is None \
            or full["mean"] - low["mean"] < 1e-9:
        return None
    return (sst["mean"] - low["mean"]) / (full["mean"] - low["mean"])


def _fmt(value, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def _wide_tables(summary: list[dict]) -> list[str]:
    """Per task, the paper-style view: one row per model/method/rank, one column per
    dataset; a *published* row per model and a *gap closed* row per SST rank."""
    lines = []
    for task in dict.fromkeys(e["task"] for e in summary):
        entries = [e for e in summary if e["task"] == task]
        datasets = list(dict.fromkeys(e["dataset"] for e in entries))
        cell = {(e["model"], e["method"], e["rank"], e["dataset"]): e for e in entries}
        lines += ["", f"## {task}: test % by dataset", "",
                  "| model | method | rank | " + " | ".join(datasets) + " |",
                  "|" + "---|" * (3 + len(datasets))]
        for model in dict.fromkeys(e["model"] for e in entries):
            published = [presets.published(model, task, d.split()[0]) for d in datasets]
            if any(p is not None for p in published):
                lines.append(f"| {model} | published | – | "
                             + " | ".join(_fmt(p, ".1f") for p in published) + " |")
            keys = dict.fromkeys((e["method"], e["rank"]) for e in entries if e["model"] == model)
            for method, rank in keys:
                values = []
                for d in datasets:
                    e = cell.get((model, method, rank, d))
                    values.append("–" if e is None or e["mean"] is None
                                  else f"{e['mean']:.1f} ± {e['std']:.1f}")
                shown = rank if rank != "" else "–"
                lines.append(f"| {model} | {method} | {shown} | " + " | ".join(values) + " |")
                if method == "sst":
                    gaps = [cell.get((model, method, rank, d), {}).get("gap_lora") for d in datasets]
                    lines.append(f"| {model} | sst gap closed vs LoRA | {shown} | "
                                 + " | ".join("–" if g is None else f"{100 * g:.0f}%"
                                              for g in gaps) + " |")
    return lines


def markdown(name: str, rows: list[dict]) -> str:
    lines = [f"# Benchmark `{name}`", "",
             "Test metric in % (lp: ROC-AUC, nc: F1 — binary on Disease, micro otherwise), "
             "mean ± std over seeds at the best validation epoch. *published*: the paper's "
             "full-rank number (REFERENCE.md). *gap closed*: (SST − LoRA) / (full − LoRA) at "
             "the same rank; *vs best*: against the better of LoRA and ReLoRA*. Memory and "
             "time: median over seeds.", ""]
    header = ("| task | dataset | model | method | rank | test % | published | gap closed | "
              "vs best | trainable params | optimizer-state bytes | epoch ms | runs |")
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for e in summarize(rows):
        score = "–" if e["mean"] is None else f"{e['mean']:.1f} ± {e['std']:.1f}"
        lines.append(
            f"| {e['task']} | {e['dataset']} | {e['model']} | {e['method']} | "
            f"{e['rank'] if e['rank'] != '' else '–'} | {score} | {_fmt(e['published'], '.1f')} | "
            f"{_fmt(None if e['gap_lora'] is None else 100 * e['gap_lora'], '.0f')}"
            f"{'' if e['gap_lora'] is None else '%'} | "
            f"{_fmt(None if e['gap_best'] is None else 100 * e['gap_best'], '.0f')}"
            f"{'' if e['gap_best'] is None else '%'} | "
            f"{_fmt(e['trainable_params'], 'd')} | {_fmt(e['optimizer_state_bytes'], 'd')} | "
            f"{_fmt(e['epoch_time_ms'], '.1f')} | {e['done']}/{e['runs']} |")
    lines += _wide_tables(summarize(rows))
    failed = [r for r in rows if r["status"] != "done"]
    if failed:
        lines += ["", "Runs that did not finish:", ""]
        lines += [f"- `{r['cell']}`: {r['status']}: {r['error']}" for r in failed]
    return "\n".join(lines) + "\n"
