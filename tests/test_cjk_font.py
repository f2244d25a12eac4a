"""The course's Chinese font (issue 21 §4): figures drawn under ``LECTURE_LANG=zh`` have no missing glyph,
the vendored font covers every character of the Chinese catalogs, and English figures are unchanged."""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import pytest

from lecture_utils import plotting

ROOT = Path(__file__).resolve().parent.parent
RERUN = ("re-run scripts/make_cjk_font.py (it subsets Noto Sans CJK SC to the characters of the catalogs; "
         "the docstring says where the source font comes from)")


def _make_cjk_font():
    spec = importlib.util.spec_from_file_location("make_cjk_font", ROOT / "scripts" / "make_cjk_font.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def mpl_rc():
    import matplotlib as mpl

    saved = mpl.rcParams.copy()
    yield mpl
    mpl.rcParams.update(saved)


def test_font_is_vendored_with_its_licence_and_small():
    assert plotting.CJK_FONT.is_file(), RERUN
    assert plotting.CJK_FONT.stat().st_size <= 2_000_000
    assert "SIL OPEN FONT LICENSE" in (plotting.CJK_FONT.parent / "OFL.txt").read_text(encoding="utf-8")
    css = (ROOT / "app" / "voila" / "templates" / "course" / "static" / "course-cjk.css").read_text()
    assert 'font-family: "Course CJK"' in css and "src: url(data:font/woff;base64," in css
    assert "http://" not in css.split("*/", 1)[1] and "https://" not in css


def test_every_character_of_the_chinese_catalogs_is_in_the_font():
    from fontTools.ttLib import TTFont

    mod = _make_cjk_font()
    cmap = TTFont(plotting.CJK_FONT).getBestCmap()
    missing = {}
    for path in mod.course_texts():
        text = path.read_text(encoding="utf-8")
        for ch in sorted({c for c in text if mod.is_chinese(c)}):
            if ord(ch) not in cmap:
                missing.setdefault(ch, path.relative_to(ROOT).as_posix())
    assert not missing, (f"{len(missing)} character(s) of the Chinese text are not in "
                         f"{plotting.CJK_FONT.name}: "
                         + ", ".join(f"{c} (U+{ord(c):04X}, {p})" for c, p in list(missing.items())[:20])
                         + f"; {RERUN}")


def test_chinese_figure_has_no_missing_glyph(monkeypatch, mpl_rc, caplog):
    """Text and mathtext: a log axis's tick labels ($\\mathdefault{10^{-1}}$) use the first font of
    font.family without fallback, so the course font must carry digits (they were boxes before)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.setenv("LECTURE_LANG", "zh")
    plotting.use_style()
    assert mpl_rc.rcParams["font.family"] == ["Course CJK", "sans-serif"]
    plotting.use_style()  # idempotent
    assert mpl_rc.rcParams["font.family"] == ["Course CJK", "sans-serif"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig, ax = plt.subplots()
        try:
            ax.plot([1, 2, 3], [3, 1, 2], label="动量 β = 0.9，学习率 η ≈ 0.1 ± 0.01")
            ax.set_title("鞍点附近：批次与动量（θ 的轨迹），$\\eta$ = 0.1")
            ax.set_yscale("log")
            ax.set_xlabel("批量大小 B")
            ax.set_ylabel("测试准确率 / %")
            ax.text(1.5, 2, "过拟合、泛化、临界批量大小 — “尖锐”与“平坦”的极小值。−1.5")
            ax.legend()
            fig.canvas.draw()
        finally:
            plt.close(fig)
    glyphs = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert not glyphs, glyphs
    boxes = [r.getMessage() for r in caplog.records if "does not have a glyph" in r.getMessage()]
    assert not boxes, boxes[:5]


def test_english_leaves_the_fonts_alone(monkeypatch, mpl_rc):
    monkeypatch.setenv("LECTURE_LANG", "en")
    before = (list(mpl_rc.rcParams["font.family"]), list(mpl_rc.rcParams["font.sans-serif"]))
    assert plotting.use_cjk_font() is False
    plotting.use_style()
    assert (list(mpl_rc.rcParams["font.family"]), list(mpl_rc.rcParams["font.sans-serif"])) == before
