"""The classroom test starts a real JupyterHub with 8 students and runs every notebook in each server:
minutes of work, so it runs only from ``make hub-test`` (which sets ``LECTURE_HUB_TEST=1``) and is
skipped, with that hint, in ``make unit``/``pytest tests``."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    if os.environ.get("LECTURE_HUB_TEST") == "1":
        return
    skip = pytest.mark.skip(reason="starts a real JupyterHub with 8 students: run it with `make hub-test`")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)
