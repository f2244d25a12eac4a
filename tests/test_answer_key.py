"""teaching/answer_key.md is generated from the notebooks and complete: every Think! and every exercise
has a hidden answer, and the committed key equals what scripts/build_answer_key.py makes now."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_answer_key_is_current_and_nothing_is_missing():
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_answer_key.py"), "--check"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
