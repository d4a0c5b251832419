"""Swap every ``nn.Linear`` of a model for its SST / LoRA / ReLoRA* counterpart."""
from __future__ import annotations

import fnmatch
import hashlib
import inspect
import warnings
from typing import Iterable

from torch import nn

from ._layers import replace_modules
from .errors import HypsstError
from .lora import LoRALinear, ReLoRALinear
from .sst import SSTLinear

METHODS = {"full": None, "lora": LoRALinear, "relora": ReLoRALinear, "sst": SSTLinear}


def convert(model: nn.Module, method: str, rank: int, *, exclude: str | Iterable[str] = (),
            seed: int = 0, **method_kwargs) -> nn.Module:
    """Replace every ``nn.Linear`` in ``model`` (at any depth, subclasses included) by
    ``method``'s layer of rank ``rank`` computing the same function; returns the model
    (the new layer itself if ``model`` is an ``nn.Linear``). Device and dtype are kept.

    * ``method``: "full" (model returned unchanged), "lora", "relora" or "sst".
    * Layers with min(in, out) < rank get rank min(in, out); one warning names them.
    * ``exclude``: shell-style patterns (``fnmatch``, e.g. ``"decoder"``, ``"layers.*.att"``)
      matched against qualified module names as in ``model.named_modules()``; a match also
      excludes everything below that module.
    * ``seed``: each layer gets its own seed derived from ``seed`` and its qualified name
      (deterministic; distinct layers draw different numbers).
    * ``method_kwargs``: the layer's options (SST: steps_per_iteration,
      iterations_per_round, warmup_steps, uniform_mix, enhanced_grad, compute_path;
      LoRA: alpha; ReLoRA*: alpha, steps_per_iteration, warmup_steps).
    """
    if method not in METHODS:
        raise HypsstError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise HypsstError(f"rank must be a positive integer, got {rank!r}")
    cls = METHODS[method]
    allowed = _options(cls)
    unknown = sorted(set(method_kwargs) - set(allowed))
    if unknown:
        raise HypsstError(f"unknown option(s) {', '.join(unknown)} for method {method!r}; "
                          f"allowed: {', '.join(allowed) or 'none'}")
    if cls is None:
        return model
    patterns = (exclude,) if isinstance(exclude, str) else tuple(exclude)
    reduced = []

    def make(name: str, linear: nn.Linear) -> nn.Module:
        r = min(rank, linear.in_features, linear.out_features)
        if r < rank:
            reduced.append(f"{name or '<model>'} ({linear.in_features}->"
                           f"{linear.out_features}: rank {r})")
        return cls.from_linear(linear, r, seed=layer_seed(seed, name), **method_kwargs)

    def excluded(name: str) -> bool:
        return any(fnmatch.fnmatchcase(name, p) for p in patterns)

    model = replace_modules(model, lambda m: isinstance(m, nn.Linear), make, skip=excluded)
    if reduced:
        warnings.warn(f"rank {rank} exceeds min(in, out) of {len(reduced)} layer(s); "
                      f"using the largest allowed rank: {'; '.join(reduced)}", stacklevel=2)
    return model


def layer_seed(seed: int, name: str) -> int:
    """A 63-bit seed from the run seed and a layer's qualified name."""
    digest = hashlib.sha256(f"{int(seed)}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def _options(cls) -> tuple[str, ...]:
    if cls is None:
        return ()
    names = []
    for klass in cls.__mro__:
        if klass in (nn.Module, object) or "__init__" not in vars(klass):
            continue
        for p in inspect.signature(klass.__init__).parameters.values():
            if (p.kind is p.KEYWORD_ONLY and p.name not in ("seed", "device", "dtype")
                    and not p.name.startswith("_") and p.name not in names):
                names.append(p.name)
    return tuple(names)
