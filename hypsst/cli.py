"""The ``hypsst`` command: train / bench / data / plot.

Exit status (DESIGN.md, "CLI"): 0 done; 2 bad usage or bad input (one line on stderr, no
traceback); 1 a run that failed (diverged), with its last good checkpoint kept.
The ``train`` options are generated from :class:`hypsst.config.TrainConfig`, so the
parser, ``--help`` and the README table cannot drift apart.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from pathlib import Path
from typing import Any, Sequence

from . import presets
from .config import TrainConfig
from .errors import HypsstError, TrainingDiverged

_TYPES = {"int": int, "float": float, "str": str}


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def option_name(f: dataclasses.Field) -> str:
    return "--data-option" if f.name == "data_options" else "--" + f.name.replace("_", "-")


def option_default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default is dataclasses.MISSING else f.default


def _parse_value(text: str) -> Any:
    """KEY=VALUE values: JSON scalars (numbers, true/false/null) or a plain string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _key_value(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), _parse_value(value)


def _int_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected integers separated by commas, got {text!r}")


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    groups: dict[str, argparse._ArgumentGroup] = {}
    for f in TrainConfig.option_fields():
        meta = f.metadata
        group = groups.get(meta["group"]) or parser.add_argument_group(meta["group"])
        groups[meta["group"]] = group
        default = option_default(f)
        kind = str(f.type).split("|")[0].strip()
        kwargs: dict[str, Any] = dict(dest=f.name, default=argparse.SUPPRESS)
        if kind == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind == "dict":
            kwargs.update(action="append", type=_key_value)
        else:
            kwargs["type"] = _TYPES[kind]
        choices = meta.get("choices")
        if "metavar" in meta:
            kwargs["metavar"] = meta["metavar"]
        elif choices:
            kwargs["metavar"] = "|".join(choices)
        elif kind in ("int", "float"):
            kwargs["metavar"] = "N" if kind == "int" else "X"
        kwargs["help"] = meta["help"] if "default:" in meta["help"] else \
            f"{meta['help']} (default: {'none' if default in (None, {}) else default})"
        group.add_argument(option_name(f), **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="hypsst", description="Hyperbolic deep learning trained with "
                     "Sparse Spectral Training (SST).")
    sub = parser.add_subparsers(dest="command", metavar="{train,bench,data,plot}",
                                parser_class=_Parser)
    sub.required = True

    train = sub.add_parser("train", help="train one model (no options: HGCN + SST link "
                           "prediction on synthetic-disease)",
                           description="Train one model. With no options: link prediction "
                           "with HGCN (Poincare) + SST on the generated synthetic-disease "
                           "graph. A --preset sets a group of options; explicit options "
                           "override it.")
    _add_config_options(train)
    run = train.add_argument_group("outputs")
    run.add_argument("--out", metavar="DIR", help="output folder (default: "
                     "runs/<task>-<dataset>-<model>-<method>-...-<hash of the options>)")
    run.add_argument("--resume", action="store_true", help="continue the run in --out from "
                     "its checkpoint.pt (default: off)")
    run.add_argument("--quiet", action="store_true", help="no progress bar; log lines only "
                     "(default: off)")
    run.add_argument("--list-presets", action="store_true", help="print the preset names "
                     "and exit")
    train.set_defaults(handler=_cmd_train)

    bench = sub.add_parser("bench", help="run a grid of trainings from a TOML file",
                           description="Run a grid (datasets x tasks x models x methods x "
                           "ranks x seeds) from a TOML file; resumes a half-finished grid.")
    bench.add_argument("config", metavar="CONFIG", help="TOML file, or the name of one in "
                       "benchmarks/configs/")
    bench.add_argument("--out", metavar="DIR", help="results folder (default: "
                       "benchmarks/results/<config name>)")
    bench.add_argument("--jobs", type=int, default=1, help="runs in parallel processes "
                       "(default: 1)")
    bench.add_argument("--quiet", action="store_true", help="one line per finished run only")
    bench.add_argument("--seeds", type=_int_list, metavar="S,S,...", help="run only these "
                       "seeds instead of the file's (e.g. 0,1); finished cells are kept")
    bench.add_argument("--report", action="store_true", help="run nothing: write "
                       "results.csv/.md from the cells already finished")
    bench.set_defaults(handler=_cmd_bench)

    plot = sub.add_parser("plot", help="training curves, singular-value spectra, "
                          "Poincare-disk embeddings (PNG)",
                          description="Plot one or more run folders (hypsst train --out) or "
                          "a bench results folder.")
    plot.add_argument("paths", nargs="+", metavar="RESULTS_OR_RUN_DIR")
    plot.add_argument("--out", metavar="DIR", help="where to write the PNG files (default: "
                      "the first path, plots/ inside it)")
    plot.set_defaults(handler=_cmd_plot)

    try:
        from .datasets import cli as data_cli
    except ImportError:  # the datasets package without its command (partial install)
        data_cli = None
    if data_cli is not None and hasattr(data_cli, "add_data_parser"):
        data_cli.add_data_parser(sub)
    return parser


def options_markdown() -> str:
    """The ``hypsst train`` options as a markdown table (for the README), from the parser."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    lines = ["| option | default | meaning |", "|---|---|---|"]
    for action in sub.choices["train"]._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        text, default = action.help, "–"
        if text.endswith(")") and " (default: " in text:
            text, default = text[:-1].rsplit(" (default: ", 1)
        elif "; default: " in text:
            text, default = text.rsplit("; default: ", 1)
        if action.nargs == 0:  # a flag
            names = ", ".join(f"`{o}`" for o in action.option_strings)
        else:
            names = f"`{action.option_strings[0]} {action.metavar or action.dest.upper()}`"
        cells = (cell.replace("|", "\\|") for cell in (names, default, text))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def config_from_args(args: argparse.Namespace, base: dict | None = None) -> TrainConfig:
    """``base`` (a resumed run's saved options), then the preset, then explicit options."""
    values: dict[str, Any] = dict(base or {})
    explicit = {f.name: getattr(args, f.name) for f in TrainConfig.option_fields()
                if hasattr(args, f.name)}
    if explicit.get("preset"):
        values.update(presets.get(explicit["preset"]))
    if "data_options" in explicit:
        explicit["data_options"] = dict(explicit["data_options"])
    values.update(explicit)
    return TrainConfig.from_dict(values)


def _cmd_train(args: argparse.Namespace) -> int:
    if args.list_presets:
        print("\n".join(presets.names()))
        return 0
    from . import train

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("hypsst")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        config = config_from_args(args)
        out = Path(args.out) if args.out else train.default_out(config.validate())
        if args.resume and (out / "config.json").exists():
            config = config_from_args(args, json.loads((out / "config.json").read_text()))
        metrics = train.run(config, out=out, resume=args.resume, progress=not args.quiet)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    print(train.summary_line(metrics))
    print(f"outputs in {out}")
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from . import bench

    bench.run_grid(args.config, out=args.out, jobs=args.jobs, progress=not args.quiet,
                   seeds=args.seeds, report_only=args.report, quiet=args.quiet)
    return 0


def _cmd_plot(args: argparse.Namespace) -> int:
    from . import plot

    for path in plot.plot(args.paths, out=args.out):
        print(path)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2), already printed
        return exc.code if isinstance(exc.code, int) else 2
    handler = getattr(args, "handler", None) or getattr(args, "func", None)
    try:
        return int(handler(args) or 0)
    except HypsstError as exc:
        print(f"hypsst: error: {exc}", file=sys.stderr)
        return 2
    except TrainingDiverged as exc:
        print(f"hypsst: training diverged: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hypsst: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
