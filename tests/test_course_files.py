"""The course's files are all there: a deleted notebook fails here (and in every test that reads it)."""
from course_files import NOTEBOOK_NAMES, ROOT, missing_notebooks


def test_every_course_notebook_is_there_and_no_other():
    assert not missing_notebooks(), f"course notebooks missing from notebooks/: {missing_notebooks()}"
    found = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert found == sorted(NOTEBOOK_NAMES), (
        f"notebooks/ holds {found}; the course is {list(NOTEBOOK_NAMES)} (tests/course_files.py)")
