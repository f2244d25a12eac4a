"""Notebooks 00 and 01 speak Chinese in the Chinese edition (LECTURE_LANG=zh): the warm-up panel and the
route tables (panels/overview.py), the panels, figures, tables and live buttons of notebook 01
(panels/batches.py, race.py, timing.py) say the same numbers, in the same order, as in English; the English
texts stay English; every runtime message of these modules has a Chinese translation."""
from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from zh_helpers import CJK, NUMBER
from zh_helpers import both as _both
from zh_helpers import same_numbers as _same_numbers

from lecture_utils import race as R
from lecture_utils import sweeps
from lecture_utils import timing as T
from lecture_utils.panels import batches as P
from lecture_utils.panels import overview as O

matplotlib.use("Agg")
pytestmark = pytest.mark.filterwarnings("ignore:Glyph")   # until the CJK font is registered for zh figures

ROOT = Path(__file__).resolve().parent.parent
MODULES = ("lecture_utils/panels/batches.py", "lecture_utils/panels/overview.py", "lecture_utils/race.py",
           "lecture_utils/timing.py", "lecture_utils/data.py")


def _texts(fig):
    """Every non-empty text of a figure (titles, labels, legends, colour bars) and its line labels."""
    out = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
    return out + [a.get_label() for ax in fig.axes for a in ax.get_lines() + list(ax.collections)
                  if a.get_label() and not a.get_label().startswith("_")]


def _worded(texts):
    """The texts with a word in them (not only numbers, symbols, single letters or 'B = …')."""
    return [t for t in texts if re.search(r"[A-Za-z]{3,}", t) and not re.fullmatch(r"B = \d+", t)
            and "\\mathdefault" not in t]


def _figure_is_chinese(fig, *, english_words=("MNIST", "GPU", "cpu", "SGD", "critical_batch")):
    """Every worded text of ``fig`` has Chinese in it (names such as MNIST-1D or GPU may stay)."""
    left = [t for t in _worded(_texts(fig)) if not CJK.search(t)
            and re.sub("|".join(english_words), "", t) == t]
    assert not left, left


# ----------------------------------------------------------------------------- notebook 00
@pytest.mark.parametrize("lr", [0.02, 0.2, 0.5, 0.7, 1.0, 1.1])
def test_warm_up_panel_in_chinese(monkeypatch, lr):
    en, zh = _both(monkeypatch, lambda: O.demo_panel(lr=lr))
    _same_numbers(en.caption, zh.caption)
    _same_numbers(en.fig.axes[0].get_title(), zh.fig.axes[0].get_title())
    assert CJK.search(zh.title) and not CJK.search(en.title)
    assert CJK.search(zh.controls["lr"].description)


def test_route_tables_in_chinese(monkeypatch):
    en, zh = _both(monkeypatch, O.route_text)
    _same_numbers(en, zh)
    assert len(en.splitlines()) == len(zh.splitlines())
    en, zh = _both(monkeypatch, O.sections_text)
    _same_numbers(en, zh, english_has_cjk=True)      # the English titles name the Chinese term
    assert "分钟" in zh and "min" not in zh
    # the Chinese edition's section titles, where notebooks/zh/ has the notebook
    if (ROOT / "notebooks" / "zh" / "01_batches_and_epochs.ipynb").is_file():
        assert "Batches and shuffling" in en and "Batches and shuffling" not in zh


# ----------------------------------------------------------------------------- notebook 01: panels
@pytest.mark.parametrize("n, batch_sizes", [(20, (1, 3, 5, 20)), (50, (7, 50))])
def test_index_map_in_chinese(monkeypatch, n, batch_sizes):
    for b in batch_sizes:
        en, zh = _both(monkeypatch, lambda b=b: P.index_map_panel(n, b))
        _same_numbers(en.caption, zh.caption)
        for a, c in zip(en.fig.axes[:2], zh.fig.axes[:2]):
            _same_numbers(a.get_title(), c.get_title())
        _figure_is_chinese(zh.fig)


@pytest.mark.parametrize("b, lr", [(1, 0.1), (5, 0.1), (20, 0.5), (1, 1.5)])
def test_toy_panel_in_chinese(monkeypatch, b, lr):
    en, zh = _both(monkeypatch, lambda: P.toy_batch_panel(b, lr))
    _same_numbers(en.caption, zh.caption)
    _same_numbers(en.fig.axes[0].get_title(), zh.fig.axes[0].get_title())
    _figure_is_chinese(zh.fig)


def test_accuracy_panel_in_chinese(monkeypatch):
    rec = sweeps.load("batch_accuracy")
    for b in rec["results"]["batch_sizes"][:3]:
        en, zh = _both(monkeypatch, lambda b=b: P.accuracy_panel(rec, b))
        _same_numbers(en.caption, zh.caption)
        _figure_is_chinese(zh.fig)


def test_static_figures_in_chinese(monkeypatch, mnist):
    import matplotlib.pyplot as plt

    timing, race = sweeps.load("timing"), sweeps.load("time_to_accuracy")
    runs, p = race["results"]["runs"], race["params"]
    makers = [lambda: P.toy_comparison()[0], lambda: P.timing_figure(None, timing),
              lambda: P.race_figure(runs, time_budget=p["time_budget_s"]),
              lambda: P.race_figure([r for r in runs if r["seed"] == 0], time_budget=p["time_budget_s"]),
              lambda: P.mnist1d_figure(mnist, per_class=2)[0],
              lambda: P.accuracy_figure(sweeps.load("batch_accuracy"))]
    for make in makers:
        en, zh = _both(monkeypatch, make)
        assert NUMBER.findall(" ".join(_texts(en))) == NUMBER.findall(" ".join(_texts(zh)))
        assert not any(CJK.search(t) for t in _texts(en))
        _figure_is_chinese(zh)
        plt.close(en)
        plt.close(zh)


# ----------------------------------------------------------------------------- timing (§3)
def _timing(per_update, *, spread=0.0, load=(0.5, 0.6), cpus=2):
    per_update = np.array(per_update) * 1e-3
    reps = [np.full(15, v) * (1 + spread * np.linspace(-1, 1, 15)) for v in per_update]
    sizes = [1, 4, 16, 64][:len(per_update)]
    return T.Timing(sizes, per_update, per_update * np.ceil(4000 / np.array(sizes)), 4000, "cpu",
                    repeats=reps, load=load, cpus=cpus)


@pytest.mark.parametrize("kwargs", [dict(per_update=[0.30, 0.33, 0.5, 18.0]),
                                    dict(per_update=[2.0, 0.4, 0.5, 18.0], spread=0.9, load=(5.0, 6.0))])
def test_timing_reports_in_chinese(monkeypatch, kwargs):
    cached = sweeps.load("timing")
    t = _timing(**kwargs)
    for make in (lambda: T.live_report(t, cached), lambda: T.live_report(t), lambda: T.cached_report(cached),
                 lambda: [T.reliability(t, reference=cached).message()]):
        en, zh = _both(monkeypatch, make)
        _same_numbers("\n".join(en), "\n".join(zh))
        assert len(en) == len(zh)
    en, zh = _both(monkeypatch, lambda: P.timing_figure(t, cached))
    _figure_is_chinese(zh)


# ----------------------------------------------------------------------------- the race (§5)
def test_race_tables_in_chinese(monkeypatch):
    timing, race = sweeps.load("timing"), sweeps.load("time_to_accuracy")
    runs, p = race["results"]["runs"], race["params"]
    one = [r for r in runs if r["seed"] == 0]
    t = timing["results"]
    fake = {"device": "FakeGPU", "per_update_s": [1e-4] * len(t["batch_sizes"]),
            "per_epoch_s": t["per_epoch_s"]}
    gpu = {**timing, "results": {**t, "cuda": fake}}
    makers = [lambda: P.race_table(runs, time_budget=p["time_budget_s"], targets=p["targets"]),
              lambda: P.race_table(one, time_budget=p["time_budget_s"], targets=(0.5, 0.99)),
              lambda: R.per_epoch_text(runs, 1), lambda: R.per_epoch_text(runs, 50),
              lambda: R.table_markdown(R.lecture_table(timing, race)),
              lambda: R.table_markdown(R.lecture_table(gpu, race, small=32, large=128)),
              lambda: R.clock_table(timing, race), lambda: R.race_verdict(race)]
    for make in makers:
        en, zh = _both(monkeypatch, make)
        _same_numbers(en, zh)
        assert en.count("\n") == zh.count("\n")
    # the η sources stored in the caches (English) are shown in Chinese
    for source in ("tuned", "η/B of B = 8", "η of B = 512"):
        en, zh = _both(monkeypatch, lambda s=source: R.lr_source_text(s))
        assert en == source and CJK.search(zh) and NUMBER.findall(en) == NUMBER.findall(zh)
    # compare() answers keywords, whatever the language
    monkeypatch.setenv("LECTURE_LANG", "zh")
    assert R.compare(R.SeedValues({0: 1.0, 1: 1.1}), R.SeedValues({0: 2.0, 1: 2.2})) == "lower"


# ----------------------------------------------------------------------------- live buttons
def test_live_buttons_in_chinese(monkeypatch, capsys):
    for label in ("Measure on this machine", "Train on this machine", "Race on this machine",
                  "Run on this machine"):
        en, zh = _both(monkeypatch, lambda label=label: P.live_button(print, label=label))
        assert en.button.description == label and CJK.search(zh.button.description)
    monkeypatch.setenv("LECTURE_LANG", "zh")
    box = P.live_button(lambda: 1 / 0)
    box.press(None)                                  # a failed run is reported, never raised
    assert not box.button.disabled
    out = capsys.readouterr().out + "".join(o.get("text", "") for o in box.output.outputs)
    assert "测量失败" in out and "ZeroDivisionError" in out


def test_live_prints_in_chinese(monkeypatch, capsys, mnist):
    small = mnist.subset(n_train=400, n_test=200)      # 400 updates of B = 1 per epoch: quick
    en, zh = _both(monkeypatch, lambda: (P.one_lr_for_all((32,), epochs=1, data=small),
                                         capsys.readouterr().out)[1])
    _same_numbers(en, zh)
    en, zh = _both(monkeypatch, lambda: (P.live_race(0.05, batch_sizes=(128, 400), data=small, show=False),
                                         capsys.readouterr().out)[1])
    en_lines, zh_lines = en.strip().splitlines(), zh.strip().splitlines()
    assert len(en_lines) == len(zh_lines)
    assert CJK.search(zh_lines[0]) and CJK.search(zh_lines[-1]) and "B" in zh_lines[1]


# ----------------------------------------------------------------------------- lines the cells print
def test_overview_lines_in_chinese(monkeypatch):
    import lecture_utils

    path = O.parabola_path(0.1, steps=12)
    en, zh = _both(monkeypatch, lambda: O.theta_line(0.1, path))
    assert en == f"η = {0.1:<4}  θ after 12 steps = {path[-1]:+.3e}"
    _same_numbers(en, zh)
    en, zh = _both(monkeypatch, lambda: O.versions_text([lecture_utils, np], threads=1))
    assert en.splitlines()[0] == f"{'lecture_utils':<14}{lecture_utils.__version__}"
    assert en.splitlines()[-1].startswith("torch threads ")
    assert en.endswith("(fixed by seed_everything; THREADS = 1)")
    assert en.splitlines()[:2] == zh.splitlines()[:2]
    _same_numbers(en.splitlines()[-1], zh.splitlines()[-1])
    en, zh = _both(monkeypatch, O.machine_text)
    assert en.startswith("CPU cores: ") and en.splitlines()[1].startswith("GPU: ")
    _same_numbers(en, zh)


def test_notebook_01_lines_in_chinese(monkeypatch):
    from lecture_utils.data import batches_with_replacement, coverage_line, epoch_batches, epoch_line

    en, zh = _both(monkeypatch, lambda: epoch_line(0, epoch_batches(10, 4, seed=0, epoch=0)))
    assert en == "epoch 0: 4 6 2 7 | 3 5 9 0 | 8 1"
    _same_numbers(en, zh)

    for name, batches in [("shuffled epoch", epoch_batches(4000, 32, seed=0)),
                          ("with replacement", batches_with_replacement(4000, 32, seed=0))]:
        en, zh = _both(monkeypatch, lambda name=name, batches=batches: coverage_line(name, batches, 4000))
        _same_numbers(en, zh)
    assert en == ("with replacement  125 batches of 32: 1458 of 4000 examples never seen, 1059 seen twice "
                  "or more")
    rows = [(1, 20, 100, 0.113, 67.2), (20, 1, 5, 4.064, 0.0)]
    en, zh = _both(monkeypatch, lambda: P.toy_table(rows))
    assert en.splitlines()[0] == "  B  updates/epoch  updates  full loss at end  mean angle to −∇L"
    assert en.splitlines()[1:] == zh.splitlines()[1:] and CJK.search(zh.splitlines()[0])
    t = T.cached_per_update(sweeps.load("timing"), 512)
    en, zh = _both(monkeypatch, lambda: T.per_update_line("t_512", t))
    assert en == f"t_512 = {t * 1e3:.3f} ms per update"
    _same_numbers(en, zh)
    en, zh = _both(monkeypatch, lambda: P.tuned_lr_text(sweeps.load("tuned_lr")))
    assert en.startswith("η tuned for every batch size (notebook 04 §2)") and "paired per seed" in en
    _same_numbers(en, zh)
    assert en.count("\n") == zh.count("\n") and "paired" not in zh


@pytest.mark.parametrize("busy", [False, True])
def test_race_machine_note_in_chinese(monkeypatch, busy):
    race = sweeps.load("time_to_accuracy")
    if busy:
        machine = {**race["results"]["machine"], "cpu_share": 0.3}
        race = {**race, "results": {**race["results"], "machine": machine}}
    en, zh = _both(monkeypatch, lambda: R.machine_note(race))
    assert en.startswith("(measured on ") and ("busy machine" in en) == busy
    assert en.count("\n") == zh.count("\n") == int(busy)
    _same_numbers(en, zh)


# ----------------------------------------------------------------------------- the catalogs
def test_every_message_of_these_modules_is_translated():
    import importlib.util

    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mine = [m.split("lecture_utils/", 1)[1] for m in MODULES]
    problems = [p for p in mod.runtime_problems() if any(m in p for m in mine)]
    assert not problems, problems
