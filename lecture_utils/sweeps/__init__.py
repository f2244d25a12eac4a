"""Cached sweeps: heavy experiments computed by a script, stored under ``data/`` and reused.

Each sweep is a module in this package with ``PARAMS`` (a JSON-friendly dict: every setting
and seed) and ``run(params, progress=True) -> dict`` (JSON-friendly results). The cache file
``data/sweep_<name>.json`` holds the parameters, the results, the package versions and the
time taken. ``load(name)`` refuses a cache whose parameters differ from the module's own
(and says how to rebuild it); ``load(name, rerun=True)`` recomputes live with progress bars.

Rebuild from the shell: ``python -m lecture_utils.sweeps NAME`` (or ``all``; ``--list``).
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import time
from pathlib import Path

from ..data import DATA_DIR, atomic_write, cache_dirs, writable_cache_dir


class CacheMismatch(RuntimeError):
    """The cached sweep was made with other parameters than the notebook asks for."""


def finite_round(v, nd=5):
    """``round(v, nd)`` for a finite number, ``None`` for NaN/inf (JSON has no NaN): how every sweep
    stores a measured number (a diverged run's loss is ``None``)."""
    import math

    v = float(v)
    return round(v, nd) if math.isfinite(v) else None


def names():
    """The sweeps in this package (modules that define ``PARAMS`` and ``run``)."""
    out = []
    for info in pkgutil.iter_modules(__path__):
        if not info.name.startswith("_"):
            out.append(info.name)
    return sorted(out)


def module(name):
    if name not in names():
        raise ValueError(f"name must be one of {names()}; got {name!r}")
    return importlib.import_module(f"{__name__}.{name}")


def cache_path(name, data_dir=None):
    """``data_dir/sweep_<name>.json`` (default ``data/``; see :func:`lecture_utils.data.cache_dirs`)."""
    return Path(data_dir or DATA_DIR) / f"sweep_{name}.json"


def _versions():
    import numpy
    import torch

    from .. import __version__
    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__.split("+")[0], "lecture_utils": __version__}


def _normalise(obj):
    """JSON round trip, so that tuples/ints compare equal to what a file gives back."""
    return json.loads(json.dumps(obj))


def compute(name, *, params=None, progress=True, save=True, data_dir=None):
    """Run sweep ``name`` (with its module's ``PARAMS`` unless ``params``) and store it."""
    mod = module(name)
    params = _normalise(mod.PARAMS if params is None else params)
    t0 = time.perf_counter()
    results = _normalise(mod.run(params, progress=progress))
    record = {"name": name, "params": params, "versions": _versions(),
              "seconds": round(time.perf_counter() - t0, 1), "results": results}
    if save:  # data/ when writable, else the per-user cache folder; written atomically
        path = cache_path(name, data_dir or writable_cache_dir())
        text = (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()
        atomic_write(path, lambda f: f.write(text))
    return record


def load(name, *, rerun=False, data_dir=None):
    """The cached record of sweep ``name`` (``record["results"]``, ``record["params"]``, …).

    ``rerun=True`` recomputes it live (progress bars) and does not touch the stored file.
    Looks in ``data_dir``, or by default in ``data/`` and then the per-user cache folder (a
    read-only install builds its sweeps there); the first file with the module's parameters wins.
    Raises :class:`CacheMismatch` when the stored parameters differ from the module's.
    """
    mod = module(name)
    if rerun:
        return compute(name, save=False)
    want = _normalise(mod.PARAMS)
    paths = [cache_path(name, d) for d in ([data_dir] if data_dir else cache_dirs())]
    paths = [p for p in paths if p.exists()] or paths[:1]
    path = paths[0]
    if not path.exists():
        raise CacheMismatch(f"no cached sweep {path.name}; build it with: python -m lecture_utils.sweeps {name}")
    for p in paths:
        record = json.loads(p.read_text())
        if record.get("params") == want:
            return record
    record = json.loads(path.read_text())
    if record.get("params") != want:
        diff = sorted(k for k in set(want) | set(record.get("params", {}))
                      if want.get(k) != record.get("params", {}).get(k))
        raise CacheMismatch(f"cached {path.name} was made with other parameters ({', '.join(diff)}); "
                            f"rebuild it with: python -m lecture_utils.sweeps {name}")
    return record
