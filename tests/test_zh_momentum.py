"""Notebooks 05 and 06 speak Chinese in the Chinese edition (``LECTURE_LANG=zh``): the momentum panels'
captions and figures, the sweeps' printed lines, the quadratic race and the scorecard (verdict table, cards,
key results) come from ``lecture_utils/locale/zh_CN/*.po`` and carry the same numbers, in the same order, as
the English text. English (the default) is tested by test_panels_momentum.py, test_scorecard.py and the
sweep tests; the English notebooks' stored outputs by strict nbval."""
from __future__ import annotations

import functools
import re

import matplotlib.pyplot as plt
import numpy as np
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


# ------------------------------------------------------------------------- notebook 05's own printed lines
def _lines(make):
    return lambda: make().splitlines()


def _valley():
    from lecture_utils import optim

    return optim, P.VALLEY.grad, P.VALLEY_THETA0


def test_paths_table_keeps_the_old_header_and_lines_up_in_chinese(monkeypatch):
    from lecture_utils import optim
    from lecture_utils.i18n import display_width

    gd = optim.momentum_path(lambda th: th, [1.0], lr=0.1, beta=0.0, steps=6)
    mom = optim.momentum_path(lambda th: th, [1.0], lr=0.1, beta=0.9, steps=6)
    en, zh = _both(monkeypatch, _lines(lambda: P.paths_table(gd, mom, beta=0.9)))
    assert en[0] == " t   gradient descent θᵗ   momentum β = 0.9 θᵗ"
    assert en[1:] == zh[1:] and en[3] == " 2                0.8100                0.7200"
    _same_numbers(en, zh)
    assert display_width(zh[0]) == len(en[0])   # the Chinese header ends where the columns end


def test_convention_and_equivalence_checks_in_chinese(monkeypatch):
    optim, grad, theta0 = _valley()
    rows = optim.compare_conventions(grad, theta0, lr=0.4, beta=0.8, steps=100)
    demo = optim.schedule_demo(grad, theta0, lr=0.4, beta=0.8, steps=60, at=20, factor=0.1)
    tr = optim.momentum_trace(grad, theta0, lr=0.4, beta=0.8, steps=30)
    for make, first in [
        (lambda: P.conventions_table(rows),
         "lecture          m = β·m − η·g;  θ = θ + m          step 0.40   same path to 1e-12: True"),
        (lambda: P.schedule_report(demo), "before the drop: the forms agree to 1e-12: True"),
        (lambda: P.nesterov_report(grad, theta0, lr=0.4, beta=0.8, steps=100, at=30),
         "SGD(nesterov=True)'s parameter = θᵗ + β·mᵗ (to 1e-12): True"),
        (lambda: P.unrolled_report(tr, lr=0.4, beta=0.8),
         "unrolled sum = recursive movement (to 1e-12): True"),
    ]:
        en, zh = _both(monkeypatch, _lines(make))
        assert en[0] == first
        _same_numbers(en, zh)
        assert not any(z.endswith("True") for z in zh) and zh[0].endswith("是")
    en, zh = _both(monkeypatch, _lines(lambda: P.nesterov_report(grad, theta0, lr=0.4, beta=0.8, steps=100)))
    assert en[2] == "distance to the minimum after 30 steps: lecture's momentum 0.021, Nesterov 0.013"


def test_landmarks_critical_points_and_quadratic_tables_in_chinese(monkeypatch):
    from lecture_utils.i18n import display_width

    q = quad.make_quadratic(100.0)
    best = quad.optimal_params(q.eigenvalues)
    cases = [
        (P.landmarks_table, "global minimum  θ =  0.00   L =  0.00"),
        (P.critical_point_report,
         "1-D global minimum   |∇L| < 1e-9: True   Hessian eigenvalues [1.00]  ->  minimum"),
        (lambda: quad.race_table(100.0),
         "gradient descent α = 1.980  β = 0.000   rate: theory 0.980, measured 0.980"
         "   steps to 1e-3: theory 346, measured 346"),
        (lambda: P.sensitivity_table(q, [(best["alpha"], best["beta"]), (3.30, 0.67)]),
         "   α      β      rate     steps to 10⁻³   steps to 10⁻⁸"),
        (lambda: P.stability_report(q, (0.0, 0.9)), "β = 0.0: (2 + 2β)/λ_max = 2.00;  η = 1.960: converges,  "
                                                     "η = 2.040: diverges"),
    ]
    for make, first in cases:
        en, zh = _both(monkeypatch, _lines(make))
        assert en[0] == first
        _same_numbers(en, zh)
    en, zh = _both(monkeypatch, _lines(P.critical_point_report))
    assert en[-1].endswith("->  degenerate (a minimum and a non-minimum: the test cannot tell them apart)")
    en, zh = _both(monkeypatch, _lines(P.landmarks_table))
    assert [display_width(z.split(" θ")[0]) for z in zh] == [15] * 3   # names padded to the same column
    en, zh = _both(monkeypatch, _lines(lambda: P.sensitivity_table(q, [(3.30, 0.67)])))
    assert display_width(zh[0]) == display_width(en[0]) and zh[1] == en[1]


def test_rolling_lines_in_chinese(monkeypatch):
    from lecture_utils import rolling

    en, zh = _both(monkeypatch, _lines(lambda: rolling.escape_report([2, 64], n_runs=20)))
    assert en[1].startswith("SGD, batch size 64 (full batch): ") and en[1].endswith(" of runs escape")
    _same_numbers(en, zh)
    en, zh = _both(monkeypatch, lambda: [rolling.rolled_past_line(0.1), rolling.at_rest_line(0.1, beta=0.9)])
    assert en == ["momentum, η = 0.1, from θ = 4: every β ≥ 0.41 rolls past the local minimum",
                  "momentum β = 0.9 started AT the local minimum (m = 0, g = 0) ends at θ = 2.86: "
                  "it never moves"]
    _same_numbers(en, zh)
    scan = type("Scan", (), {"rolled_past": lambda self: np.array([0.5, 0.9])})()
    monkeypatch.setattr(rolling, "beta_scan", lambda lr, betas: scan)   # 0.7 does not roll past
    en, zh = _both(monkeypatch, lambda: [rolling.rolled_past_line(0.1, betas=np.array([0.5, 0.7, 0.9]))])
    assert en[0].startswith("momentum, η = 0.1: the β that roll past are")
    _same_numbers(en, zh)


def test_sweep_header_fit_and_growth_lines_in_chinese(monkeypatch):
    rec, saddle, batch = _record("momentum_mnist"), _record("momentum_saddle"), _record("momentum_batch")
    cases = [
        (lambda: momentum_mnist.header_line(rec),
         "steps to a training loss of 0.5, B = 64: median (min–max) of 2 seeds, "
         "loss measured every 25 steps"),
        (lambda: momentum_batch.header_line(batch),
         "updates to training loss 0.8 at each seed's best η: mean ± 95 % t-interval over 3 seeds; speed-up "
         "SGD/momentum paired by seed"),
        (lambda: momentum_batch.fit_lines(batch),
         "β = 0: S(B) = S_min·(1 + B_crit/B): S_min = 122 updates, B_crit = 124 "
         "(per seed 124 ± 10 (95 % t-interval, 3 seeds)), E_min = S_min·B_crit = 15,159 examples"),
        (lambda: momentum_saddle.growth_report(saddle), "μ = −(mean λ_min over the seeds) = 0.077"),
    ]
    for make, first in cases:
        en, zh = _both(monkeypatch, _lines(make))
        assert en[0] == first
        _same_numbers(en, zh)
    en, _zh = _both(monkeypatch, _lines(lambda: momentum_saddle.growth_report(saddle)))
    assert en[2] == ("η/(1−β) = 1: σ per update SGD 1.0772, momentum 1.0531;  updates momentum / SGD: "
                     "predicted ln σ_SGD / ln σ_mom = 1.44, measured 1.53")
