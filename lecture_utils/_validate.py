"""Parameter checks shared by every public helper (scikit-learn style).

Each check raises ``ValueError`` whose message names the parameter and its valid range,
so a learner who types ``batch_size=0`` reads what went wrong and what would be right.

A parameter's range is declared once, as an :class:`Interval` or :class:`Options`, and read by
three users: the function's own check (:func:`validate_params`), the panel's slider
(``widgets.slider``) and the property tests (``fn.__constraints__``, tests/test_robustness.py).
"""
from __future__ import annotations

import functools
import inspect
import math
import numbers
from dataclasses import dataclass

import numpy as np


def check_int(name, value, *, low=None, high=None, allow_none=False):
    """Return ``value`` as ``int`` if it is an integer in ``[low, high]``; else ``ValueError``."""
    if value is None and allow_none:
        return None
    rng = _range_text(low, high)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and not isinstance(value, bool) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be an integer {rng}; got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValueError(f"{name} must be an integer {rng}; got {value}")
    return value


def check_real(name, value, *, low=None, high=None, low_open=False, high_open=False, allow_none=False):
    """Return ``value`` as ``float`` if it is a finite real number in the given interval."""
    if value is None and allow_none:
        return None
    rng = _range_text(low, high, low_open, high_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number {rng}; got {value!r}")
    value = float(value)
    bad = not np.isfinite(value)
    if low is not None:
        bad |= value <= low if low_open else value < low
    if high is not None:
        bad |= value >= high if high_open else value > high
    if bad:
        raise ValueError(f"{name} must be a real number {rng}; got {value!r}")
    return value


def check_lr(value, name="lr"):
    """Learning rate η: a finite number > 0."""
    return check_real(name, value, low=0.0, low_open=True)


def check_batch_size(value, n_examples, name="batch_size"):
    """Batch size B: an integer in [1, n_examples]."""
    return check_int(name, value, low=1, high=n_examples)


def check_array(name, value, *, ndim=None, shape=None, dtype=float):
    """Return ``value`` as a numpy array of the expected ``ndim``/``shape`` (``None`` entries are free)."""
    try:
        arr = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of numbers; got {type(value).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(f"{name} must be a {ndim}-D array; got shape {arr.shape}")
    if shape is not None:
        if arr.ndim != len(shape) or any(s is not None and s != a for s, a in zip(shape, arr.shape)):
            want = "(" + ", ".join("any" if s is None else str(s) for s in shape) + ")"
            raise ValueError(f"{name} must have shape {want}; got {arr.shape}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite numbers")
    return arr


def check_choice(name, value, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {sorted(map(str, choices))}; got {value!r}")
    return value


def _range_text(low, high, low_open=False, high_open=False):
    if low is None and high is None:
        return ""
    if high is None:
        return f"{'>' if low_open else '>='} {low}"
    if low is None:
        return f"{'<' if high_open else '<='} {high}"
    return f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"


# ----------------------------------------------------------------------------- declared constraints
# A parameter's valid range is written once, as a constraint object: the function's own check
# (``validate_params``), the panel's slider (``widgets.slider``) and the property tests
# (``fn.__constraints__``) all read the same object. scikit-learn's ``validate_params`` is the model.


@dataclass(frozen=True)
class Interval:
    """``kind`` ("int" or "real") numbers between ``low`` and ``high`` (``None``: unbounded);
    ``closed`` says which ends belong to it ("both", "left", "right", "neither"); ``allow_none``
    lets ``None`` through (an optional parameter)."""

    kind: str
    low: float | None = None
    high: float | None = None
    closed: str = "both"
    allow_none: bool = False

    def __post_init__(self):
        if self.kind not in ("int", "real"):
            raise ValueError(f"kind must be 'int' or 'real'; got {self.kind!r}")
        if self.closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be one of both/left/right/neither; got {self.closed!r}")

    @property
    def low_open(self):
        return self.closed in ("right", "neither")

    @property
    def high_open(self):
        return self.closed in ("left", "neither")

    def check(self, name, value):
        """``value`` as int/float if it lies in the interval; else a ``ValueError`` naming ``name``."""
        if self.kind == "int":
            value = check_int(name, value, low=self.low, high=self.high, allow_none=self.allow_none)
            at_open_end = (self.low_open and value == self.low) or (self.high_open and value == self.high)
            if value is not None and at_open_end:
                raise ValueError(f"{name} must be an integer {self.describe()}; got {value}")
            return value
        return check_real(name, value, low=self.low, high=self.high, low_open=self.low_open,
                          high_open=self.high_open, allow_none=self.allow_none)

    def describe(self):
        return _range_text(self.low, self.high, self.low_open, self.high_open)

    def contains(self, value):
        try:
            self.check("value", value)
        except ValueError:
            return False
        return True

    def example(self):
        """A value inside the interval (its closed low end, or just above an open one): for tests."""
        if self.low is None:
            v = 0.0 if self.high is None or self.high > 0 else self.high - 1.0
        else:
            v = self.low + (1 if self.kind == "int" else 0.1) * self.low_open
        if self.high is not None and not (v < self.high or (v == self.high and not self.high_open)):
            v = (self.low + self.high) / 2 if self.low is not None else self.high - 1.0
        return int(math.ceil(v)) if self.kind == "int" else float(v)

    def outside(self):
        """Values the interval refuses (just past each bound, NaN for reals): for tests."""
        out = []
        step = 1 if self.kind == "int" else 1e-3 * max(1.0, abs(self.low or 0.0), abs(self.high or 0.0))
        if self.low is not None:
            out.append(self.low if self.low_open else self.low - step)
        if self.high is not None:
            out.append(self.high if self.high_open else self.high + step)
        if self.kind == "int":
            out.append(self.example() + 0.5)
        else:
            out.append(float("nan"))
        return [int(v) if self.kind == "int" and float(v).is_integer() else v for v in out]


@dataclass(frozen=True)
class Options:
    """One of ``values`` (for example a convention's name or a device)."""

    values: tuple

    def check(self, name, value):
        return check_choice(name, value, self.values)

    def describe(self):
        return f"one of {sorted(map(str, self.values))}"

    def contains(self, value):
        return value in self.values

    def example(self):
        return self.values[0]

    def outside(self):
        return ["<not an option>"]


#: Constraints the lecture's notation uses everywhere (a function may declare a narrower one).
LR = Interval("real", 0.0, None, closed="neither")          # η > 0
BETA = Interval("real", 0.0, 1.0, closed="left")            # β ∈ [0, 1)
SEED = Interval("int", 0, None)                             # seeds ≥ 0
COUNT = Interval("int", 1, None)                            # sizes, repeats, steps that must be ≥ 1
NONNEGATIVE_INT = Interval("int", 0, None)


def validate_params(**constraints):
    """Decorator: check the named parameters against their declared constraints at the call.

    The wrapped function receives the checked values (ints as ``int``, reals as ``float``) and
    carries the declaration as ``fn.__constraints__`` (read by sliders and the property tests).
    Defaults are checked once, when the module is imported.
    """

    def decorate(fn):
        sig = inspect.signature(fn)
        unknown = sorted(set(constraints) - set(sig.parameters))
        if unknown:
            raise TypeError(f"{fn.__qualname__} has no parameter(s) {unknown}")
        for name, c in constraints.items():
            default = sig.parameters[name].default
            if default is not inspect.Parameter.empty:
                c.check(name, default)  # a default outside its own range is a bug in the module

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            arguments = bound.arguments
            for name, c in constraints.items():
                if name in arguments:
                    arguments[name] = c.check(name, arguments[name])
            return fn(*bound.args, **bound.kwargs)

        wrapper.__constraints__ = dict(constraints)
        return wrapper

    return decorate


def constraints_of(fn):
    """The constraints a function declared with :func:`validate_params` (``{}`` if none)."""
    return dict(getattr(fn, "__constraints__", {}))
