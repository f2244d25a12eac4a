"""Every exercise check (``lecture_utils.checks.check_*``, found automatically, so checks added later
are covered) survives whatever a learner passes: None, text, a number typed in quotes, a tuple of the
wrong length, NaN, ±inf, arrays, dicts, a function that raises, a function that returns garbage.

For each call: no exception, no warning; exactly one verdict line, the first line of the output,
starting with ✓, × or ○, and the return value True / False / None matching it; no ``np.float64(``
in the message; a number written as text is never ✓. That a right answer gives ✓ is tested from the
notebooks' own solutions in tests/test_solutions.py.
"""
from __future__ import annotations

import contextlib
import inspect
import io
import math
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lecture_utils import checks

CHECKS = sorted((n, f) for n, f in vars(checks).items() if n.startswith("check_") and callable(f))
VERDICT = {"✓": True, "×": False, "○": None}


def _records():
    """The cached sweep records (what ``record`` parameters get in the notebooks)."""
    from lecture_utils import sweeps

    out = []
    for name in sweeps.names():
        try:
            out.append(sweeps.load(name))
        except Exception:  # noqa: BLE001  (a cache not built on this clone)
            pass
    return out


RECORDS = _records()

# ----------------------------------------------------------------------------- what a learner passes
numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.sampled_from([0, 1, 8, 0.1, 6.4, 121.0, -0.0, math.nan, math.inf, -math.inf]),
                    st.floats(-1e3, 1e3).map(np.float64), st.integers(0, 100).map(np.int64))
texts = st.one_of(st.text(max_size=12), st.sampled_from(["8", "0.88", "6.4", "121", "local", "global",
                                                         "saddle",
                                                         "minimum", "", "nan"]),
                  numbers.map(str))
arrays = st.one_of(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=5).map(np.array),
                   st.integers(0, 4).map(lambda n: np.full((n, n), np.nan)), st.just(np.zeros(0)))
plain = st.one_of(st.none(), st.just(...), st.booleans(), numbers, texts, arrays,
                  st.tuples(numbers), st.tuples(numbers, numbers, numbers), st.lists(numbers, max_size=4),
                  st.dictionaries(numbers, st.one_of(st.none(), texts), max_size=4),
                  st.dictionaries(st.sampled_from([0.0, 0.3, 0.6, 0.9]), st.sampled_from(["local", "global"]),
                                  min_size=4, max_size=4))
EXCEPTIONS = [ValueError, TypeError, ZeroDivisionError, IndexError, KeyError, RuntimeError, AssertionError,
              NotImplementedError, AttributeError, OverflowError]


def _raiser(exc):
    def learner_fn(*args, **kwargs):
        raise exc("a bug in the learner's code")
    return learner_fn


def _returner(value):
    def learner_fn(*args, **kwargs):
        return value
    return learner_fn


def _no_args():
    return 1.0


functions = st.one_of(st.sampled_from(EXCEPTIONS).map(_raiser), plain.map(_returner),
                      st.tuples(plain, plain).map(_returner), st.just(_no_args),
                      st.just(lambda *a: a[0] if a else None), st.just(lambda *a: [np.nan] * len(a)))
answers = st.one_of(plain, functions)


def _extra_args(fn):
    """Required parameters after the learner's answer: ``record`` gets a cached sweep, ``name`` a
    label, ``expected`` a number; the learner's answer goes into ``value`` (check_number)."""
    params = [p for p in inspect.signature(fn).parameters.values()
              if p.default is inspect.Parameter.empty and p.kind == p.POSITIONAL_OR_KEYWORD]
    return [p.name for p in params]


def _call(fn, answer, data):
    names = _extra_args(fn)
    if names[:1] in (["name"], ["label"]):   # check_number("label", value, expected)
        args = ["my answer", answer] + [data.draw(st.one_of(numbers, texts)) for _ in names[2:]]
    else:
        args = [answer]
        for name in names[1:]:
            args.append((data.draw(st.sampled_from(RECORDS)) if RECORDS else None) if name == "record"
                        else data.draw(plain))
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("error")  # a check shows no warning to the learner
        result = fn(*args)
    return args, result, buf.getvalue()


def assert_one_verdict(name, args, result, out):
    lines = out.splitlines()
    assert lines, f"{name}{tuple(args)!r} printed nothing"
    marks = [ln[0] for ln in lines if ln[:1] in VERDICT]
    assert lines[0][:1] in VERDICT, f"{name}: the first line does not start with ✓/×/○: {out!r}"
    assert len(marks) == 1, f"{name}: {len(marks)} verdict lines: {out!r}"
    assert result in (True, False, None) and (result is None or isinstance(result, bool)), \
        f"{name} returned {result!r}"
    assert VERDICT[marks[0]] is result, f"{name} printed {marks[0]} but returned {result!r}"
    assert "np.float64(" not in out and "np.int64(" not in out, f"{name}: numpy repr in {out!r}"
    assert "Traceback" not in out


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def test_every_check_is_guarded():
    assert len(CHECKS) >= 10
    unguarded = [n for n, f in CHECKS if not getattr(f, "_never_raises", False)]
    assert not unguarded, (f"{unguarded} are not wrapped by checks.never_raises: define them above the "
                           "_guard_every_check block at the end of lecture_utils/checks.py")


@pytest.mark.parametrize("name", [n for n, _ in CHECKS])
@SETTINGS
@given(answer=answers, data=st.data())
def test_check_never_raises_and_prints_one_verdict(name, answer, data):
    fn = dict(CHECKS)[name]
    args, result, out = _call(fn, answer, data)
    assert_one_verdict(name, args, result, out)
    numeric_text = [a for a in args if isinstance(a, str) and a.strip() and _parses(a)]
    if numeric_text:
        assert result is not True, f"{name} accepted the text {numeric_text[0]!r} as a number: {out!r}"


def _parses(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("name", [n for n, _ in CHECKS])
def test_check_says_not_done_for_none_and_ellipsis(name):
    fn = dict(CHECKS)[name]
    for stub in (None, ...):
        args = ["my answer", stub, 1.0] if _extra_args(fn)[:1] == ["name"] else [stub]
        args += [RECORDS[0] if RECORDS else None] * (len(_extra_args(fn)) - len(args))
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            result = fn(*args)
        assert result is None and buf.getvalue().startswith("○"), f"{name}({stub!r}): {buf.getvalue()!r}"


def test_number_formatting_hides_numpy_reprs():
    assert checks._format_value(np.float64(8.0)) == "8"
    assert checks._format_value(np.float64(0.123456789)) == "0.1235"
    assert checks._format_value((np.float64(1.5), np.int64(2))) == "(1.5, 2)"
    assert checks._format_value(np.array([0.5, np.nan])) == "[0.5, nan]"
    assert checks._format_value(float("inf")) == "inf" and checks._format_value(True) == "True"
    assert checks._finite_real("8") is None and checks._finite_real(True) is None
    assert checks._finite_real(np.nan) is None
    assert checks._finite_real(np.float32(2.5)) == 2.5 and checks._finite_real(np.array([3])) == 3.0


def test_wrapper_reports_a_learner_bug_and_rejects_numeric_text():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert checks.check_number("updates", "8", 8) is False
        assert checks.check_number("updates", np.float64(8.0), 8) is True

        @checks.never_raises
        def check_demo(fn):
            return checks._say(fn(2) == 4, "ok")

        assert check_demo(lambda x: 1 / 0) is False
        assert check_demo("not a function") is False
    out = buf.getvalue().splitlines()
    assert out[0].startswith("×") and "without quotes" in out[0]
    assert out[1] == "✓ updates = 8: correct."
    assert out[2] == ("× your function raised ZeroDivisionError: division by zero — fix it and run the cell "
                      "again")
    assert out[3].startswith("× the text 'not a function' is not a function")


def test_wrong_type_message_shows_no_numpy_repr_even_when_long(capsys):
    """A long tuple of numpy floats was cut at 60 characters inside ``np.float64(`` (found by hypothesis)."""
    pair = (np.float64(1.149006264790387), np.float64(1.149006264790387))
    assert checks.check_classifier(lambda h: pair) is False
    out = capsys.readouterr().out
    assert "np.float64" not in out and "(1.149, 1.149)" in out
