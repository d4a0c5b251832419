"""A restricted unpickler for the pickled dataset formats (Planetoid ``ind.*``, HGCN airport).

``pickle.load`` runs arbitrary code named by the file. These formats only need numpy arrays,
scipy CSR matrices, dicts / defaultdicts / lists and networkx graphs, so only those classes
may be constructed; anything else (``os.system``, ``builtins.eval`` ...) is refused with a
DatasetError before it is called.
"""
from __future__ import annotations

import pickle
from pathlib import Path

from hypsst.errors import DatasetError

ALLOWED = {
    ("builtins", "list"), ("builtins", "dict"), ("builtins", "set"), ("builtins", "tuple"),
    ("builtins", "int"), ("builtins", "float"), ("builtins", "str"), ("builtins", "object"),
    ("collections", "defaultdict"), ("collections", "OrderedDict"),
    ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("scipy.sparse.csr", "csr_matrix"), ("scipy.sparse._csr", "csr_matrix"),
    ("networkx.classes.graph", "Graph"), ("networkx.classes.reportviews", "NodeView"),
    ("networkx.classes.reportviews", "EdgeView"),
}


class _Refused(pickle.UnpicklingError):
    pass


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        # Python-2 pickles name builtins "__builtin__"; the base class maps it after this check.
        if ("builtins" if module == "__builtin__" else module, name) not in ALLOWED:
            raise _Refused(f"refusing to load {module}.{name} (not a data class)")
        if module == "scipy.sparse.csr":  # deprecated alias of the same class
            module = "scipy.sparse"
        return super().find_class(module, name)


def safe_load(path: str | Path):
    """Unpickle ``path`` (latin1, as Python-2 Planetoid pickles need) with only ALLOWED classes."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            return _Restricted(f, encoding="latin1").load()
    except _Refused as e:
        raise DatasetError(f"{path}: unsafe pickle, {e}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            ImportError, MemoryError) as e:
        raise DatasetError(f"{path}: truncated or corrupted pickle ({type(e).__name__}: {e})") from None
