"""The declared schema of a cached sweep: the file's record and the typed entries of its results.

A cache file ``data/sweep_<name>.json`` is one JSON object, read as a :class:`SweepRecord`:
``name``, ``schema_version``, ``params``, ``versions``, ``seconds`` and ``results`` (and, from
this version on, ``cpu_seconds``: the sweep's work, all processes together). A file written
before schema versions were stored has no ``schema_version``: it is version 1
(:data:`LEGACY_VERSION`), the version every sweep module started at.

Each sweep module declares ``SCHEMA_VERSION`` (bumped whenever the layout of its ``results``
changes), dataclasses for its entries (one run, one row) and ``validate(results)``, which checks
every entry with :func:`check_entry` (required fields present, with the declared types); the
module's ``*_key`` functions are the only place its string keys are built and parsed. The results
themselves stay plain JSON (dicts and lists): notebooks read ``record["results"]`` as before,
:func:`entry` turns one entry into its dataclass when typed access is wanted.

The MNIST-1D dataset of every sweep is named one way, :data:`DATASET` (``params["dataset"]``);
:func:`upgrade_params` maps the two older spellings (``"mnist1d_seed42"``; ``data_seed``) onto it,
so that a version-1 file written before the rename still matches its module's parameters.
"""
from __future__ import annotations

import dataclasses
import types
import typing

LEGACY_VERSION = 1
DATASET = {"name": "mnist1d", "seed": 42}


class SchemaError(ValueError):
    """A cached record or one of its entries does not follow the declared schema."""


def dataset_seed(params):
    """The MNIST-1D seed of a sweep's parameters (``params["dataset"]["seed"]``)."""
    return params["dataset"]["seed"]


def load_dataset(params):
    """The sweep's MNIST-1D (:func:`lecture_utils.data.load_mnist1d` with ``params["dataset"]``)."""
    from ..data import load_mnist1d

    d = params["dataset"]
    if d.get("name") != DATASET["name"]:
        raise ValueError(f"params['dataset']['name'] must be {DATASET['name']!r}; got {d.get('name')!r}")
    return load_mnist1d(seed=d["seed"])


def upgrade_params(params):
    """A copy of ``params`` with the dataset named as :data:`DATASET` (older files said
    ``"dataset": "mnist1d_seed42"`` or ``"data_seed": 42``)."""
    if not isinstance(params, dict):
        return params
    out = dict(params)
    if isinstance(out.get("dataset"), str) and out["dataset"].startswith("mnist1d_seed"):
        out["dataset"] = {"name": "mnist1d", "seed": int(out["dataset"][len("mnist1d_seed"):])}
    if "data_seed" in out and "dataset" not in out:
        out["dataset"] = {"name": "mnist1d", "seed": out.pop("data_seed")}
    return out


# ----------------------------------------------------------------------------- typed entries
def _type_ok(value, tp):
    """Does the JSON value ``value`` have the declared type ``tp`` (int, float, str, bool, list,
    dict, their generic forms, ``X | None``)?"""
    if tp is typing.Any:
        return True
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return any(_type_ok(value, t) for t in typing.get_args(tp))
    if tp is type(None):
        return value is None
    if origin is not None:
        tp = origin
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, tp)


def _hints(cls):
    hints = getattr(cls, "__schema_hints__", None)
    if hints is None or hints[0] is not cls:
        hints = (cls, typing.get_type_hints(cls))
        cls.__schema_hints__ = hints
    return hints[1]


def check_entry(cls, obj, where):
    """``obj`` (a dict from the JSON) unchanged if it has every field of the dataclass ``cls`` with
    the declared type; fields with a default may be missing. Raises :class:`SchemaError` naming
    ``where`` and the field."""
    if not isinstance(obj, dict):
        raise SchemaError(f"{where} must be a dict ({cls.__name__}); got {type(obj).__name__}")
    hints = _hints(cls)
    for f in dataclasses.fields(cls):
        if f.name not in obj:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise SchemaError(f"{where} has no field {f.name!r} ({cls.__name__})")
            continue
        if not _type_ok(obj[f.name], hints[f.name]):
            raise SchemaError(f"{where}[{f.name!r}] must be {hints[f.name]}; got {obj[f.name]!r:.60}")
    return obj


def check_each(cls, entries, where):
    """:func:`check_entry` on every value of a dict or item of a list."""
    if isinstance(entries, dict):
        for k, v in entries.items():
            check_entry(cls, v, f"{where}[{k!r}]")
    elif isinstance(entries, list):
        for i, v in enumerate(entries):
            check_entry(cls, v, f"{where}[{i}]")
    else:
        raise SchemaError(f"{where} must be a dict or a list of {cls.__name__}; got {type(entries).__name__}")
    return entries


def check_fields(obj, names, where):
    """``obj`` is a dict holding every key of ``names``."""
    if not isinstance(obj, dict):
        raise SchemaError(f"{where} must be a dict; got {type(obj).__name__}")
    missing = [n for n in names if n not in obj]
    if missing:
        raise SchemaError(f"{where} has no field {missing[0]!r}")
    return obj


def check_tried(runs, fields, status_at):
    """Every ``run["tried"]`` entry of ``runs`` (a dict of runs) is a list of ``len(fields)`` values whose
    ``status_at``-th is a word of :data:`lecture_utils.train.STATUSES` (the η grids of critical_batch and
    momentum_batch). ``fields`` names them for the message, e.g. ``("η", "steps", "status", "cap")``."""
    from ..train import STATUSES

    for k, r in runs.items():
        for t in r["tried"]:
            if not (isinstance(t, list) and len(t) == len(fields) and t[status_at] in STATUSES):
                raise SchemaError(f"runs[{k!r}]['tried'] entries must be [{', '.join(fields)}] with a "
                                  f"status of train.STATUSES; got {t!r:.60}")
    return runs


def entry(cls, obj):
    """The dataclass ``cls`` of one results entry (its declared fields; others are ignored)."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in obj.items() if k in names})


# ----------------------------------------------------------------------------- the file

class KeyFormat:
    """How a sweep names one run in its ``results``: fields joined by ``|`` (ints as ints, reals with
    ``:g``), e.g. ``KeyFormat(("b", int), ("lr", float), ("seed", int)).make(128, 0.4, 2) == "128|0.4|2"``.
    One declaration per sweep gives both directions (``make`` and ``parse``)."""

    def __init__(self, *fields):
        self.fields = tuple(fields)

    def _names(self):
        return ", ".join(n for n, _ in self.fields)

    def make(self, *values):
        if len(values) != len(self.fields):
            raise ValueError(f"a key needs {len(self.fields)} values ({self._names()})")
        return "|".join(f"{float(v):g}" if tp is float else str(int(v))
                        for v, (_, tp) in zip(values, self.fields))

    def parse(self, key):
        parts = key.split("|")
        if len(parts) != len(self.fields):
            raise ValueError(f"key {key!r} does not have the fields {self._names()}")
        return tuple(tp(p) for p, (_, tp) in zip(parts, self.fields))

class SweepRecord(dict):
    """One cache file: a dict (``record["results"]``, ``record["params"]`` work as always) with
    typed attributes ``name``, ``schema_version``, ``params``, ``versions``, ``seconds``, ``results``
    and ``cpu_seconds`` (None when the file predates it)."""

    FIELDS = {"name": str, "params": dict, "versions": dict, "seconds": float, "results": dict}

    @classmethod
    def from_dict(cls, obj, where="record"):
        """Validate the file's fields (not yet its results: see ``validate`` of the sweep module)."""
        if not isinstance(obj, dict):
            raise SchemaError(f"{where} must be a JSON object; got {type(obj).__name__}")
        for k, tp in cls.FIELDS.items():
            if k not in obj:
                raise SchemaError(f"{where} has no field {k!r}")
            if not _type_ok(obj[k], tp):
                raise SchemaError(f"{where}[{k!r}] must be {tp.__name__}; got {type(obj[k]).__name__}")
        version = obj.get("schema_version", LEGACY_VERSION)
        if not _type_ok(version, int) or version < 1:
            raise SchemaError(f"{where}['schema_version'] must be an int >= 1; got {version!r}")
        return cls(obj)

    @property
    def name(self) -> str:
        return self["name"]

    @property
    def schema_version(self) -> int:
        return self.get("schema_version", LEGACY_VERSION)

    @property
    def params(self) -> dict:
        return self["params"]

    @property
    def versions(self) -> dict:
        return self["versions"]

    @property
    def seconds(self) -> float:
        return self["seconds"]

    @property
    def cpu_seconds(self) -> float | None:
        return self.get("cpu_seconds")

    @property
    def results(self) -> dict:
        return self["results"]
