"""``hypsst data list | info NAME [--json] | download NAME`` (wired in by hypsst/cli.py)."""
from __future__ import annotations

import argparse
import json

from .registry import FILES, download, info, known


def add_data_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``data`` on an argparse subparsers object; the handler is ``args.func``."""
    p = subparsers.add_parser("data", help="list, inspect or download datasets")
    p.add_argument("--data-root", default=None,
                   help="folder holding <name>/<file> (before $HYPSST_DATA and ~/.cache/hypsst)")
    sub = p.add_subparsers(dest="data_command", required=True)
    sub.add_parser("list", help="known dataset names")
    pi = sub.add_parser("info", help="nodes, edges, features, classes, sampled δ, split sizes")
    pi.add_argument("name")
    pi.add_argument("--json", action="store_true", help="print one JSON object")
    pi.add_argument("--features", choices=("auto", "identity", "none"), default="auto")
    pi.add_argument("--task", choices=("nc", "lp"), default="nc", help="airport variant")
    pd = sub.add_parser("download", help="fetch a dataset's files (sha256-checked)")
    pd.add_argument("name")
    p.set_defaults(func=run_data)
    return p


def run_data(args) -> int:
    """Handler; DatasetError propagates (the main CLI prints it and exits 2)."""
    if args.data_command == "list":
        for name in known():
            where = "generated" if name not in FILES else "files"
            print(f"{name}\t{where}")
        return 0
    if args.data_command == "download":
        print(download(args.name, args.data_root))
        return 0
    kw = {"features": args.features}
    if args.name == "airport":
        kw["task"] = args.task
    res = info(args.name, args.data_root, **kw)
    if args.json:
        print(json.dumps(res, sort_keys=True))
    else:
        for k, v in res.items():
            print(f"{k}: {v}")
    return 0
