"""Notebook 02's panels, figures and tables speak Chinese in the Chinese edition (LECTURE_LANG=zh) and say
the same numbers, in the same order, as in English; the English texts stay English; every runtime message
of lecture_utils/panels/noisy.py, noise.py and landscapes.py has a Chinese translation."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from zh_helpers import CJK, figure_texts
from zh_helpers import both as _both
from zh_helpers import same_numbers as _same_numbers

from lecture_utils import landscapes as L
from lecture_utils.i18n import display_width
from lecture_utils.noise import GradientNoise
from lecture_utils.panels import noisy

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("ignore:Glyph")   # until the CJK font is registered for zh figures

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("lecture_utils/panels/noisy.py", "lecture_utils/noise.py", "lecture_utils/landscapes.py")


def _assert_figure_chinese(en_fig, zh_fig):
    en, zh = figure_texts(en_fig), figure_texts(zh_fig)
    assert len(en) == len(zh)
    worded = [(a, b) for a, b in zip(en, zh) if re.search("[a-z]{4,}", a)]   # labels with English words
    assert worded
    for a, b in worded:
        _same_numbers(a, b)


def _fake_noise():
    b = np.array([1, 2, 4, 8])
    sq = [10.0 / k * (1 + 0.02 * np.array([-1.0, 1.0, -1.0, 1.0])) for k in b]
    return GradientNoise(batch_sizes=b, variance=np.array([d.mean() for d in sq]),
                         variance_se=np.array([d.std(ddof=1) / 2 for d in sq]),
                         cosines=[np.array([0.1, 0.2, 0.3, 0.4]) * k for k in range(1, 5)],
                         full_grad_norm=1.0, trace=10.0, n_examples=10**9, replace=False, sq_distances=sq)


def test_batch_losses_panel_in_chinese(monkeypatch):
    en, zh = _both(monkeypatch, noisy.batch_losses_panel)
    assert CJK.search(zh.title) and not CJK.search(en.title)
    assert CJK.search(zh.controls["batch_size"].description)
    for b in (1, 4, 64):
        monkeypatch.setenv("LECTURE_LANG", "en")
        cap_en = en.update(batch_size=b)
        monkeypatch.setenv("LECTURE_LANG", "zh")
        _same_numbers(cap_en, zh.update(batch_size=b))
    _assert_figure_chinese(en.fig, zh.fig)


@pytest.mark.parametrize("kw", [{}, {"n_runs": 1, "epochs": 1}])
def test_trajectories_panel_in_chinese(monkeypatch, kw):
    en, zh = _both(monkeypatch, lambda: noisy.trajectories_panel(**kw))
    assert CJK.search(zh.title) and CJK.search(zh.controls["lr"].description)
    for b, lr in ((4, 0.1), (4, 0.2), (64, 0.1)):
        monkeypatch.setenv("LECTURE_LANG", "en")
        cap_en = en.update(batch_size=b, lr=lr)
        monkeypatch.setenv("LECTURE_LANG", "zh")
        _same_numbers(cap_en, zh.update(batch_size=b, lr=lr))
    _assert_figure_chinese(en.fig, zh.fig)


def test_trajectories_caption_branches_in_chinese(monkeypatch):
    """GD leaving the local minimum, diverged runs: the captions no panel setting of notebook 02 shows."""
    land = L.make_trap_data().landscape
    for end, div in ((-1.0, 0), (3.0, 2), (float("nan"), 1)):
        num = {"gd": np.array([0.0, end]), "curvature": 30.0, "escaped": 3, "diverged": div,
               "paths": np.zeros((41, 2))}
        en, zh = _both(monkeypatch, lambda n=num: noisy._trajectories_caption(n, land, 4, 64, 0.1, 10, 200))
        _same_numbers(en, zh)


def test_saddle_panel_in_chinese(monkeypatch):
    en, zh = _both(monkeypatch, lambda: noisy.saddle_panel(n_runs=5))
    assert CJK.search(zh.title)
    for b in (1, 4, 32):
        _same_numbers(en.update(batch_size=b), zh.update(batch_size=b))
    _assert_figure_chinese(en.fig, zh.fig)
    num = {"eigenvalues": np.array([-1.0, 2.0]), "gd_distance": 1e-15, "left": 0, "abs_cos": np.array([]),
           "n_runs": 3}
    _same_numbers(*_both(monkeypatch, lambda: noisy._saddle_caption(num, 4, 32, 0.1, 3, 0)))  # none leaves


def test_escape_table_and_curve_in_chinese(monkeypatch):
    data = L.make_trap_data()
    sizes = [1, 4, None]
    rates = L.escape_probability(sizes, n_runs=40, seed=0, lr=0.1, epochs=2)
    rows = noisy.escape_table(sizes, rates, 40, data.n)
    en, zh = _both(monkeypatch, lambda: noisy.format_escape_table(rows, 40))
    _same_numbers(en, zh)
    assert len(en.splitlines()) == len(zh.splitlines())
    import matplotlib.pyplot as plt

    en_fig, zh_fig = _both(monkeypatch, lambda: noisy.plot_escape_curve(sizes, rates, 40, data.n))
    _assert_figure_chinese(en_fig, zh_fig)
    assert CJK.search(zh_fig.axes[0].get_xticklabels()[-1].get_text())   # the "full" tick
    plt.close("all")


def test_noise_table_and_figure_in_chinese(monkeypatch):
    res = _fake_noise()
    en, zh = _both(monkeypatch, lambda: noisy.format_noise_table(res))
    _same_numbers(en, zh)
    assert len(en.splitlines()) == len(zh.splitlines())
    import matplotlib.pyplot as plt

    _assert_figure_chinese(*_both(monkeypatch, lambda: noisy.plot_gradient_noise(res)))
    plt.close("all")


def test_training_summary_and_figure_in_chinese(monkeypatch):
    from lecture_utils import sweeps

    res = sweeps.load("noisy_training")["results"]
    en, zh = _both(monkeypatch, lambda: noisy.training_summary(res))
    _same_numbers(en, zh)
    # the table's columns still line up: every row is as wide (in display columns) as the header
    rows = zh.splitlines()[1:6]
    assert len({display_width(r) for r in rows}) == 1, rows
    import matplotlib.pyplot as plt

    _assert_figure_chinese(*_both(monkeypatch, lambda: noisy.plot_noisy_training(res)))
    plt.close("all")


def test_training_summary_with_left_out_values_in_chinese(monkeypatch):
    res = {"n_train": 100, "lr": 0.1, "epochs": 2, "matched_updates": 2, "seeds": [0, 1],
           "runs": [{"batch_size": b, "seed": s, "epoch": [0, 1, 2],
                     "step": [0, 1, 2] if b == 100 else [0, 10, 20],
                     "train_loss": [2.3, 2.0, float("nan") if s else 1.5]}
                    for b in (100, 10) for s in (0, 1)]}
    en, zh = _both(monkeypatch, lambda: noisy.training_summary(res))
    assert "left out" in en
    _same_numbers(en, zh)


def test_critical_point_kinds_print_in_chinese_but_stay_keys(monkeypatch):
    cases = {"minimum": np.diag([1.0, 2.0]), "maximum": np.diag([-1.0, -2.0]), "saddle": np.diag([-1.0, 2.0]),
             "degenerate": np.diag([2.0, 0.0])}
    for key, h in cases.items():
        kind = L.classify_critical_point(h)
        en, zh = _both(monkeypatch, lambda kind=kind: (kind, str(kind), f"{kind}"))
        assert en == (key, key, key)
        assert zh[0] == key and repr(zh[0]) == repr(key) and {zh[0]: 1}[key] == 1   # a key for code
        assert CJK.search(zh[1]) and zh[1] == zh[2] and key in zh[1]                 # printed in Chinese


def test_notebook_02_lines_in_chinese(monkeypatch):
    data = L.make_trap_data()
    land = data.landscape
    for theta in land.critical_points():
        kind = L.classify_critical_point(land.hessian(np.array([theta])))
        en, zh = _both(monkeypatch, lambda t=theta, k=kind: noisy.critical_point_line(land, t, k))
        assert en.startswith("critical point θ = ") and en.endswith(f"-> {str.__str__(kind)}")
        _same_numbers(en, zh)
    from lecture_utils.data import epoch_batches

    batches = epoch_batches(data.n, 4, seed=0)[:3]
    en, zh = _both(monkeypatch, lambda: noisy.gradient_lines(data, np.array([land.local_min]), batches))
    assert en.splitlines()[0] == "full gradient L'(θ*)        = 0.000"
    _same_numbers(en, zh)
    paths = np.array([[2.9, 2.9, 2.9], [1.0, 2.9, 1.0], [1.0, 2.9, 2.9]])
    makers = [lambda: noisy.escape_time_line(7, 1000, 0.123),
              lambda: noisy.kicked_back_line(paths, land.barrier, batch_size=1),
              lambda: noisy.equal_updates_heading(640, n_runs=1000, seed=0),
              lambda: noisy.escape_direction_line(np.array([0.0, -1.0])), noisy.degenerate_line,
              lambda: noisy.saddle_exit_line(1e-3, 67),
              lambda: noisy.saddle_exit_line(0.0, -1, max_steps=20000)]
    points = [L.SADDLE.saddle, *L.SADDLE.minima]
    makers += [lambda p=p: noisy.hessian_line(p, L.SADDLE.hessian(p)) for p in points]
    for make in makers:
        _same_numbers(*_both(monkeypatch, make))
    monkeypatch.setenv("LECTURE_LANG", "en")
    assert noisy.kicked_back_line(paths, land.barrier) == (
        "B = 1: 2 of 3 runs reached the global basin at some update, 1 are there after the last one: 1 were "
        "kicked back over the barrier")
    assert noisy.saddle_exit_line(1e-3, 67) == (
        "full-batch GD from θ⁰ = (1.8, 1e-03): leaves the ball |θ| ≤ 0.5 after 67 updates")
    assert noisy.degenerate_line() == "diag(2, 0), the Hessian of θ₁² and of θ₁² + θ₂³ at 0 -> degenerate"
    assert noisy.hessian_line(L.SADDLE.saddle, L.SADDLE.hessian(L.SADDLE.saddle)) == (
        "θ = [0. 0.]: eigenvalues [-1.  2.] -> saddle")


def test_noise_fit_text_in_chinese(monkeypatch):
    res = _fake_noise()
    en, zh = _both(monkeypatch, lambda: noisy.noise_fit_text(res))
    lo, hi = noisy.slope_interval(res)
    assert en.splitlines()[0].startswith(f"fitted slope of log variance vs log B: {res.slope():.2f} (95 % "
                                         f"bootstrap interval [{lo:.2f}, {hi:.2f}])")
    assert en.splitlines()[1].startswith("per-example variance tr(Σ) = ")
    _same_numbers(en, zh)


def test_every_message_of_these_modules_is_translated():
    sys.path.insert(0, str(ROOT / "scripts"))
    import i18n as i18n_script

    problems = [p for p in i18n_script.runtime_problems() if p.startswith(MODULES)]
    assert not problems, "\n".join(problems)
