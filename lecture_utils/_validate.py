"""Parameter checks shared by every public helper (scikit-learn style).

Each check raises ``ValueError`` whose message names the parameter and its valid range,
so a learner who types ``batch_size=0`` reads what went wrong and what would be right.
"""
from __future__ import annotations

import numbers

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


def check_beta(value, name="beta"):
    """Momentum β (the lecture's λ): a number in [0, 1)."""
    return check_real(name, value, low=0.0, high=1.0, high_open=True)


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
