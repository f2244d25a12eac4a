"""Notebook 03's panels, figures and tables (lecture_utils/panels/generalization.py) and the interval labels
of lecture_utils/stats.py speak Chinese in the Chinese edition (LECTURE_LANG=zh) and say the same numbers, in
the same order, as in English; the English texts stay English; every runtime message of these modules has a
Chinese translation."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from zh_helpers import CJK, NUMBER, figure_texts
from zh_helpers import both as _both
from zh_helpers import same_numbers as _same_numbers

from lecture_utils import stats, sweeps
from lecture_utils.i18n import display_width
from lecture_utils.panels import generalization as P

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("ignore:Glyph")   # until the CJK font is registered for zh figures

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("lecture_utils/panels/generalization.py", "lecture_utils/stats.py", "lecture_utils/sharpness.py",
           "lecture_utils/sweeps/generalization.py", "lecture_utils/sweeps/noise_injection.py",
           "lecture_utils/sweeps/sharpness_matched.py", "lecture_utils/sweeps/sharpness_trajectory.py")


@pytest.fixture(scope="module")
def records():
    return {k: sweeps.load(k) for k in ("generalization", "sharpness_matched", "sharpness_trajectory",
                                        "noise_injection")}


def _assert_figure_chinese(en_fig, zh_fig):
    import matplotlib.pyplot as plt

    en = figure_texts(en_fig, suptitle=True, ticks=True)
    zh = figure_texts(zh_fig, suptitle=True, ticks=True)
    assert len(en) == len(zh)
    worded = [(a, b) for a, b in zip(en, zh) if re.search("[a-z]{3,}", a.replace("λ_max", ""))]
    assert worded
    for a, b in worded:
        _same_numbers(a, b)
    plt.close(en_fig)
    plt.close(zh_fig)


#: words that stay as they are in a table: a measure's symbol, the noise deep dive's arm names (keys)
KEPT = re.compile(r"λ_max|large\+isotropic|large\+noise|small|large")


def _assert_table_chinese(en, zh):
    """Every line with English words is Chinese, with the same numbers; the rows of numbers are the same; the
    header is as wide as the English one (a wide character takes two columns)."""
    en_lines, zh_lines = en.splitlines(), zh.splitlines()
    assert len(en_lines) == len(zh_lines)
    assert display_width(zh_lines[0]) == len(en_lines[0]), (en_lines[0], zh_lines[0])
    for a, b in zip(en_lines, zh_lines):
        if re.search("[a-z]{3,}", KEPT.sub("", a)):
            _same_numbers(a, b)
        else:
            assert NUMBER.findall(a) == NUMBER.findall(b), (a, b)


def test_interval_labels_in_chinese(monkeypatch):
    for values in ([0.61, 0.66, 0.65], [0.5, 0.7], [0.66]):
        en, zh = _both(monkeypatch, lambda v=values: stats.mean_ci(v))
        monkeypatch.setenv("LECTURE_LANG", "en")
        texts_en = [en.label, en.short(".2f"), en.format(".3f"), str(en)]
        monkeypatch.setenv("LECTURE_LANG", "zh")
        texts_zh = [zh.label, zh.short(".2f"), zh.format(".3f"), str(zh)]
        for a, b in zip(texts_en, texts_zh):
            if re.search("[a-z]{3,}", a):
                _same_numbers(a, b)
            else:
                assert a == b      # "0.66 ± 0.03" is the same in both languages
    monkeypatch.setenv("LECTURE_LANG", "en")
    assert stats.mean_ci([1.0, 2.0, 3.0]).label == "95 % t-interval, 3 seeds"
    assert stats.mean_ci([0.661]).format() == "0.661 (1 seed, no interval)"
    monkeypatch.setenv("LECTURE_LANG", "zh")
    assert stats.mean_ci([1.0, 2.0, 3.0]).label == "95 % t 区间，3 个种子"


def test_gap_table_and_figures_in_chinese(monkeypatch, records):
    rec = records["generalization"]
    _assert_table_chinese(*_both(monkeypatch, lambda: P.gap_table(rec)))
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.gap_figure(rec)))
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.sharpness_figure(rec)))
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.sharpness_figure(rec, keys=("top_eigenvalue",))))
    a = np.linspace(-0.5, 1.5, 9)
    curve = {"alpha": a, "train_loss": 0.1 + a ** 2, "test_loss": 0.5 + a ** 2,
             "train_acc": 1 - 0.1 * a ** 2, "test_acc": 0.7 - 0.1 * a ** 2}
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.interpolation_figure(curve, sb=32, lb=400)))


def test_batch_size_panel_in_chinese(monkeypatch, records):
    rec = records["generalization"]
    en, zh = _both(monkeypatch, lambda: P.batch_size_panel(rec))
    assert CJK.search(zh.title) and not CJK.search(en.title)
    assert CJK.search(zh.controls["batch_size"].description)
    for b in rec["results"]["batch_sizes"]:
        monkeypatch.setenv("LECTURE_LANG", "en")
        cap_en, title_en = en.update(batch_size=b), en.fig.axes[0].get_title()
        monkeypatch.setenv("LECTURE_LANG", "zh")
        _same_numbers(cap_en, zh.update(batch_size=b))
        _same_numbers(title_en, zh.fig.axes[0].get_title())
    # a live rerun's line, drawn from a made-up run (no training here)
    h = {"epoch": [0, 1], "train_acc": [0.1, 1.0], "test_acc": [0.1, 0.6]}
    for panel in (en, zh):
        panel.live["live"] = {"batch_size": 400, "history": h, "status": "target_reached", "test_acc": 0.6,
                              "train_acc": 1.0, "steps": 20, "seconds": 1.25}
    monkeypatch.setenv("LECTURE_LANG", "en")
    cap_en = en.update(batch_size=400)
    monkeypatch.setenv("LECTURE_LANG", "zh")
    cap_zh = zh.update(batch_size=400)
    _same_numbers(cap_en, cap_zh)
    assert "现场重跑" in cap_zh
    _assert_figure_chinese(en.fig, zh.fig)
    button = zh.widget.children[-2]
    assert CJK.search(button.description) and CJK.search(button.tooltip)


def test_flat_sharp_panel_in_chinese(monkeypatch):
    en, zh = _both(monkeypatch, P.flat_sharp_panel)
    assert CJK.search(zh.title) and CJK.search(zh.controls["shift"].description)
    for d in (0.0, 0.3, 1.0):
        monkeypatch.setenv("LECTURE_LANG", "en")
        cap_en, title_en = en.update(shift=d), en.fig.axes[0].get_title()
        monkeypatch.setenv("LECTURE_LANG", "zh")
        _same_numbers(cap_en, zh.update(shift=d))
        _same_numbers(title_en, zh.fig.axes[0].get_title())
    _assert_figure_chinese(en.fig, zh.fig)


def test_matched_table_and_figures_in_chinese(monkeypatch, records):
    m, g = records["sharpness_matched"], records["generalization"]
    _assert_table_chinese(*_both(monkeypatch, lambda: P.matched_table(m)))
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.matched_figure(m, g)))
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.stability_figure(m)))


def test_trajectory_table_and_figure_in_chinese(monkeypatch, records):
    t = records["sharpness_trajectory"]
    en, zh = _both(monkeypatch, lambda: P.trajectory_table(t))
    _assert_table_chinese(en, zh)
    assert "never" not in zh
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.trajectory_figure(t)))


def test_noise_table_and_figure_in_chinese(monkeypatch, records):
    n = records["noise_injection"]
    _assert_table_chinese(*_both(monkeypatch, lambda: P.noise_table(n)))
    _assert_figure_chinese(*_both(monkeypatch, lambda: P.noise_figure(n)))


def test_table_helpers():
    assert P._col("测试", 6) == "  测试" and P._col("test", 6) == "  test"
    cols = [("B", 5), ("reached", 7), ("test acc", 15)]
    assert P._header(cols) == " ".join(f"{t:>{w}}" for t, w in cols)
    # a Chinese text wider than its column takes room from the spaces on its left; the next is back in line
    assert P._header([("B", 5), ("训练准确率", 9), ("x", 3)]) == "    B 训练准确率  x"


def test_every_message_is_translated():
    sys.path.insert(0, str(ROOT / "scripts"))
    import i18n

    problems = [p for p in i18n.runtime_problems() if any(m in p for m in MODULES)]
    assert not problems, problems


# ------------------------------------------------------------------ lines printed by notebook 03's cells
def _lines(records):
    """Every line that notebook 03's cells print through this module's line functions, by name."""
    from lecture_utils import sharpness
    from lecture_utils.data import load_mnist1d

    rec, m = records["generalization"], records["sharpness_matched"]
    g = rec["results"]["gap"]
    right_sb = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0])
    right_lb = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    alpha = np.linspace(-0.5, 1.5, 41)
    curve = {"alpha": alpha, "train_loss": 0.05 + (alpha - 0.6) ** 2}
    return {"data_line": P.data_line(load_mnist1d(), rec), "gap_line": P.gap_line(rec),
            "test_accuracy_line": P.test_accuracy_line(rec, g["sb"]),
            "disagreement_line": P.disagreement_line(right_sb, right_lb),
            "falls_line": P.falls_line(rec),
            "accuracy_at_95_line": P.accuracy_at_95_line(rec, 8),
            "sharpness_lines_lam": P.sharpness_lines(rec, keys=("top_eigenvalue",)),
            "sharpness_lines": P.sharpness_lines(rec),
            "interpolation_lines": P.interpolation_lines(curve),
            "matched_lines": P.matched_lines(rec, m),
            "stability_lines": P.stability_lines(m),
            "noise_scale_line": P.noise_scale_line(sweeps.load("noise_scale")),
            "cached_work_line": P.cached_work_line(records["sharpness_trajectory"]),
            "noise_paired_lines": P.noise_paired_lines(records["noise_injection"]),
            "scaled_lr_lines": P.scaled_lr_lines(rec, sweeps.load("tuned_lr")),
            "rescale_line": sharpness.rescale_line(0.25, 0.0539, 1.0, 143.2)}


def test_notebook_lines_in_chinese_with_the_english_numbers(monkeypatch, records):
    monkeypatch.setenv("LECTURE_LANG", "en")
    en = _lines(records)
    monkeypatch.setenv("LECTURE_LANG", "zh")
    zh = _lines(records)
    for name in en:
        assert len(en[name].splitlines()) == len(zh[name].splitlines()), name
        for e, z in zip(en[name].splitlines(), zh[name].splitlines()):
            if CJK.search(e) is None and re.search(r"[A-Za-z]{2,}", e):   # a table row of numbers stays as is
                _same_numbers(e, z)


#: Lines the notebook's cells printed before these functions (stored English outputs): unchanged.
OLD_LINES = [
    "MNIST-1D: 4000 training and 1000 test examples; batch sizes [8, 32, 128, 400, 4000], seeds [0, 1, 2], "
    "one learning rate η = 0.1",
    "gap B = 32 − B = 400: 0.048 ± 0.011 (paired per seed: same initial weights, same test set; 95 % "
    "t-interval, 3 seeds)",
    "test accuracy B =  32: 0.661 ± 0.013 (95 % t-interval, 3 seeds)",
    "seed 0 on the same 8 test examples: the two disagree on 3; accuracy difference 0.125, test-set s.e. "
    "0.212 (one accuracy alone: binomial s.e. 0.171)",
    "test accuracy falls at every step of B from 8 to 400: True",
    "B =   8: test accuracy when the training accuracy first reached 95 %: 0.675 ± 0.042; at 100 % "
    "(the stop): 0.719 ± 0.015 (95 % t-intervals, 3 seeds)",
    "B =   8: λ_max   0.29 ± 0.19, training loss at the stop 0.005",
    "B = 4000: λ_max  13.10 ± 0.93, ε-sharpness  12.6 ± 2.6 %, training loss at the stop 0.794",
    "± : 95 % t-interval over 3 seeds",
    "    B | λ_max at the stop train loss | λ_max at L* = 0.1 train loss",
    "ε-sharpness(B = 400) / ε-sharpness(B = 8) at the stop: 61.06 ± 79.02",
    "ε-sharpness at L*, B = 400 − B = 128 (paired per seed): 4.6 ± 7.5 (95 % t-interval, 5 seeds)",
    "B = 400, η = 0.4 : λ_max  4.89 ± 0.49 (2/η =  5.0), λ_max·η/2 = 0.98 ± 0.10, test accuracy "
    "0.661 ± 0.011, 915 updates",
    "over the 8 (B, η) settings: rank correlation of λ_max with test accuracy = -0.98 (on the means)",
    "cached work: 193 CPU-seconds, about 1.6 min on two idle cores",
    "large+noise − small          : λ_max  -0.09 ± 0.57, test accuracy +0.000 ± 0.009 (paired per seed, "
    "95 % t-interval, 5 seeds)",
    "B = 32 at η = 0.1 (not tuned): test accuracy 0.661 ± 0.013   (± : 95 % t-interval, 3 seeds)",
    "notebook 04, η tuned for each B on one grid (paired per seed, 95 % t-interval, 3 seeds):",
    "c = 0.25: training loss 0.0539, training accuracy 1.00, top eigenvalue λ_max = 143",
]


def test_notebook_lines_in_english_are_the_old_lines(monkeypatch, records):
    monkeypatch.setenv("LECTURE_LANG", "en")
    lines = {line for text in _lines(records).values() for line in text.splitlines()}
    missing = [line for line in OLD_LINES if line not in lines]
    assert not missing, missing


def test_notebook_03_prints_its_lines_through_the_module():
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "03_large_batch_generalization.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for name in ("data_line", "gap_line", "disagreement_line", "sharpness_lines", "interpolation_lines",
                 "matched_lines", "stability_lines", "cached_work_line", "noise_paired_lines",
                 "scaled_lr_lines", "rescale_line"):
        assert f".{name}(" in code, name
