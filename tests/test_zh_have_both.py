"""Notebook 04 in Chinese (lecture_utils.i18n): what panels.have_both, tuning and parallel print and draw
speaks Chinese under LECTURE_LANG=zh, with the same numbers as the English, which stays as it was; every
message of these modules has a translation."""
from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import matplotlib
import pytest

from lecture_utils import sweeps, tuning
from lecture_utils.panels import have_both as hb

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")
MODULES = ("lecture_utils/panels/have_both.py", "lecture_utils/tuning.py", "lecture_utils/parallel.py",
           "lecture_utils/sweeps/have_both.py", "lecture_utils/sweeps/tuned_lr.py",
           "lecture_utils/sweeps/warmup.py", "lecture_utils/sweeps/critical_batch.py",
           "lecture_utils/sweeps/noise_scale.py", "lecture_utils/small_vs_large.py")


@pytest.fixture(scope="module")
def recs():
    return {name: sweeps.load(name) for name in ("have_both", "tuned_lr", "warmup", "critical_batch",
                                                 "noise_scale")}


def _texts(r):
    """Every printed text of notebook 04 that this module makes, by name."""
    rec, lr, wu, cb, ns = (r[k] for k in ("have_both", "tuned_lr", "warmup", "critical_batch", "noise_scale"))
    return {"protocol_table": hb.protocol_table(rec), "baseline_line": hb.baseline_line(rec),
            "rule_limits": hb.rule_limits(rec), "warmup_verdict": hb.warmup_verdict(wu),
            "warmup_table": hb.warmup_table(wu), "stability_line": hb.stability_line(wu),
            "tuned_verdict_512": hb.tuned_verdict(lr, batch_sizes=[512]), "tuned_table": hb.tuned_table(lr),
            "tuned_verdict": hb.tuned_verdict(lr), "train_longer_table": hb.train_longer_table(rec, lr),
            "critical_table": hb.critical_table(cb, ns), "noise_table": hb.noise_table(ns),
            "trust_ratio_line": hb.trust_ratio_line(rec), "lars_table": hb.lars_table(rec),
            "parallel_table": hb.parallel_table(rec), "summary_table": hb.summary_table(),
            "protocol_line": hb.protocol_line(rec), "cached_parallel_note": hb.cached_parallel_note(),
            "parallel_run_line": hb.parallel_run_line(_Run())}


class _Run:
    """The fields of a ``data_parallel_train`` result that :func:`hb.parallel_run_line` prints."""
    seconds, steps, examples_per_second, startup_seconds = 0.123, 50, 208130.2, 1.26


def _in(monkeypatch, lang, make):
    monkeypatch.setenv("LECTURE_LANG", lang)
    return make()


def test_every_table_and_line_is_chinese_with_the_english_numbers(recs, monkeypatch):
    en = _in(monkeypatch, "en", lambda: _texts(recs))
    zh = _in(monkeypatch, "zh", lambda: _texts(recs))
    for name, text in zh.items():
        assert not CJK.search(en[name]), name
        assert CJK.search(text), f"{name} is not Chinese:\n{text}"
        assert NUMBERS.findall(text) == NUMBERS.findall(en[name]), name
        assert len(text.splitlines()) == len(en[name].splitlines()), name


def test_the_english_text_is_unchanged(recs, monkeypatch):
    en = _in(monkeypatch, "en", lambda: _texts(recs))
    assert en["protocol_table"].splitlines()[2].startswith("setting" + " " * 39 + "     B")
    assert "paired per seed: B = 512, scaled η: + warm-up − no warm-up: " in en["protocol_table"]
    assert en["baseline_line"].startswith("B = 32 at η = 0.1, this cache: ")
    assert "        Fisher's exact test (two-sided) p = " in en["warmup_table"]


def test_the_table_columns_stay_aligned_in_chinese(recs, monkeypatch):
    """A Chinese character takes two columns: the padding counts it twice, so the rows line up."""
    from lecture_utils.i18n import display_width as width

    zh = _in(monkeypatch, "zh", lambda: _texts(recs))
    lines = zh["protocol_table"].splitlines()[2:-1]
    assert len({width(line) for line in lines}) == 1, lines
    assert hb._fit("批量", "<6") == "批量  " and hb._fit("batch", ">6") == " batch"


def test_the_panel_caption_and_controls_are_chinese(recs, monkeypatch):
    def panel():
        p = hb.scaling_panel(recs["have_both"])
        caps = [p.update(batch_size=b, eta=eta, warmup=warm) for b in (32, 512, 2048)
                for eta in ("fixed", "scaled") for warm in (False, True)]
        return p, caps

    p_en, en = _in(monkeypatch, "en", panel)
    p_zh, zh = _in(monkeypatch, "zh", panel)
    for a, b in zip(en, zh):
        assert CJK.search(b) and not CJK.search(a)
        assert NUMBERS.findall(a) == NUMBERS.findall(b)
    assert p_en.title == "batch size, η scaled or not, warm-up" and CJK.search(p_zh.title)
    assert CJK.search(p_zh.controls["warmup"].description)
    assert p_zh.controls["eta"].value == "scaled"  # the buttons' values stay English: the grid's keys
    assert [v for _, v in p_zh.controls["eta"].options] == ["fixed", "scaled"]
    assert all(CJK.search(label) for label, _ in p_zh.controls["eta"].options)
    # a diverged run: the status overlay says so in Chinese
    p_zh.update(batch_size=2048, eta="scaled", warmup=False)
    assert any(CJK.search(t.get_text()) for t in p_zh.fig.axes[0].texts if t.get_visible())


@pytest.mark.parametrize("name", ["protocol_figure", "warmup_figure", "tuned_figure", "critical_figure",
                                  "lars_figure"])
def test_figures_are_labelled_in_chinese(recs, monkeypatch, name):
    import matplotlib.pyplot as plt

    args = {"protocol_figure": ("have_both",), "warmup_figure": ("warmup",), "tuned_figure": ("tuned_lr",),
            "critical_figure": ("critical_batch", "noise_scale"), "lars_figure": ("have_both",)}[name]
    monkeypatch.setenv("LECTURE_LANG", "zh")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph … missing" until a CJK font is registered
        fig = getattr(hb, name)(*(recs[a] for a in args))
    try:
        legends = []
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            assert CJK.search(ax.get_xlabel() + ax.get_ylabel() + ax.get_title()), (name, ax.get_xlabel())
            if ax.get_legend() is not None:
                legends += [t.get_text() for t in ax.get_legend().get_texts()]
        # legends of words are Chinese ("B = 32", "η ∝ B" are symbols in both languages)
        assert name == "tuned_figure" or not legends or any(CJK.search(t) for t in legends), legends
    finally:
        plt.close(fig)


def test_tuning_labels_follow_the_language(recs, monkeypatch):
    en = _in(monkeypatch, "en", lambda: tuning.protocol_differences(recs["have_both"], recs["tuned_lr"]))
    zh = _in(monkeypatch, "zh", lambda: tuning.protocol_differences(recs["have_both"], recs["tuned_lr"]))
    assert [c for _, c in en] == [c for _, c in zh]
    assert en[0][0] == "B = 512, scaled η: + warm-up − no warm-up"
    assert all(CJK.search(label) for label, _ in zh)
    rows = _in(monkeypatch, "zh", lambda: tuning.train_longer_rows(recs["have_both"], recs["tuned_lr"]))
    assert all(CJK.search(r["name"]) for r in rows)
    # the protocol's row names are keys (protocol_numbers looks them up): they stay English
    assert _in(monkeypatch, "zh", lambda: tuning.protocol_numbers(recs["have_both"]))["small"] is not None


def test_parallel_errors_are_chinese(monkeypatch):
    from lecture_utils.parallel import _traceback_text, data_parallel_train

    monkeypatch.setenv("LECTURE_LANG", "zh")
    with pytest.raises(ValueError) as err:
        data_parallel_train(2, 3000, lr=0.1, steps=1, seed=0)
    assert CJK.search(str(err.value)) and "[1, 2000]" in str(err.value) and "3000" in str(err.value)
    assert CJK.search(_traceback_text("/nonexistent-folder", 0))


def test_every_message_of_these_modules_is_translated():
    sys.path.insert(0, str(ROOT / "scripts"))
    import i18n as i18n_script

    problems = [p for p in i18n_script.runtime_problems() if any(m in p for m in MODULES)]
    assert not problems, "\n".join(problems)


SUMMARY_ROWS = ["time per update, 1 process (ms)", "time per epoch (s)",
                "time per update, 2 workers, B = 512 (ms)", "gradient noise E|g_B − g|²/|g|² at loss 0.8",
                "optimization: updates to loss 0.8 (η tuned)", "test acc after 10 epochs, same η",
                "generalization: test acc at 100 % train, same η (B = 32 vs 400)",
                "having both: test acc at 100 % train, η tuned for each B"]


def test_notebook_04_lines_in_english_are_the_old_lines(recs, monkeypatch):
    t = _in(monkeypatch, "en", lambda: _texts(recs))
    assert t["protocol_line"] == ("protocol: train to 100% training accuracy (at most 150 epochs), "
                                  "seeds [0, 1, 2], base B0 = 32 at η0 = 0.1")
    assert t["cached_parallel_note"] == ("RERUN_PARALLEL = False: the cached run of 1 and 2 workers is "
                                         "printed below")
    assert t["parallel_run_line"] == ("this run: 0.12 s for 50 updates (208130 examples/s), plus 1.3 s to "
                                      "start them")
    assert [line.split("  ")[0] for line in t["summary_table"].splitlines()[1:-1]] == SUMMARY_ROWS
    assert t["summary_table"].splitlines()[3].endswith("  04 parallel (1 run)")


def test_summary_rows_follow_the_language(monkeypatch):
    from lecture_utils import small_vs_large

    missing = {n: "FileNotFoundError: x" for n in small_vs_large.CACHES}
    en = _in(monkeypatch, "en", lambda: small_vs_large.summary_rows(missing)[0])
    zh = _in(monkeypatch, "zh", lambda: small_vs_large.summary_rows(missing)[0])
    assert en[0] == ("time per update, 1 process (ms)", None, None, "01 (cache missing)")
    for (qe, _a, _b, se), (qz, _c, _d, sz) in zip(en, zh):
        assert CJK.search(qz) and CJK.search(sz), (qz, sz)
        assert NUMBERS.findall(qe + se) == NUMBERS.findall(qz + sz)
