"""What the code prints and draws speaks the notebook's language (lecture_utils.i18n): the rules that choose
it, the lookup, and that every runtime message in lecture_utils has a Chinese translation (no missing, no
fuzzy entry; scripts/i18n.py messages extracts them with Babel)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from lecture_utils import i18n

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import i18n as i18n_script  # noqa: E402


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.delenv("LECTURE_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_the_language_rules(clean_env, tmp_path):
    assert i18n.language() == "en"
    notebook = tmp_path / "my-notebooks" / "zh" / "01_batches_and_epochs.ipynb"
    clean_env.setenv("JPY_SESSION_NAME", str(notebook))
    assert i18n.language() == "zh"  # a kernel serving a notebook of the Chinese edition
    clean_env.setenv("LECTURE_LANG", "en")
    assert i18n.language() == "en"  # the environment wins
    clean_env.setenv("LECTURE_LANG", "zh-CN")
    assert i18n.language() == "zh"
    clean_env.delenv("LECTURE_LANG")
    clean_env.delenv("JPY_SESSION_NAME")
    (tmp_path / "zh").mkdir()
    clean_env.chdir(tmp_path / "zh")
    assert i18n.language() == "zh"  # nbval and Jupyter start a kernel in its notebook's folder


def test_an_unknown_language_is_refused(clean_env):
    clean_env.setenv("LECTURE_LANG", "fr")
    with pytest.raises(ValueError, match="LECTURE_LANG must be 'en' or 'zh'"):
        i18n.language()


def test_lookup_formats_after_translating(clean_env):
    text = "B = {b}: {n} updates"
    clean_env.setattr(i18n, "catalog", lambda: {text: "B = {b}：{n} 次更新"})
    assert i18n._(text).format(b=32, n=125) == "B = 32: 125 updates"
    clean_env.setenv("LECTURE_LANG", "zh")
    assert i18n._(text).format(b=32, n=125) == "B = 32：125 次更新"
    assert i18n._("not in the catalog") == "not in the catalog"


def test_every_runtime_message_has_a_chinese_translation():
    problems = i18n_script.runtime_problems()
    more = f"\n  … {len(problems)} in all" if len(problems) > 30 else ""
    assert not problems, ("run python scripts/i18n.py messages, then translate:\n  "
                          + "\n  ".join(problems[:30]) + more)


def test_a_module_reads_its_own_catalog_first(clean_env):
    """One English word may read differently in two modules ("never" in a table vs in a caption)."""
    tables = {"lecture_utils.a": {"never": "从未"}, "lecture_utils.b": {"never": "从未达到"}}
    clean_env.setattr(i18n, "module_catalog", lambda module: tables.get(module, {}))
    clean_env.setattr(i18n, "catalog", lambda: {"never": "从未", "updates": "次更新"})
    clean_env.setenv("LECTURE_LANG", "zh")
    assert i18n._lookup("never", "lecture_utils.a") == "从未"
    assert i18n._lookup("never", "lecture_utils.b") == "从未达到"
    assert i18n._lookup("updates", "lecture_utils.b") == "次更新"  # the others' catalogs as a fallback


def test_the_stale_panel_hint_speaks_the_notebooks_language(monkeypatch):
    """A panel whose kernel is gone says so in the notebook's language (JupyterLab's menu names as they
    read)."""
    from lecture_utils.widgets import Panel

    monkeypatch.delenv("LECTURE_LANG", raising=False)
    assert Panel.stale_hint() == Panel.STALE_HINT
    monkeypatch.setenv("LECTURE_LANG", "zh")
    hint = Panel.stale_hint()
    assert "重新运行" in hint and "Run All Cells" in hint and hint.startswith("⚠")
