"""make check-class (scripts/check_class.py): each check says clearly what is wrong and what to do."""
from __future__ import annotations

from pathlib import Path

import pytest
from course_files import load_script

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cc():
    return load_script("check_class")


def test_a_missing_cache_fails_with_the_rebuild_command(cc, tmp_path, monkeypatch):
    from lecture_utils import sweeps

    monkeypatch.setattr(sweeps, "cache_dirs", lambda: [tmp_path])
    with pytest.raises(RuntimeError) as err:
        cc.check_caches()
    msg = str(err.value)
    assert "batch_accuracy" in msg and "python -m lecture_utils.sweeps" in msg


def test_a_wrong_version_is_named_with_the_fix(cc, monkeypatch):
    from importlib import metadata

    real = metadata.version
    monkeypatch.setattr(metadata, "version", lambda n: "0.0.1" if n == "torch" else real(n))
    with pytest.raises(RuntimeError, match=r"torch 0\.0\.1 \(pinned 2\.13\.0\).*make lab"):
        cc.check_environment()


def test_the_round_trip_passes_and_main_reports_a_failure(cc, capsys, monkeypatch):
    assert "changed and restored" in cc.check_round_trip()
    monkeypatch.setattr(cc, "CHECKS", [("boom", lambda: (_ for _ in ()).throw(RuntimeError("no caches")))])
    assert cc.main(["--quick"]) == 1
    out = capsys.readouterr().out
    assert "× boom" in out and "no caches" in out and "NOT ready" in out
