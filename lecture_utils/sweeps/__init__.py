"""Cached sweeps: heavy experiments computed by a script, stored under ``data/`` and reused.

Each sweep is a module in this package with ``PARAMS`` (a JSON-friendly dict: every setting and
seed; the dataset always as ``"dataset": {"name": "mnist1d", "seed": 42}``), ``run(params,
progress=True) -> dict`` (JSON-friendly results), ``SCHEMA_VERSION``, dataclasses describing its
results' entries with ``validate(results)``, and the ``*_key`` functions that build and parse its
string keys (panels and notebooks use those, never f-strings). Independent runs go through
:func:`lecture_utils.sweeps._pool.map_tasks` (2 processes of one torch thread: the numbers do not
depend on the spread); ``timing`` and ``time_to_accuracy`` measure wall-clock time and run alone.

The cache file ``data/sweep_<name>.json`` is a :class:`SweepRecord` (see :mod:`._schema`): the
name, the schema version, the parameters, the package versions, the time taken (``seconds``; and
``cpu_seconds``, the work of all processes) and the results. ``load(name)`` refuses a cache whose
schema version or parameters differ from the module's, or whose results do not validate (and says
how to rebuild it); a file without a schema version is version 1, and ``workers`` (how many
processes ran it, :data:`EXECUTION_KEYS`) is not compared. ``load(name, rerun=True)``
recomputes live with progress bars.

Rebuild from the shell: ``python -m lecture_utils.sweeps NAME`` (or ``all``; ``--list``).

The sweeps (notebook: what):

* ``timing`` (01) — wall-clock time per update and per epoch against B (runs alone);
* ``batch_accuracy`` (01) — accuracy after a fixed epoch budget against B;
* ``time_to_accuracy`` (01) — the race: loss and accuracy against wall-clock seconds (runs alone);
* ``noisy_training`` (02) — the full batch against small batches at one η, by epochs and by updates;
* ``generalization`` (03) — the large-batch gap at 100 % training accuracy, λ_max and ε-sharpness,
  the SB/LB weights;
* ``sharpness_matched`` (03) — sharpness at a matched training loss and λ_max·η/2 (edge of stability);
* ``sharpness_trajectory`` (03, deep dive) — λ_max along training for gradient descent at three η and SGD
  at two B, against 2/η (Cohen et al. 2021);
* ``noise_injection`` (03, deep dive) — a large batch with the small batch's gradient noise added, at a
  matched training loss: λ_max, ε-sharpness, test accuracy;
* ``have_both`` (04) — the protocol (small, large, scaled η, warm-up, train longer), the scaling grid,
  LARS and data parallel;
* ``tuned_lr`` (04) — η tuned for every B on one grid, 3 seeds;
* ``warmup`` (04) — divergence with and without warm-up, λ_max against 2/η along the run;
* ``critical_batch`` (04) — updates to a target loss with η tuned per B: S(B), B_crit;
* ``noise_scale`` (04) — B_simple along training, 6 seeds;
* ``momentum_mnist`` (05) — steps to a target loss against β (matched and fixed η, batch sizes);
* ``momentum_saddle`` (05) — SGD against momentum leaving a saddle of the real network;
* ``momentum_batch`` (05) — updates to a target loss against B for SGD and momentum, η tuned per B.
"""
from __future__ import annotations

import importlib
import json
import pkgutil
import platform
import time
from pathlib import Path

from ..data import DATA_DIR, atomic_write, cache_dirs, writable_cache_dir
from ._schema import DATASET, LEGACY_VERSION, SchemaError, SweepRecord, upgrade_params

__all__ = ["DATASET", "LEGACY_VERSION", "CacheMismatch", "SchemaError", "SweepRecord", "cache_path",
           "compute",
           "finite_round", "load", "module", "names"]


EXECUTION_KEYS = ("workers",)
"""Parameters that change how a sweep is run, not its numbers (``workers``: how many processes share
the independent runs): a cache made with another value still matches, and one made before the key
existed reads as made with the module's value."""


class CacheMismatch(RuntimeError):
    """The cached sweep was made with other parameters or another schema version than the notebook
    asks for (or its results do not follow the schema)."""


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


def parts(name):
    """The part numbers (1, 2, …) of sweep ``name``, ``[]`` when it is computed in one go. A sweep whose
    work is over the 3-min budget declares ``PARTS`` (a list of overrides of ``PARAMS``, e.g. subsets of
    its batch sizes) and ``merge(params, results_of_parts)``: each part is computed and cached alone
    (``python -m lecture_utils.sweeps NAME.2``, file ``sweep_<name>.part2.json``, the full ``PARAMS``
    recorded), and :func:`load` merges them into the same results as one run would give."""
    return list(range(1, len(getattr(module(name), "PARTS", ())) + 1))


def cache_path(name, data_dir=None, part=None):
    """``data_dir/sweep_<name>.json`` (``sweep_<name>.part<k>.json`` for a part; default folder ``data/``;
    see :func:`lecture_utils.data.cache_dirs`)."""
    return Path(data_dir or DATA_DIR) / f"sweep_{name}{f'.part{part}' if part else ''}.json"


def _versions():
    import numpy
    import torch

    from .. import __version__
    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "torch": torch.__version__.split("+")[0], "lecture_utils": __version__}


def _normalise(obj):
    """JSON round trip, so that tuples/ints compare equal to what a file gives back."""
    return json.loads(json.dumps(obj))


def compute(name, *, part=None, params=None, progress=True, save=True, data_dir=None):
    """Run sweep ``name`` (with its module's ``PARAMS`` unless ``params``) and store it; a sweep with
    :func:`parts` is run part by part (only ``part`` when given), each part stored in its own file."""
    mod = module(name)
    params = _normalise(mod.PARAMS if params is None else params)
    if part is None and parts(name):
        records = [compute(name, part=k, params=params, progress=progress, save=save, data_dir=data_dir)
                   for k in parts(name)]
        return _merge(mod, name, records)
    if part is not None and part not in parts(name):
        raise ValueError(f"part must be one of {parts(name)} for sweep {name!r}; got {part!r}")
    record = _run(mod, name, params, part, progress)
    if save:  # data/ when writable, else the per-user cache folder; written atomically
        path = cache_path(name, data_dir or writable_cache_dir(), part)
        text = (json.dumps(record, indent=1, sort_keys=True) + "\n").encode()
        atomic_write(path, lambda f: f.write(text))
    return record


def _run(mod, name, params, part, progress):
    """The record of one run of the sweep (of its part ``part`` when not None): results, time, work."""
    from . import _pool

    t0, c0 = time.perf_counter(), time.process_time()
    _pool.reset_cpu_seconds()
    run_params = {**params, **mod.PARTS[part - 1]} if part else params
    results = _normalise(mod.run(run_params, progress=progress))
    cpu = time.process_time() - c0 + _pool.cpu_seconds()
    record = SweepRecord({"name": name, "schema_version": mod.SCHEMA_VERSION, "params": params,
                          "versions": _versions(), "seconds": round(time.perf_counter() - t0, 1),
                          "cpu_seconds": round(cpu, 1), "results": results})
    if part:
        record["part"] = part
    mod.validate(results)
    return record


def _merge(mod, name, records):
    """One record from the records of every part (``seconds`` and ``cpu_seconds`` added up)."""
    first = records[0]
    cpu = [r.cpu_seconds for r in records]
    return SweepRecord({"name": name, "schema_version": first.schema_version, "params": first["params"],
                        "versions": first["versions"], "seconds": round(sum(r.seconds for r in records), 1),
                        "cpu_seconds": None if None in cpu else round(sum(cpu), 1),
                        "results": _normalise(mod.merge(first["params"], [r["results"] for r in records]))})


def _read(path, mod):
    """``(record, "")`` for a readable sweep record in ``path`` (its dataset spelled as today, and the
    module's own ``upgrade_params`` applied when it has one), else ``(None, why)``."""
    try:
        record = SweepRecord.from_dict(json.loads(path.read_text()), where=path.name)
    except (ValueError, SchemaError) as e:
        return None, f"a file that is not a sweep record ({e})"
    record["params"] = upgrade_params(record["params"])
    if hasattr(mod, "upgrade_params"):
        record["params"] = mod.upgrade_params(record["params"])
    return record, ""


def _mismatch(record, mod, want):
    """Why ``record`` is not the module's sweep (empty string when it is)."""
    if record.schema_version != mod.SCHEMA_VERSION:
        return f"schema version {record.schema_version}, the module's is {mod.SCHEMA_VERSION}"
    got = {k: v for k, v in record["params"].items() if k not in EXECUTION_KEYS}
    want = {k: v for k, v in want.items() if k not in EXECUTION_KEYS}
    if got != want:
        diff = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
        return f"other parameters ({', '.join(diff)})"
    return ""


def _load_parts(name, mod, want, dirs):
    """The merged record of a parted sweep when one folder holds every part with the module's schema
    version and parameters, else None."""
    for d in dirs:
        paths = [cache_path(name, d, k) for k in parts(name)]
        if not all(p.exists() for p in paths):
            continue
        records = [_read(p, mod)[0] for p in paths]
        if all(r is not None and not _mismatch(r, mod, want) for r in records):
            return paths[0], _merge(mod, name, records)
    return None


def load(name, *, rerun=False, data_dir=None):
    """The cached :class:`SweepRecord` of sweep ``name`` (``record["results"]``, ``record["params"]``, …).

    ``rerun=True`` recomputes it live (progress bars) and does not touch the stored file.
    Looks in ``data_dir``, or by default in ``data/`` and then the per-user cache folder (a
    read-only install builds its sweeps there); the first file with the module's schema version and
    parameters wins (for a sweep with :func:`parts`: every part's file of one folder, merged, before a
    file of the whole). Raises :class:`CacheMismatch` when none has them, or when its results do not
    follow the module's schema (``validate``).
    """
    mod = module(name)
    if rerun:
        return compute(name, save=False)
    want = _normalise(mod.PARAMS)
    dirs = [data_dir] if data_dir else cache_dirs()
    found = _load_parts(name, mod, want, dirs) if parts(name) else None
    path, record = found if found else _load_whole(name, mod, want, dirs)
    for k in EXECUTION_KEYS:  # a file made before the key existed reads as made with the module's value
        if k in want and k not in record["params"]:
            record["params"][k] = want[k]
    try:
        mod.validate(record["results"])
    except SchemaError as e:
        raise CacheMismatch(f"cached {path.name} does not follow schema version {mod.SCHEMA_VERSION} ({e}); "
                            f"rebuild it with: python -m lecture_utils.sweeps {name}") from None
    return record


def _load_whole(name, mod, want, dirs):
    """``(path, record)`` of the first file of the whole sweep that matches, or :class:`CacheMismatch`."""
    paths = [cache_path(name, d) for d in dirs]
    paths = [p for p in paths if p.exists()] or paths[:1]
    if not paths[0].exists():
        raise CacheMismatch(f"no cached sweep {paths[0].name}; "
                            f"build it with: python -m lecture_utils.sweeps {name}")
    records = [(p, *_read(p, mod)) for p in paths]
    why = {p: bad or _mismatch(r, mod, want) for p, r, bad in records}
    path, record, _ = next((t for t in records if not why[t[0]]), records[0])
    if why[path]:
        raise CacheMismatch(f"cached {path.name} was made with {why[path]}; "
                            f"rebuild it with: python -m lecture_utils.sweeps {name}")
    return path, record
