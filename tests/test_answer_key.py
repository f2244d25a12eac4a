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


def _collect(cells, tmp_path):
    import json

    sys.path.insert(0, str(ROOT / "scripts"))
    import build_answer_key

    nb = tmp_path / "nb.ipynb"
    nb.write_text(json.dumps({"cells": cells}))
    return build_answer_key.collect(nb)


def _md(text, tags=()):
    return {"cell_type": "markdown", "source": text, "metadata": {"tags": list(tags)}}


def _code(text, tags=()):
    return {"cell_type": "code", "source": text, "metadata": {"tags": list(tags)}, "outputs": []}


def test_the_key_holds_predictions_and_tagged_exercises_with_their_answers(tmp_path):
    cells = [_md("## 1 · A section\n\n**Before you move the slider:** up or down?\n\n"
                 "<details><summary>Answer</summary>Down: 0.12 at B = 4.</details>"),
             _md("**Exercise 3.** How many updates at B = 300?"),
             _code("updates = ...", ["exercise"]),
             _md("<details><summary>Solution</summary>⌈4000/300⌉ = 14</details>", ["solution"])]
    items, missing = _collect(cells, tmp_path)
    assert missing == []
    assert [it["kind"] for it in items] == ["Before you move the slider", "Exercise 3"]
    assert items[0]["answer"] == "Down: 0.12 at B = 4."
    assert "updates = ..." in items[1]["prompt"] and items[1]["answer"] == "⌈4000/300⌉ = 14"


def test_an_exercise_or_prediction_without_its_answer_is_reported(tmp_path):
    cells = [_md("## 1 · A section\n\n**Before you move the slider:** up or down?"),
             _md("**Exercise 1.** Write it."), _code("x = ...", ["exercise"]),
             _code("y = ...", ["exercise"]),
             _md("<details><summary>Solution</summary>y = 1</details>", ["solution"])]
    _, missing = _collect(cells, tmp_path)
    assert len(missing) == 2
    assert "Before you move the slider without a hidden answer" in missing[0]
    assert "cell 2" in missing[1] and "exercise without a hidden solution" in missing[1]
