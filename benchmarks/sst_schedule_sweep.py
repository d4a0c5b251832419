"""The recorded SST schedule sweep (DESIGN.md): T3, warm-up, β and T2 around the defaults
in ``hypsst.sst.SSTConfig``, several seeds, ranked by mean validation metric (not a
test: run by hand, results committed to results/sst_schedule_sweep.{md,csv}).

Every run goes through ``hypsst.train.run`` (the ``hypsst train`` code path) from a
preset with ``--method sst``; a run whose metrics.json exists in the work folder is not
run again, so an interrupted sweep continues.

    python benchmarks/sst_schedule_sweep.py [--presets hgcn-lp-cora hgcn-lp-disease]
        [--seeds 0 1 2] [--rank 2] [--work /tmp/hypsst-sweep]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path

import torch

from hypsst import presets
from hypsst.config import TrainConfig
from hypsst.io import atomic_write_text
from hypsst.train import run

# (T3 steps per iteration, warm-up steps, β uniform mix, T2 iterations per round or None
# for the default ⌈k/r⌉); the first row is the default.
SETTINGS = [(20, 5, 0.0, None), (5, 5, 0.0, None), (5, 0, 0.0, None), (20, 0, 0.0, None),
            (50, 5, 0.0, None), (100, 5, 0.0, None), (20, 5, 0.5, None), (20, 5, 1.0, None),
            (20, 5, 0.0, 2), (20, 5, 0.0, 32)]


def setting_name(t3, warmup, beta, t2) -> str:
    return f"T3={t3}-w={warmup}-b={beta:g}-T2={'def' if t2 is None else t2}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presets", nargs="+", default=["hgcn-lp-cora", "hgcn-lp-disease"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--rank", type=int, default=2)
    ap.add_argument("--split", default="hgcn")
    ap.add_argument("--work", type=Path, default=Path("/tmp/hypsst-sweep"))
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "sst_schedule_sweep")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for preset in args.presets:
        base = presets.get(preset)
        for t3, warmup, beta, t2 in SETTINGS:
            for seed in args.seeds:
                config = TrainConfig.from_dict({
                    **base, "preset": preset, "split": args.split, "method": "sst",
                    "rank": args.rank, "seed": seed, "steps_per_iteration": t3,
                    "warmup_steps": warmup, "uniform_mix": beta, "iterations_per_round": t2})
                out = args.work / preset / setting_name(t3, warmup, beta, t2) / f"s{seed}"
                done = out / "metrics.json"
                metrics = (json.loads(done.read_text()) if done.exists()
                           else run(config, out, progress=False))
                main_metric = "roc_auc" if config.task == "lp" else "f1"
                rows.append({"preset": preset, "T3": t3, "warmup": warmup, "beta": beta,
                             "T2": "default" if t2 is None else t2, "seed": seed,
                             "val": metrics["val"][main_metric],
                             "test": metrics["test"][main_metric],
                             "best_epoch": metrics["best_epoch"],
                             "epochs_run": metrics["epochs_run"]})
                print(rows[-1], flush=True)
    write(args, rows)
    return 0


def write(args, rows: list[dict]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(args.out.with_suffix(".csv"), buffer.getvalue())

    def stats(values):
        return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)

    tables = []
    for preset in args.presets:
        groups: dict[tuple, list[dict]] = {}
        for r in rows:
            if r["preset"] == preset:
                groups.setdefault((r["T3"], r["warmup"], r["beta"], r["T2"]), []).append(r)
        ranked = sorted(groups.items(), key=lambda kv: -stats([r["val"] for r in kv[1]])[0])
        lines = [f"### {preset} (SST r = {args.rank}, split {args.split}, seeds "
                 f"{', '.join(map(str, args.seeds))})", "",
                 "| T3 | warm-up | β | T2 | val mean ± std | test mean ± std | best epochs |",
                 "|---|---|---|---|---|---|---|"]
        for (t3, warmup, beta, t2), group in ranked:
            v, t = stats([r["val"] for r in group]), stats([r["test"] for r in group])
            default = (t3, warmup, beta, t2) == (20, 5, 0.0, "default")
            mark = "**" if default else ""
            lines.append(f"| {mark}{t3}{mark} | {warmup} | {beta:g} | {t2} | "
                         f"{v[0]:.4f} ± {v[1]:.4f} | {t[0]:.4f} ± {t[1]:.4f} | "
                         f"{', '.join(str(r['best_epoch']) for r in group)} |")
        tables.append("\n".join(lines))
    command = (f"python benchmarks/sst_schedule_sweep.py --presets {' '.join(args.presets)} "
               f"--seeds {' '.join(map(str, args.seeds))} --rank {args.rank} --split {args.split}")
    text = f"""# SST schedule sweep

Command: `HYPSST_DATA=../shared/data/hgcn OMP_NUM_THREADS=1 {command}`
Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; torch {torch.__version__}; per-run rows in
`sst_schedule_sweep.csv`. Settings are ranked by mean validation metric (the selection
criterion); test beside it. The default (`hypsst.sst.SSTConfig`: T3 = 20, warm-up 5,
β = 0, T2 = ⌈k/r⌉) is in bold.

""" + "\n\n".join(tables) + "\n"
    atomic_write_text(args.out.with_suffix(".md"), text)
    print(f"wrote {args.out.with_suffix('.md')}")


if __name__ == "__main__":
    sys.exit(main())
