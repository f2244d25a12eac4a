"""lecture_utils._validate: declared constraints (Interval, Options, validate_params) — the one place a
parameter's range is written, read by the function's check, its slider and the robustness tests."""
import math

import pytest

from lecture_utils._validate import (
    BETA,
    COUNT,
    LR,
    SEED,
    Interval,
    Options,
    check_int,
    check_real,
    constraints_of,
    validate_params,
)


# ----------------------------------------------------------------------------- Interval
@pytest.mark.parametrize("c,inside,outside", [
    (Interval("int", 1, 10), [1, 5, 10, 3.0], [0, 11, 2.5, "3", None, True]),
    (Interval("int", 0, 10, closed="neither"), [1, 9], [0, 10]),
    (Interval("real", 0.0, 1.0, closed="left"), [0.0, 0.5, 0.999], [1.0, -1e-9, math.nan, math.inf, "0.5"]),
    (Interval("real", 0.0, None, closed="neither"), [1e-12, 1e9], [0.0, -1.0, math.inf]),
    (Interval("real", None, 2.0, closed="right"), [-1e9, 2.0], [2.0 + 1e-9, math.nan]),
    (Interval("int", 1, None, allow_none=True), [None, 1, 10**9], [0, 1.5]),
])
def test_interval_contains_exactly_its_range(c, inside, outside):
    assert all(c.contains(v) for v in inside), [v for v in inside if not c.contains(v)]
    assert not any(c.contains(v) for v in outside), [v for v in outside if c.contains(v)]


def test_interval_check_coerces_and_names_the_parameter():
    steps = Interval("int", 1, 10).check("steps", 3.0)
    assert steps == 3 and type(steps) is int
    assert type(Interval("real", 0.0, 1.0).check("beta", 1)) is float
    with pytest.raises(ValueError, match=r"^steps must be an integer in \[1, 10\]; got 11$"):
        Interval("int", 1, 10).check("steps", 11)
    with pytest.raises(ValueError, match=r"^beta must be a real number in \[0.0, 1.0\); got 1.0$"):
        BETA.check("beta", 1.0)
    with pytest.raises(ValueError, match=r"^lr must be a real number > 0.0; got 0.0$"):
        LR.check("lr", 0.0)
    with pytest.raises(ValueError, match=r"^k must be an integer in \(0, 10\); got 10$"):
        Interval("int", 0, 10, closed="neither").check("k", 10)
    # the messages are those of the hand-written checks (same words for a learner)
    for c, kw in [(Interval("int", 1, 10), dict(low=1, high=10)), (SEED, dict(low=0))]:
        with pytest.raises(ValueError) as declared:
            c.check("n", -5)
        with pytest.raises(ValueError) as by_hand:
            check_int("n", -5, **kw)
        assert str(declared.value) == str(by_hand.value)
    with pytest.raises(ValueError) as declared:
        LR.check("lr", -1.0)
    with pytest.raises(ValueError) as by_hand:
        check_real("lr", -1.0, low=0.0, low_open=True)
    assert str(declared.value) == str(by_hand.value)


@pytest.mark.parametrize("c", [Interval("int", 1, 10), Interval("int", 0, 10, closed="neither"), COUNT, SEED,
                               LR, BETA, Interval("real", -3.0, 5.0), Interval("real", None, -2.0),
                               Interval("real", None, None), Interval("int", 5, 5),
                               Interval("real", 0.0, 1.0, closed="neither")])
def test_example_is_inside_and_outside_values_are_refused(c):
    assert c.contains(c.example())
    assert type(c.example()) is (int if c.kind == "int" else float)
    bad = c.outside()
    assert bad and not any(c.contains(v) for v in bad), bad
    if c.low is not None:      # just past the low end (or the open end itself)
        assert any(v == c.low if c.low_open else v < c.low for v in bad)
    if c.high is not None:
        assert any(v == c.high if c.high_open else v > c.high for v in bad)


def test_interval_refuses_a_bad_declaration():
    with pytest.raises(ValueError, match="kind"):
        Interval("float", 0, 1)
    with pytest.raises(ValueError, match="closed"):
        Interval("real", 0, 1, closed="open")


def test_describe():
    assert BETA.describe() == "in [0.0, 1.0)" and LR.describe() == "> 0.0" and COUNT.describe() == ">= 1"
    assert Options(("a", "b")).describe() == "one of ['a', 'b']"


# ----------------------------------------------------------------------------- Options
def test_options():
    o = Options(("lecture", "pytorch"))
    assert o.check("convention", "pytorch") == "pytorch" and o.example() == "lecture"
    assert o.contains("lecture") and not o.contains("keras")
    assert not any(o.contains(v) for v in o.outside())
    with pytest.raises(ValueError, match=r"^convention must be one of \['lecture', 'pytorch'\]; "
                                         r"got 'keras'$"):
        o.check("convention", "keras")


# ----------------------------------------------------------------------------- validate_params
@validate_params(steps=COUNT, beta=BETA, mode=Options(("a", "b")))
def _declared(x, steps=10, *, beta=0.5, mode="a"):
    return x, steps, beta, mode


def test_validate_params_checks_and_coerces_at_the_call():
    assert _declared("x") == ("x", 10, 0.5, "a")
    x, steps, beta, mode = _declared(None, 3.0, beta=0, mode="b")
    assert (steps, type(steps), beta, type(beta), mode) == (3, int, 0.0, float, "b")
    for kwargs, name in [(dict(steps=0), "steps"), (dict(steps=2.5), "steps"), (dict(beta=1.0), "beta"),
                         (dict(beta=math.nan), "beta"), (dict(mode="c"), "mode")]:
        with pytest.raises(ValueError, match=rf"^{name} must be"):
            _declared(1, **kwargs)
    with pytest.raises(ValueError, match="^steps must be"):
        _declared(1, -1)   # positional too


def test_validate_params_declares_the_constraints_and_keeps_the_function():
    assert constraints_of(_declared) == {"steps": COUNT, "beta": BETA, "mode": Options(("a", "b"))}
    assert _declared.__name__ == "_declared" and constraints_of(len) == {}
    constraints_of(_declared).clear()
    assert "steps" in _declared.__constraints__   # constraints_of hands out a copy


def test_validate_params_checks_defaults_and_names_at_import():
    with pytest.raises(ValueError, match=r"^steps must be an integer >= 1; got 0$"):
        @validate_params(steps=COUNT)
        def bad_default(steps=0):
            return steps
    with pytest.raises(TypeError, match="no parameter"):
        @validate_params(stpes=COUNT)
        def misspelt(steps=1):
            return steps
