"""Training-epoch time of each encoder, full-rank and SST r=2, on Cora- and PubMed-sized
random graphs (not a test: run by hand, results committed to results/models_speed.md).

One epoch = link-prediction forward (encoder + Fermi–Dirac decoder on all training
edges and as many random negatives) and backward; "+step" adds the optimizer step
(hypsst.make_optimizer: RiemannianAdam plus SST's bookkeeping). Medians over repeats.

    python benchmarks/models_speed.py [--repeats 7] [--threads 1] [--graphs cora pubmed]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

import torch

import hypsst
from hypsst.io import atomic_write_text
from hypsst.models import LPModel, build_encoder

GRAPHS = {  # name: (nodes, undirected edges, features, feature density)
    "cora": (2708, 5278, 1433, 0.0127),
    "pubmed": (19717, 44324, 500, 0.10),
}
ENCODERS = [("gcn", None), ("mlp", None), ("hgcn", "poincare"), ("hgcn", "lorentz"),
            ("hnn", "poincare"), ("hybonet", None)]


def random_graph(nodes, edges, features, density, seed=0):
    """Uniform random simple graph and sparse non-negative row-normalised features."""
    g = torch.Generator().manual_seed(seed)
    src = torch.randint(nodes, (int(edges * 1.1),), generator=g)
    dst = torch.randint(nodes, (int(edges * 1.1),), generator=g)
    keep = src != dst
    key = torch.unique(torch.minimum(src, dst)[keep] * nodes + torch.maximum(src, dst)[keep])
    key = key[torch.randperm(key.numel(), generator=g)[:edges]]
    und = torch.stack([key // nodes, key % nodes])
    x = (torch.rand(nodes, features, generator=g) < density).float()
    x = x / x.sum(1, keepdim=True).clamp_min(1)
    return x, torch.cat([und, und.flip(0)], dim=1), und


def time_epochs(models, x, ei, pos, repeats):
    """Median (fwd+bwd ms, fwd+bwd+step ms) per model; the models' epochs alternate so
    that load from other processes hits them alike."""
    opts = [hypsst.make_optimizer(m, lr=1e-3) for m in models]
    g = torch.Generator().manual_seed(1)
    times = [([], []) for _ in models]
    for i in range(repeats + 2):  # two warm-up epochs
        neg = torch.randint(x.size(0), pos.shape, generator=g)
        for model, opt, (fb, total) in zip(models, opts, times):
            t0 = time.perf_counter()
            loss = model.loss(model(x, ei), pos, neg)
            opt.zero_grad()
            loss.backward()
            t1 = time.perf_counter()
            opt.step()
            t2 = time.perf_counter()
            if not torch.isfinite(loss):
                raise RuntimeError("non-finite loss in benchmark")
            if i >= 2:
                fb.append(t1 - t0)
                total.append(t2 - t0)
    return [(statistics.median(fb) * 1e3, statistics.median(tot) * 1e3) for fb, tot in times]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--graphs", nargs="+", default=list(GRAPHS), choices=list(GRAPHS))
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "models_speed.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = []
    for gname in args.graphs:
        x, ei, und = random_graph(*GRAPHS[gname])
        models = []
        for name, man in ENCODERS:
            for method in ("full", "sst"):
                torch.manual_seed(0)
                model = LPModel(build_encoder(name, x.size(1), dim=16, manifold=man))
                if method == "sst":
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        hypsst.convert(model, "sst", rank=2)
                models.append(model)
        results = time_epochs(models, x, ei, und, args.repeats)
        gcn_ms = results[0][0]
        for k, (name, man) in enumerate(ENCODERS):
            full, sst = results[2 * k], results[2 * k + 1]
            label = name if man is None else f"{name} ({man})"
            rows.append(f"| {gname} | {label} | {full[0]:.1f} | {full[1]:.1f} | {sst[0]:.1f} | "
                        f"{sst[1]:.1f} | {full[0] / gcn_ms:.2f} | {100 * (sst[0] / full[0] - 1):+.0f}% |")
            print(rows[-1], flush=True)
    load = os.getloadavg()
    text = f"""# Encoder epoch time (full-rank vs SST r=2)

Command: `python benchmarks/models_speed.py --repeats {args.repeats} --threads {args.threads} --graphs {' '.join(args.graphs)}`
Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; torch {torch.__version__}; {platform.processor() or platform.machine()},
{os.cpu_count()} CPUs, {args.threads} torch thread(s); load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}
(other work on the CPU shows in the load average and makes absolute times noisy;
within a graph, epochs of all models alternate, so the ratios compare like with like).

Graphs are uniform random (same size as the real ones): Cora-sized 2708 nodes, 5278
undirected edges (10556 directed), 1433 sparse features; PubMed-sized 19717 nodes, 44324
undirected edges (88648 directed), 500 features. Dimension 16, 2 layers. One epoch =
link-prediction forward on all edges plus as many random negatives, and backward
(`+step` adds `hypsst.make_optimizer`'s step, i.e. RiemannianAdam plus SST bookkeeping).
Median of {args.repeats} epochs after 2 warm-up epochs.

| graph | encoder | full fwd+bwd ms | full +step ms | SST r=2 fwd+bwd ms | SST +step ms | full ÷ GCN | SST vs full (fwd+bwd) |
|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
    atomic_write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
