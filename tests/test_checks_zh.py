"""The exercise checks speak Chinese in the Chinese notebooks (``LECTURE_LANG=zh``): every verdict, hint
and ○ line comes from ``lecture_utils/locale/zh_CN/checks.po``, carries the same numbers as the English
line, and a check still never raises. English (the default) is tested by test_checks_01.py and
test_checks_never_raise.py."""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import re
import warnings

import numpy as np
import pytest

from lecture_utils import checks, data, sweeps

CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")   # as tests/test_i18n.py compares the notebooks' outputs
PUBLIC = sorted(n for n, f in vars(checks).items() if n.startswith("check_") and inspect.isfunction(f))


@functools.lru_cache(maxsize=None)
def _record(name):
    return sweeps.load(name)


def _time_per_update(b=512):
    res = _record("timing")["results"]
    return res["per_update_s"][res["batch_sizes"].index(b)]


def _in_order(n, b, s, e):
    return [np.arange(n)[i:i + b] for i in range(0, n, b)]


def _same_each_epoch(n, b, s, e):
    return [np.random.default_rng(s).permutation(n)[i:i + b] for i in range(0, n, b)]


def _one_batch(n, b, s, e):
    return [np.random.default_rng([s, e]).permutation(n)]


def _torch_buffer(theta, m, g, lr, beta):
    v = beta * m + g
    return theta - lr * v, v


def _old_movement(theta, m, g, lr, beta):
    return theta + m, beta * m - lr * g


def _raises(*args):
    raise ValueError("a bug in the learner's code")


def _norm_power_iteration(a, iters):
    v = np.ones(len(a))
    for _step in range(iters):
        v = a @ v
        v /= np.linalg.norm(v)
    return float(np.linalg.norm(a @ v))


def _swapped_two_batch(sq_small, sq_big, b_small, b_big):
    g2 = (b_big * sq_big - b_small * sq_small) / (b_big - b_small)
    return (sq_small - sq_big) / (1 / b_small - 1 / b_big), g2


def _wrong_both_two_batch(sq_small, sq_big, b_small, b_big):
    return 2.0 * sq_small + 1.0, 3.0 * sq_big + 7.0


def _cases():
    """(check, args, kwargs): typical wrong answers, at least one for every public check."""
    t = _time_per_update()
    right = 1.0 / (t * 8)
    crit = _record("critical_batch")
    return [
        ("check_number", ("updates", 7, 8), {}),
        ("check_number", ("updates", "8", 8), {}),
        ("check_number", ("loss", float("nan"), 1.0), {}),
        ("check_epoch_batches", (_in_order,), {}),
        ("check_epoch_batches", (_same_each_epoch,), {}),
        ("check_epoch_batches", (_one_batch,), {}),
        ("check_epoch_batches", (data.epoch_batches,), {}),
        ("check_updates_per_epoch", (13,), {}),
        ("check_updates_per_epoch", (13.333,), {}),
        ("check_updates_per_epoch", (15,), {}),
        ("check_updates_per_epoch", ("14",), {}),
        ("check_updates_per_epoch", (float("nan"),), {}),
        ("check_updates_per_epoch", ([1, 2, 3],), {}),
        ("check_epochs_in_time", (1.0 / (t * 4000 / 512), _record("timing")), {}),
        ("check_epochs_in_time", (1.0 / t, _record("timing")), {}),
        ("check_epochs_in_time", (1.0 / (t * 4000), _record("timing")), {}),
        ("check_epochs_in_time", (right * 2, _record("timing")), {}),
        ("check_stable_lr_prediction", ("larger",), {}),
        ("check_stable_lr_prediction", (0.5,), {}),
        ("check_momentum_step", (_torch_buffer,), {}),
        ("check_momentum_step", (_old_movement,), {}),
        ("check_momentum_step", (_raises,), {}),
        ("check_momentum_step", (lambda th, m, g, lr, beta: (th[:2], m),), {}),
        ("check_mystery_beta", (0.0,), {}),
        ("check_mystery_beta", (1.5,), {}),
        ("check_mystery_beta", (0.3,), {}),
        ("check_stop_prediction", ({0.0: "global", 0.3: "global", 0.6: "local", 0.9: "global"},), {}),
        ("check_stop_prediction", ({0.0: "far"},), {}),
        ("check_stop_prediction", ("local",), {}),
        ("check_ema_alpha", (0.001,), {}),
        ("check_ema_alpha", (0.5,), {}),
        ("check_torch_lr", (0.1,), {"alpha": 0.1, "beta": 0.9}),
        ("check_torch_lr", (1.0,), {"alpha": 0.1, "beta": 0.9}),
        ("check_torch_lr", (0.05,), {"alpha": 0.1, "beta": 0.9}),
        ("check_torch_lr", (-1.0,), {}),
        ("check_batch_noise", (4.0 / np.sqrt(8),), {"batch_size": 8}),
        ("check_batch_noise", (2.0,), {"batch_size": 8}),
        ("check_batch_noise", (0.5,), {"batch_size": 8}),
        ("check_batch_noise", (4.0,), {"batch_size": 8}),
        ("check_batch_noise", (10.0,), {"batch_size": 8}),
        ("check_batch_noise", ("1.3",), {"batch_size": 8}),
        ("check_batch_noise", ([1.0, 2.0],), {"batch_size": 8}),
        ("check_batch_noise", (-1.0,), {"batch_size": 8}),
        ("check_classifier", (lambda h: "minimum",), {}),
        ("check_classifier", (lambda h: 3,), {}),
        ("check_classifier", ("saddle",), {}),
        ("check_power_iteration", (_norm_power_iteration,), {}),
        ("check_power_iteration", (lambda a, iters: 1.0,), {}),
        ("check_power_iteration", (lambda a, iters: np.zeros(3),), {}),
        ("check_rise", (lambda c, d: c * d,), {}),
        ("check_rise", (lambda c, d: c * d ** 2,), {}),
        ("check_rise", (lambda c, d: d ** 2 / 2,), {}),
        ("check_rise", (_raises,), {}),
        ("check_stability_limit", (10.0,), {"lr": 0.1}),
        ("check_stability_limit", (0.05,), {"lr": 0.1}),
        ("check_stability_limit", (3.0,), {"lr": 0.1}),
        ("check_stability_limit", (np.zeros(2),), {"lr": 0.1}),
        ("check_scaled_lr", (0.1,), {}),
        ("check_scaled_lr", (0.8,), {}),
        ("check_scaled_lr", (0.05,), {}),
        ("check_scaled_lr", (3.0,), {}),
        ("check_stability_prediction", (6.4, "stable"), {"lam_start": 1.0}),
        ("check_stability_prediction", (0.1, "stable"), {"lam_start": 1.0}),
        ("check_stability_prediction", (6.4, "maybe"), {"lam_start": 1.0}),
        ("check_noise_estimator", (_swapped_two_batch,), {}),
        ("check_noise_estimator", (_wrong_both_two_batch,), {}),
        ("check_noise_estimator", (lambda a, b, c, d: (1.0, 2.0, 3.0),), {}),
        ("check_noise_estimator", (_raises,), {}),
        ("check_noise_estimator", (0.5,), {}),
        ("check_b_crit", (1.0, crit), {}),
        ("check_b_crit", ("many", crit), {}),
        ("check_doubling_ratios", (0.75, 0.6), {}),
        ("check_doubling_ratios", (0.5, 0.75), {}),
        ("check_doubling_ratios", (1.5, 1.2), {}),
        ("check_doubling_ratios", (1.0, 0.9), {}),
        ("check_doubling_ratios", (0.3, 0.2), {}),
    ]


def _run(name, args, kwargs):
    fn = getattr(checks, name)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*[Gg]lyph.*missing")
        result = fn(*args, **kwargs)
    return result, buf.getvalue()


def _both(name, args, kwargs, monkeypatch):
    monkeypatch.setenv("LECTURE_LANG", "en")
    en = _run(name, args, kwargs)
    monkeypatch.setenv("LECTURE_LANG", "zh")
    zh = _run(name, args, kwargs)
    return en, zh


def test_every_public_check_has_a_wrong_answer_here():
    assert set(PUBLIC) <= {name for name, _, _ in _cases()}


@pytest.mark.parametrize("case", range(len(_cases())))
def test_a_wrong_answer_gets_a_chinese_hint_with_the_same_numbers(case, monkeypatch):
    name, args, kwargs = _cases()[case]
    (r_en, out_en), (r_zh, out_zh) = _both(name, args, kwargs, monkeypatch)
    assert r_zh is False and r_en is False, f"{name}{args}: {out_zh!r}"
    assert out_zh.startswith("× ") and len(out_zh.splitlines()) == len(out_en.splitlines()), out_zh
    assert CJK.search(out_zh.splitlines()[0]), f"{name}{args}: no Chinese in {out_zh!r}"
    assert not CJK.search(out_en), out_en
    assert NUMBER.findall(out_zh) == NUMBER.findall(out_en), f"{name}:\n{out_en}\n{out_zh}"


def _stub_args(name):
    fn = getattr(checks, name)
    params = [p.name for p in inspect.signature(fn).parameters.values() if p.default is p.empty]
    args = ["my answer", ..., 1.0] if params[:1] == ["name"] else [...]
    record = _record("critical_batch") if name == "check_b_crit" else _record("timing")
    return args + [record if p == "record" else ... for p in params[len(args):]]


@pytest.mark.parametrize("name", PUBLIC)
def test_the_placeholder_answer_prints_the_chinese_not_done_line(name, monkeypatch):
    (r_en, out_en), (r_zh, out_zh) = _both(name, _stub_args(name), {}, monkeypatch)
    assert r_zh is None and r_en is None
    assert out_en.startswith("○ not done yet"), out_en
    assert out_zh.startswith("○ 尚未完成"), f"{name}: {out_zh!r}"
    assert CJK.search(out_zh.split("：", 1)[-1]), f"{name}: what to do is not Chinese: {out_zh!r}"
    assert NUMBER.findall(out_zh) == NUMBER.findall(out_en)


def test_the_guard_speaks_chinese_too(monkeypatch):
    """The messages of ``never_raises``: a learner's function that raises, a number in quotes, a check
    that only returns True/False."""
    monkeypatch.setenv("LECTURE_LANG", "zh")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        @checks.never_raises
        def check_demo(fn):
            return fn(2) == 4

        assert check_demo(lambda x: 1 / 0) is False
        assert check_demo("not a function") is False
        assert check_demo(lambda x: 5) is False
        assert check_demo(lambda x: 4) is True
        assert checks.check_number("updates", 8, 8) is True
        assert checks.check_stable_lr_prediction("smaller") is True
    lines = buf.getvalue().splitlines()
    assert lines[0] == "× 你的函数抛出了 ZeroDivisionError：division by zero —— 改正后再运行这个单元格"
    assert lines[1].startswith("× 文本 'not a function' 不是函数")
    assert lines[2:5] == ["× 还不对。", "✓ 正确。", "✓ updates = 8：正确。"]
    assert lines[5].startswith("✓ smaller：") and CJK.search(lines[5])


def test_english_is_unchanged_by_the_catalog(monkeypatch):
    monkeypatch.setenv("LECTURE_LANG", "en")
    result, out = _run("check_updates_per_epoch", (13,), {})
    assert result is False
    assert out == "× 13 leaves 100 examples out of the epoch: what happens to them?\n"
    result, out = _run("check_stop_prediction", (None,), {})
    assert out == "○ not done yet: replace every None in this cell by 'local' or 'global' and run it again\n"
