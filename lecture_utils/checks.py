"""Self-checks for the exercises: the learner's answer in, one line of feedback out.

Every check prints one line that starts with ✅ (right), ❌ (wrong, with a hint) or
⏳ (not attempted yet: the stub still returns ``None``) and returns ``True``/``False``.
"""
from __future__ import annotations

import numpy as np


def _say(ok, text):
    print(("✅ " if ok else "❌ ") + text)
    return ok


def _todo(what):
    print(f"⏳ not done yet: {what}")
    return False


def check_number(name, value, expected, *, rtol=0.0, atol=0.0, hint=""):
    """Compare a number the learner computed with the value the course computes."""
    if value is None or value is Ellipsis:
        return _todo(f"replace ... with your value of {name}")
    try:
        ok = bool(np.isclose(float(value), float(expected), rtol=rtol, atol=atol))
    except (TypeError, ValueError):
        return _say(False, f"{name} should be a number; got {value!r}")
    if ok:
        return _say(True, f"{name} = {value}: correct.")
    return _say(False, f"{name} = {value} is not right. {hint}".strip())


def check_choice(name, value, expected, *, hint=""):
    """Compare a choice (a string such as "saddle") with the right one."""
    if value is None or value is Ellipsis:
        return _todo(f"replace ... with your answer for {name}")
    if str(value).strip().lower() == str(expected).strip().lower():
        return _say(True, f"{name}: '{value}' is right.")
    return _say(False, f"{name}: '{value}' is not right. {hint}".strip())


def check_epoch_batches(fn, n_examples=23, batch_size=5):
    """Check a learner's ``fn(n_examples, batch_size, seed, epoch) -> list of index arrays`` (notebook 01).

    Right means: every example exactly once per epoch; batches of ``batch_size`` with a smaller
    last one; a new order every epoch; the same order for the same ``(seed, epoch)``.
    """
    try:
        first = fn(n_examples, batch_size, 0, 0)
    except NotImplementedError:
        return _todo("write the body of the function")
    if first is None:
        return _todo("your function returns None — make it return a list of index arrays")
    batches = [np.asarray(b).ravel() for b in first]
    sizes = [len(b) for b in batches]
    want = [batch_size] * (n_examples // batch_size) + ([n_examples % batch_size] if n_examples % batch_size else [])
    if sizes != want:
        return _say(False, f"batch sizes {sizes}; expected {want} (the last batch holds the remainder).")
    flat = np.concatenate(batches)
    if sorted(flat.tolist()) != list(range(n_examples)):
        return _say(False, "an epoch must use every example exactly once (no repeats, none missing).")
    if flat.tolist() == list(range(n_examples)):
        return _say(False, "the examples come in order 0, 1, 2, …: shuffle them.")
    second = np.concatenate([np.asarray(b).ravel() for b in fn(n_examples, batch_size, 0, 1)])
    if np.array_equal(flat, second):
        return _say(False, "epoch 1 has the same order as epoch 0: reshuffle every epoch.")
    again = np.concatenate([np.asarray(b).ravel() for b in fn(n_examples, batch_size, 0, 0)])
    if not np.array_equal(flat, again):
        return _say(False, "the same (seed, epoch) must give the same batches: seed your generator with both.")
    return _say(True, f"every example once per epoch, batch sizes {sizes}, reshuffled each epoch, reproducible.")
