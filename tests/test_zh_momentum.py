"""Notebooks 05 and 06 speak Chinese in the Chinese edition (``LECTURE_LANG=zh``): the momentum panels'
captions and figures, the sweeps' printed lines, the quadratic race and the scorecard (verdict table, cards,
key results) come from ``lecture_utils/locale/zh_CN/*.po`` and carry the same numbers, in the same order, as
the English text. English (the default) is tested by test_panels_momentum.py, test_scorecard.py and the
sweep tests; the English notebooks' stored outputs by strict nbval."""
from __future__ import annotations

import functools
import re

import matplotlib.pyplot as plt
import pytest

from lecture_utils import quadratic as quad
from lecture_utils import scorecard, sweeps
from lecture_utils.panels import momentum as P
from lecture_utils.plotting import use_style
from lecture_utils.sweeps import momentum_batch, momentum_mnist, momentum_saddle

CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")   # as tests/test_i18n.py compares the notebooks' outputs
WORD = re.compile(r"[a-z]{4,}")                # an English word (not a symbol such as η, ln, max)
# until lecture_utils.plotting registers the CJK font, matplotlib warns of missing glyphs
pytestmark = pytest.mark.filterwarnings("ignore:Glyph.*missing:UserWarning")


@pytest.fixture(scope="module", autouse=True)
def _style():
    use_style()


@functools.lru_cache(maxsize=None)
def _record(name):
    return sweeps.load(name)


def _both(monkeypatch, make):
    """``make()`` in English and in Chinese: (English, Chinese)."""
    monkeypatch.setenv("LECTURE_LANG", "en")
    en = make()
    monkeypatch.setenv("LECTURE_LANG", "zh")
    zh = make()
    monkeypatch.delenv("LECTURE_LANG")
    return en, zh


def _same_numbers(en, zh):
    """zh is Chinese wherever en has words (a line of numbers and symbols only stays as it is), and has en's
    numbers in en's order (each a string or a list of lines)."""
    en = en if isinstance(en, list) else [en]
    zh = zh if isinstance(zh, list) else [zh]
    assert len(en) == len(zh)
    assert any(CJK.search(z) for z in zh), zh
    for e, z in zip(en, zh):
        if WORD.search(e):
            assert CJK.search(z), z
        assert not CJK.search(e), e
        assert NUMBER.findall(e) == NUMBER.findall(z), (e, z)


def _texts(fig):
    """Every text of a figure a reader sees: titles, axis labels, legends, annotations, colour bars."""
    from matplotlib.text import Text

    out = [t.get_text() for t in fig.findobj(Text)]
    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)
    return [t for t in out if t]


def _chinese_figure(texts):
    zh = [t for t in texts if CJK.search(t)]
    assert len(zh) >= 3, texts
    return zh


# ----------------------------------------------------------------------------- panels
def _captions(panel, moves):
    return [panel.caption_text()] + [panel.update(**mv) for mv in moves]


@pytest.mark.parametrize("make, moves", [
    (lambda: P.vector_addition_panel(), [dict(t=12), dict(nesterov=True), dict(beta=0.0, nesterov=False)]),
    (lambda: P.vector_addition_panel(lr=4.0), [dict(t=30)]),                       # diverges
    (lambda: P.weights_panel(), [dict(beta=0.5), dict(beta=0.0)]),
    (lambda: P.local_minimum_panel(), [dict(beta=0.9), dict(show_all=True), dict(beta=0.3, lr=0.05),
                                       dict(lr=1.0, beta=0.99)]),
    (lambda: P.saddle_panel(), [dict(beta=0.0), dict(lr=1.5, beta=0.99), dict(lr=1.5, beta=0.0)]),
    (lambda: P.quadratic_panel(grid=20), [dict(alpha=1.0, beta=0.0), dict(alpha=4.0, beta=0.0),
                                          dict(alpha=0.05, beta=0.0)]),
    (lambda: P.nqm_panel(), [dict(batch_size=1024, beta=0.5)]),
], ids=["vector", "vector-diverged", "weights", "local", "saddle", "quadratic", "nqm"])
def test_panel_captions_and_figures_are_chinese_with_the_same_numbers(monkeypatch, make, moves):
    def run():
        p = make()
        return _captions(p, moves), _texts(p.fig)

    (en, en_fig), (zh, zh_fig) = _both(monkeypatch, run)
    _same_numbers(en, zh)
    _chinese_figure(zh_fig)
    assert not any(CJK.search(t) for t in en_fig)


@pytest.mark.parametrize("plot, record", [
    (P.plot_sweep, "momentum_mnist"), (P.plot_small_batches, "momentum_mnist"),
    (P.plot_saddle_sweep, "momentum_saddle"), (P.plot_momentum_batch, "momentum_batch"),
    (P.plot_momentum_batch_heatmap, "momentum_batch"),
])
def test_sweep_figures_are_chinese(monkeypatch, plot, record):
    en, zh = _both(monkeypatch, lambda: _texts(plot(_record(record))))
    _chinese_figure(zh)
    assert not any(CJK.search(t) for t in en)
    assert len(en) == len(zh)


def test_schedule_figure_is_chinese(monkeypatch):
    from lecture_utils import optim

    demo = optim.schedule_demo(P.VALLEY.grad, P.VALLEY_THETA0, lr=0.4, beta=0.8, steps=60, at=20, factor=0.1)
    en, zh = _both(monkeypatch, lambda: _texts(P.plot_schedule_demo(demo)))
    _chinese_figure(zh)
    assert len(en) == len(zh)


def test_critical_point_table_and_race_name_in_chinese(monkeypatch):
    en, zh = _both(monkeypatch, lambda: [r["point"] for r in P.critical_point_table()])
    _same_numbers(en, zh)
    en, zh = _both(monkeypatch, lambda: quad.race(100.0))
    _same_numbers([r["method"] for r in en], [r["method"] for r in zh])
    assert [r["steps_measured"] for r in en] == [r["steps_measured"] for r in zh]


# ----------------------------------------------------------------------------- printed lines
@pytest.mark.parametrize("module, record", [
    (momentum_mnist, "momentum_mnist"), (momentum_saddle, "momentum_saddle"),
    (momentum_batch, "momentum_batch"),
])
def test_report_lines_are_chinese_with_the_same_numbers(monkeypatch, module, record):
    en, zh = _both(monkeypatch, lambda: module.report_lines(_record(record)))
    _same_numbers(en, zh)


def test_report_lines_of_missed_targets(monkeypatch):
    """A setting where a seed missed the target (">max_steps (loss …)" / "(diverged)") is Chinese too."""
    rec = _record("momentum_mnist")
    runs = [dict(r, steps=None, curve_loss=r["curve_loss"][:-1] + [None if k % 2 else 2.0])
            for k, r in enumerate(rec["results"]["matched"])]
    fake = {"params": rec["params"], "results": {**rec["results"], "matched": runs}}
    en, zh = _both(monkeypatch, lambda: momentum_mnist.report_lines(fake))
    _same_numbers(en, zh)
    assert ">" in zh[0] and CJK.search(zh[0])


def test_mini_run_prints_chinese(monkeypatch, capsys):
    def fake(data, **kw):
        return {"steps": 120 if kw["beta"] else None, "curve_steps": [0, 400], "curve_loss": [2.3, 0.4]}

    monkeypatch.setattr(momentum_mnist, "steps_to_loss", fake)
    small = type("Data", (), {"subset": lambda self, n: self})()
    monkeypatch.setattr("lecture_utils.data.load_mnist1d", lambda: small)

    def run():
        momentum_mnist.mini_run()
        return capsys.readouterr().out.splitlines()

    en, zh = _both(monkeypatch, run)
    _same_numbers(en, zh)


# ----------------------------------------------------------------------------- scorecard (notebook 06)
@functools.lru_cache(maxsize=None)
def _rows(lang):
    import os

    old = os.environ.get("LECTURE_LANG")
    os.environ["LECTURE_LANG"] = lang
    try:
        return scorecard.rows()
    finally:
        if old is None:
            del os.environ["LECTURE_LANG"]
        else:
            os.environ["LECTURE_LANG"] = old


def _targets(markdown):
    return re.findall(r"\]\(([^)]*)\)", markdown)


def test_scorecard_speaks_chinese_with_the_same_numbers_and_links(monkeypatch):
    en_rows, zh_rows = _rows("en"), _rows("zh")
    assert [r["verdict"] for r in en_rows] == [r["verdict"] for r in zh_rows]   # the logic's words: English

    def texts(rows):
        return ([scorecard.verdict_table(rows), scorecard.markdown_table(rows)]
                + [scorecard.card(r) for r in rows] + scorecard.key_results(rows))

    monkeypatch.setenv("LECTURE_LANG", "en")
    en = texts(en_rows)
    monkeypatch.setenv("LECTURE_LANG", "zh")
    zh = texts(zh_rows)
    _same_numbers(en, zh)
    for e, z in zip(en, zh):
        assert _targets(e) == _targets(z)              # every link still names the English heading's anchor
    assert "成立" in zh[0]
    for r in zh_rows:
        assert not r["condition"] or CJK.search(r["condition"])


def test_scorecard_constants_stay_english():
    """CLAIMS and LITERATURE are English whatever the language at import (the cheat sheet reads them)."""
    for text in list(scorecard.CLAIMS.values()) + list(scorecard.LITERATURE.values()):
        assert not CJK.search(text)
    assert scorecard.CLAIMS["momentum"] == "Momentum rolls past local minima and saddles"
