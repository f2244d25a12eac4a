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
