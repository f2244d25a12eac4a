"""What the Chinese-edition tests (tests/test_zh_*.py) share: an output made in both languages, and the check
that the Chinese one is Chinese and says the same numbers, in the same order, as the English one."""
import re

CJK = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def both(monkeypatch, make):
    """``make()`` in English, then in Chinese."""
    monkeypatch.setenv("LECTURE_LANG", "en")
    en = make()
    monkeypatch.setenv("LECTURE_LANG", "zh")
    return en, make()


def same_numbers(en, zh, *, english_has_cjk=False):
    """``zh`` has Chinese, ``en`` has none (unless ``english_has_cjk``), and both hold the same numbers."""
    if not english_has_cjk:
        assert not CJK.search(en), en
    assert CJK.search(zh), zh
    assert NUMBER.findall(en) == NUMBER.findall(zh), (en, zh)


def figure_texts(fig, *, suptitle=False, ticks=False):
    """The non-empty titles, axis labels, texts and legend entries of ``fig`` (with ``suptitle``: its
    suptitle first; with ``ticks``: the x tick labels that are not mathtext)."""
    out = [fig._suptitle.get_text()] if suptitle and fig._suptitle is not None else []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()] + [t.get_text() for t in ax.texts]
        if ticks:
            out += [t.get_text() for t in ax.get_xticklabels() if "$" not in t.get_text()]
        legend = ax.get_legend()
        if legend:
            out += [t.get_text() for t in legend.get_texts()] + [legend.get_title().get_text()]
    return [t for t in out if t]
