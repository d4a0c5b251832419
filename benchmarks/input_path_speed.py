"""What the input-side speed-ups buy: torch's dense dropout vs SparseAwareDropout on sparse
features, COO ``torch.sparse.mm`` vs the CSR aggregation with a prebuilt transpose, and the
first-layer input map computed every forward vs reused (not a test: run by hand, results
committed to results/input_path_speed.md).

Each "before" model is the same model with those three parts put back to what they were
(nn.Dropout modules, a COO matmul, no input cache), so the ratio is measured side by side
in one process, epochs alternating. Medians over repeats.

    python benchmarks/input_path_speed.py [--repeats 15] [--threads 1]
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import types
import warnings
from datetime import datetime, timezone
from pathlib import Path

import torch
import torch.nn as nn

import hypsst
from hypsst.io import atomic_write_text
from hypsst.models import LPModel, build_encoder
from hypsst.models.aggregation import Adjacency
from hypsst.models.dropout import SparseAwareDropout

sys.path.insert(0, str(Path(__file__).parent))
from models_speed import GRAPHS, random_graph, time_epochs  # noqa: E402

# (encoder, manifold, dropout, learn_c) as the Cora LP presets
MODELS = [("hgcn", "poincare", 0.5, True), ("hybonet", None, 0.7, False)]


def coo_matrix(adj: Adjacency) -> torch.Tensor:
    """Â as the coalesced COO matrix aggregation used before."""
    return torch.sparse_coo_tensor(torch.stack([adj.row, adj.col]), adj.weight,
                                   (adj.num_nodes, adj.num_nodes)).coalesce()


def put_back_old_paths(model: nn.Module) -> nn.Module:
    """nn.Dropout instead of SparseAwareDropout, COO aggregation, no input-map cache."""
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, SparseAwareDropout):
                setattr(module, name, nn.Dropout(child.p))
    encoder = model.encoder
    encoder.mapped_input = lambda x, input_map: input_map(x)
    adjacency = encoder.adjacency

    def coo_adjacency(self, x, edge_index):
        adj = adjacency(x, edge_index)
        if not hasattr(adj, "coo"):
            adj.coo = coo_matrix(adj)
            adj.matmul = lambda v: torch.sparse.mm(adj.coo, v)
        return adj

    encoder.adjacency = types.MethodType(coo_adjacency, encoder)
    return model


def median_ms(before, after, repeats: int) -> tuple[float, float]:
    """Median ms of each function, calls alternating (after one warm-up call each)."""
    times = ([], [])
    for i in range(repeats + 1):
        for fn, acc in zip((before, after), times):
            t0 = time.perf_counter()
            fn()
            if i:
                acc.append(time.perf_counter() - t0)
    return tuple(statistics.median(t) * 1e3 for t in times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path,
                    default=Path(__file__).parent / "results" / "input_path_speed.md")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    x, ei, und = random_graph(*GRAPHS["cora"])
    rows = []

    # parts on their own
    dense_drop, sparse_drop = nn.Dropout(0.5).train(), SparseAwareDropout(0.5).train()
    before, after = median_ms(lambda: dense_drop(x), lambda: sparse_drop(x), args.repeats)
    rows.append(("dropout 0.5 on the 2708×1433 features", before, after))
    adj = build_encoder("hgcn", x.size(1)).adjacency(x, ei)
    v = torch.randn(x.size(0), 17, requires_grad=True)
    coo = coo_matrix(adj)
    before, after = median_ms(lambda: torch.sparse.mm(coo, v).sum().backward(),
                              lambda: adj.matmul(v).sum().backward(), args.repeats)
    rows.append(("Â v forward + backward (v: 2708×17)", before, after))

    # whole epochs: each model against itself with the old paths, alternating
    for name, man, dropout, learn_c in MODELS:
        for method in ("full", "sst"):
            pair = []
            for old in (True, False):
                torch.manual_seed(0)
                model = LPModel(build_encoder(name, x.size(1), dim=16, manifold=man,
                                              dropout=dropout, learn_c=learn_c))
                if method == "sst":
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        hypsst.convert(model, "sst", rank=2)
                pair.append(put_back_old_paths(model) if old else model)
            (before, _), (after, _) = time_epochs(pair, x, ei, und, args.repeats)
            label = f"{name} {method}{' r=2' if method == 'sst' else ''}, dropout {dropout}"
            rows.append((f"epoch fwd+bwd: {label}", before, after))
    lines = [f"| {what} | {b:.2f} | {a:.2f} | {b / a:.2f}× |" for what, b, a in rows]
    print("\n".join(lines))
    load = os.getloadavg()
    text = f"""# Input-side speed-ups: before vs after, side by side

Command: `python benchmarks/input_path_speed.py --repeats {args.repeats} --threads {args.threads}`
Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}; torch {torch.__version__}; {platform.processor() or platform.machine()},
{os.cpu_count()} CPUs, {args.threads} torch thread(s); load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}
(before and after alternate call by call, so their ratio compares like with like).

Cora-sized random graph (2708 nodes, 5278 edges, 1433 features at 1.27% density),
dimension 16, 2 layers, dropout and curvature as the Cora LP presets. "Before" is the
same model with nn.Dropout, a COO ``torch.sparse.mm`` aggregation and the input map
recomputed every forward. Medians of {args.repeats} repeats (epochs: link-prediction forward
and backward, no optimizer step).

| what | before ms | after ms | speed-up |
|---|---|---|---|
""" + "\n".join(lines) + "\n"
    atomic_write_text(args.out, text)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
