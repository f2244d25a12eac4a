"""A learner's own copy (scripts/student_copy.py, make lab): saves never touch the course's notebooks."""
from __future__ import annotations

from pathlib import Path

import pytest
from course_files import load_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sc():
    return load_script("student_copy")


@pytest.fixture
def course(tmp_path):
    src = tmp_path / "notebooks"
    (src / "zh").mkdir(parents=True)
    (src / ".ipynb_checkpoints").mkdir()
    for rel in ("01_a.ipynb", "02_b.ipynb", "zh/01_a.ipynb", ".ipynb_checkpoints/01_a-checkpoint.ipynb"):
        (src / rel).write_text(f"original {rel}")
    return src, tmp_path / "mine"


def test_ensure_copies_once_and_never_overwrites(sc, course):
    src, dest = course
    assert [str(p) for p in sc.ensure(dest, src)] == ["01_a.ipynb", "02_b.ipynb", "zh/01_a.ipynb"]
    (dest / "01_a.ipynb").write_text("my work")
    (src / "03_c.ipynb").write_text("original 03")
    assert [str(p) for p in sc.ensure(dest, src)] == ["03_c.ipynb"]
    assert (dest / "01_a.ipynb").read_text() == "my work"
    assert (src / "01_a.ipynb").read_text() == "original 01_a.ipynb"


def test_restore_puts_back_the_original_and_keeps_the_learners_version(sc, course):
    src, dest = course
    sc.ensure(dest, src)
    (dest / "zh" / "01_a.ipynb").write_text("my work")
    backup = sc.restore("zh/01_a", dest, src)
    assert (dest / "zh" / "01_a.ipynb").read_text() == "original zh/01_a.ipynb"
    assert backup.read_text() == "my work" and backup.name.startswith("01_a.mine-")


def test_restore_names_the_valid_notebooks(sc, course):
    src, dest = course
    with pytest.raises(ValueError, match=r"name must be one of the course notebooks \(01_a, 02_b, zh/01_a\)"):
        sc.restore("99_nope", dest, src)


def test_the_copy_is_git_ignored():
    assert "/my-notebooks/" in (ROOT / ".gitignore").read_text().splitlines()
