"""The language of what the course prints and draws: English, or Chinese (zh-CN) for ``notebooks/zh/``.

Every sentence a learner reads in an output (a check's verdict and hint, a panel's caption, a printed table
header, a figure's labels) goes through :func:`_`: ``_("text {x:.2f}").format(x=...)``, so the English text
with its placeholders is the message id (``msgid``) and the format is applied after the lookup. The Chinese
translations live in gettext catalogs ``lecture_utils/locale/zh_CN/*.po`` (one per module, so no two people
edit one file), extracted from the code with Babel (``python scripts/i18n.py messages``; a test fails on a
message without a translation or with a fuzzy one).

The language is chosen at every call, in this order:

1. ``LECTURE_LANG`` in the environment (``zh`` / ``zh-CN`` or ``en``) — ``scripts/execute_notebooks.py``
   sets it for ``notebooks/zh/``;
2. the notebook the kernel serves, when it lives in a folder named ``zh`` (``JPY_SESSION_NAME``, set by
   Jupyter Server to the notebook's path);
3. the kernel's working folder, when it is named ``zh`` (Jupyter and nbval start a kernel in its notebook's
   folder).

Otherwise English. :func:`_` returns the text unchanged in English or when a message has no translation.
"""
from __future__ import annotations

import os
import sys
from functools import lru_cache
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale" / "zh_CN"
LANGUAGES = ("en", "zh")


def language():
    """``"zh"`` or ``"en"`` (see the module docstring for the order of the rules)."""
    env = os.environ.get("LECTURE_LANG", "").strip().lower()
    if env:
        if env.startswith("zh"):
            return "zh"
        if env.startswith("en"):
            return "en"
        raise ValueError(f"LECTURE_LANG must be 'en' or 'zh' (also 'zh-CN'); got {env!r}")
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session and Path(session).parent.name == "zh":
        return "zh"
    try:
        return "zh" if Path.cwd().name == "zh" else "en"
    except OSError:  # the working folder was removed
        return "en"


@lru_cache(maxsize=None)
def module_catalog(module):
    """msgid → msgstr of one module's catalog (``lecture_utils.panels.batches`` → ``panels_batches.po``):
    every translated, non-fuzzy entry."""
    name = module.split(".", 1)[1] if module.startswith("lecture_utils.") else module
    path = LOCALE_DIR / (name.replace(".", "_") + ".po")
    return _read(path) if path.is_file() else {}


@lru_cache(maxsize=1)
def catalog():
    """msgid → msgstr of every translated, non-fuzzy entry of all Chinese runtime catalogs (the fallback
    when the calling module's own catalog lacks a message)."""
    table = {}
    for path in sorted(LOCALE_DIR.glob("*.po")):
        table.update(_read(path))
    return table


def _read(path):
    import polib

    return {e.msgid: e.msgstr for e in polib.pofile(str(path), wrapwidth=0)
            if e.msgstr and not e.obsolete and "fuzzy" not in e.flags}


def _(text):
    """The text in the current :func:`language` (English: unchanged), from the calling module's catalog
    first (one English word may read differently in two modules), then from any. Format after the
    lookup: ``_("B = {b}").format(b=b)``, never ``_(f"B = {b}")``."""
    return _lookup(text, sys._getframe(1).f_globals.get("__name__", ""))


def display_width(text):
    """The columns ``text`` takes in a monospaced table: 2 for a wide (CJK) character, else 1 — the one
    count every table that lines up Chinese headers uses (``timing.pad``, the panels' tables)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))


def ngettext(singular, plural, n):
    """One of two English forms by ``n``, translated (Chinese has one form: the translation of either)."""
    return _lookup(singular if n == 1 else plural, sys._getframe(1).f_globals.get("__name__", ""))


def _lookup(text, module):
    if language() == "en":
        return text
    own = module_catalog(module)
    if text in own:
        return own[text]
    return catalog().get(text, text)
