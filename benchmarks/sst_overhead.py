"""Time one training step (forward + backward + optimizer step with all bookkeeping) of
full-rank, LoRA, ReLoRA* and SST layers side by side, and their optimizer-state bytes.

Shapes: (a) graph-like — 2708 rows × 1433 → 16 (first HGCN layer on Cora) and 16 → 16,
rank 2; (b) transformer-like — 4096 tokens × 512 → 512 and 512 → 2048, rank 64.
Every repeat times each method once, in turn (interleaved, so drifting machine load hits
all methods alike); the table reports medians. SST's two compute paths are also timed
forced ("sst[dense]", "sst[factored]") to check the cost model's choice.

    python benchmarks/sst_overhead.py --repeats 15 --out benchmarks/results/sst_overhead.md
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import sys
import time

import torch
from torch import nn

import hypsst
from hypsst._spectral import use_dense_path

# (label, rows, in, out, rank, input requires grad (not the network's first layer))
CASES = {
    "a": [("graph 2708 × 1433→16", 2708, 1433, 16, 2, False),
          ("graph 2708 × 16→16", 2708, 16, 16, 2, True)],
    "b": [("tokens 4096 × 512→512", 4096, 512, 512, 64, True),
          ("tokens 4096 × 512→2048", 4096, 512, 2048, 64, True)],
}
TARGETS = {"a": 1.15, "b": 1.5}
METHODS = ["full", "lora", "relora", "sst", "sst[dense]", "sst[factored]"]


def build(method: str, n: int, m: int, r: int, device, optimizer: str):
    torch.manual_seed(0)
    lin = nn.Linear(n, m, device=device)
    if method.startswith("sst["):
        layer = hypsst.convert(lin, "sst", r, compute_path=method[4:-1])
    else:
        layer = hypsst.convert(lin, method, r)
    return layer, hypsst.make_optimizer(layer, 1e-3, optimizer=optimizer)


def step(layer, opt, x, gy):
    opt.zero_grad(set_to_none=True)
    layer(x).backward(gy)
    opt.step()


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench_case(rows, n, m, r, x_grad, repeats, warmup, device, optimizer):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(rows, n, generator=g).to(device).requires_grad_(x_grad)
    gy = torch.randn(rows, m, generator=g).to(device)
    built = {meth: build(meth, n, m, r, device, optimizer) for meth in METHODS}
    for _ in range(warmup):
        for layer, opt in built.values():
            step(layer, opt, x, gy)
    times = {meth: [] for meth in METHODS}
    for _ in range(repeats):
        for meth, (layer, opt) in built.items():
            sync(device)
            t0 = time.perf_counter()
            step(layer, opt, x, gy)
            sync(device)
            times[meth].append(time.perf_counter() - t0)
            x.grad = None
    state = {meth: hypsst.memory_report(layer, opt)["optimizer_state_bytes"]
             for meth, (layer, opt) in built.items()}
    return {meth: statistics.median(t) for meth, t in times.items()}, state


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--cases", default="ab", help="which shape groups: a, b or ab")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--optimizer", default="radam", choices=["radam", "adam", "rsgd"])
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    ap.add_argument("--out", default=None, help="also write the markdown report here")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    lines = ["| case | rows × in→out | r | method | ms/step | × full | opt. state bytes "
             "| × full | bound (r(m+n)+k+m)/(mn+m) | SST path (cost model) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    verdicts, totals = [], {}
    for case in args.cases:
        for label, rows, n, m, r, x_grad in CASES[case]:
            med, state = bench_case(rows, n, m, r, x_grad, args.repeats, args.warmup, device,
                                    args.optimizer)
            totals[case] = {meth: totals.get(case, {}).get(meth, 0.0) + med[meth]
                            for meth in METHODS}
            k = min(m, n)
            bound = (r * (m + n) + k + m) / (m * n + m)
            path = "dense" if use_dense_path(rows, n, m, r, backward=True) else "factored"
            for meth in METHODS:
                ratio = med[meth] / med["full"]
                lines.append(f"| {case} | {label} | {r} | {meth} | {1e3 * med[meth]:.2f} | "
                             f"{ratio:.2f} | {state[meth]:,} | {state[meth] / state['full']:.4f} "
                             f"| {bound:.4f} | {path if meth == 'sst' else ''} |")
            ok = med["sst"] / med["full"] <= TARGETS[case]
            verdicts.append(f"- {label}: SST {med['sst'] / med['full']:.2f}× full "
                            f"(target ≤ {TARGETS[case]}×: {'met' if ok else 'MISSED'}); "
                            f"state {state['sst'] / state['full']:.4f} of full "
                            f"(bound {bound:.4f})")
            print(f"done: {label}", file=sys.stderr)
    for case, tot in totals.items():
        if len(CASES[case]) > 1:
            verdicts.append(f"- ({case}) all its layers in sequence (sum of medians): SST "
                            f"{tot['sst'] / tot['full']:.2f}× full, LoRA "
                            f"{tot['lora'] / tot['full']:.2f}×, ReLoRA* "
                            f"{tot['relora'] / tot['full']:.2f}×")
    table = "\n".join(lines)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    machine = (f"{platform.machine()} {platform.processor() or ''}".strip()
               + f", {os.cpu_count()} logical CPUs, torch {torch.__version__}, "
               f"{torch.get_num_threads()} torch threads, device {device}"
               + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""))
    report = "\n".join([
        "# SST overhead: one training step (forward + backward + optimizer step)",
        "",
        f"Command: `python benchmarks/sst_overhead.py {' '.join(argv or sys.argv[1:])}`  ",
        f"Date: {datetime.datetime.now().isoformat(timespec='minutes')}  ",
        f"Machine: {machine}  ",
        f"Load average at the end: {', '.join(f'{v:.2f}' for v in load) if load else 'n/a'}",
        "",
        f"Medians of {args.repeats} interleaved repeats after {args.warmup} warm-up steps. "
        f"Optimizer: make_optimizer(optimizer={args.optimizer!r}); its step() includes the "
        "SST / ReLoRA* bookkeeping (clamp, renormalise, resample every 20 steps, re-SVD). "
        "'sst' uses the cost model's path; 'sst[dense]' / 'sst[factored]' force one.",
        "",
        table,
        "",
        *verdicts,
        "",
    ])
    print(report)
    if args.out:
        from hypsst.io import atomic_write_text
        atomic_write_text(args.out, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
