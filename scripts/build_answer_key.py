"""Build the teacher's answer key, ``teaching/answer_key.md``, from the notebooks themselves.

The key is generated, never a second copy kept by hand: for every notebook in course order it lists
each **Think!** prompt and each **Before you move the slider** prediction with its hidden answer (the
``<details>`` block in the same cell or in the next markdown cell) and each **exercise** (a code cell
tagged ``exercise``, with the markdown above it) with its hidden solution (the next cell tagged
``solution``), under the section heading (``##``) they belong to.

    python scripts/build_answer_key.py            # write teaching/answer_key.md
    python scripts/build_answer_key.py --check    # exit 1 if the file is stale or an answer is missing
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "teaching" / "answer_key.md"
THINK = re.compile(r"\*\*Think!?\*\*|^#{2,}\s*Think!?", re.I | re.M)
EXERCISE = re.compile(r"^#{3,}\s+(Exercise\b.*)$", re.M)
BOLD_EXERCISE = re.compile(r"\*\*(Exercise\b[^*]*)\*\*")
PREDICT = re.compile(r"\*\*Before you move the slider", re.I)
HEADING = re.compile(r"^(#{1,2})\s+(.*)$", re.M)
DETAILS = re.compile(r"<details>.*?</details>", re.S)


def _notebooks():
    sys.path.insert(0, str(ROOT / "tests"))
    from course_files import NOTEBOOKS

    return list(NOTEBOOKS)


def _source(cell):
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _unfold(details):
    """The answer inside a ``<details>`` block, without the summary line and the tags."""
    body = re.sub(r"<summary>.*?</summary>", "", details, flags=re.S)
    body = body.replace("<details>", "").replace("</details>", "")
    return body.strip()


def _prompt(text, pattern=THINK):
    """The prompt: the text of the Think! (or prediction) blockquote or paragraph, up to its answer."""
    start = pattern.search(text).start()
    head = text[:start]
    line_start = head.rfind("\n") + 1
    rest = text[line_start:]
    rest = DETAILS.split(rest)[0]
    lines = []
    for line in rest.splitlines():
        if not line.strip() and lines:
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _exercise_prompt(cells, i):
    """Title and prompt of the exercise whose code cell is ``cells[i]``: the nearest markdown cell above it
    (its hidden blocks removed), titled by its ``### Exercise …`` heading or its bold **Exercise …** words."""
    for j in range(i - 1, -1, -1):
        cell = cells[j]
        if cell["cell_type"] != "markdown" or "solution" in _tags(cell):
            continue
        text = DETAILS.sub("", _source(cell)).strip()
        m = EXERCISE.search(text) or BOLD_EXERCISE.search(text)
        named = m or re.search(r"(Exercise\s+[0-9A-Z]\b)", text)
        title = named.group(1).strip().rstrip(".:") if named else "Exercise"
        body = text[m.end():].strip() if m and EXERCISE.search(text) else text
        body = re.sub(r"^#{1,6}\s.*$", "", body, flags=re.M).strip()
        return title, body
    return "Exercise", ""


def collect(path):
    """``(items, missing)`` for one notebook: items are dicts (kind, section, prompt, answer), in cell order.

    Three kinds of question: each **Think!** prompt (its answer: the ``<details>`` block in the same or the
    next markdown cell), each **Before you move the slider** prediction prompt (the same), and each exercise
    (a code cell tagged ``exercise``; its answer: the next cell tagged ``solution``)."""
    cells = json.loads(path.read_text())["cells"]
    items, missing, section = [], [], path.stem
    for i, cell in enumerate(cells):
        text = _source(cell)
        deep = " (deep dive)" if "deep-dive" in _tags(cell) else ""
        if cell["cell_type"] == "markdown" and "solution" not in _tags(cell):
            for m in HEADING.finditer(text):
                section = m.group(2).strip()
            for kind, pattern in (("Think!", THINK), ("Before you move the slider", PREDICT)):
                for m in pattern.finditer(text):
                    after = text[m.start():]
                    det = DETAILS.search(after)
                    nxt = cells[i + 1] if i + 1 < len(cells) else {"cell_type": "code", "source": ""}
                    opens = nxt["cell_type"] == "markdown" and _source(nxt).lstrip().startswith("<details>")
                    if det is None and opens:
                        det = DETAILS.search(_source(nxt))
                    prompt = _prompt(after, pattern)
                    if det is None:
                        missing.append(f"{path.name} cell {i} ({section}): {kind} without a hidden answer")
                        continue
                    items.append({"kind": kind + deep, "section": section, "prompt": prompt,
                                  "answer": _unfold(det.group(0))})
        elif cell["cell_type"] == "code" and "exercise" in _tags(cell):
            title, body = _exercise_prompt(cells, i)
            sol = None
            for c in cells[i + 1:]:
                if "solution" in _tags(c):
                    sol = c
                    break
                if c["cell_type"] == "code" and "exercise" in _tags(c):
                    break
            if sol is None:
                missing.append(f"{path.name} cell {i} ({title}): exercise without a hidden solution")
                continue
            code = "```python\n" + text.strip() + "\n```"
            items.append({"kind": title + deep, "section": section, "prompt": body + "\n\n" + code,
                          "answer": _unfold(_source(sol))})
    return items, missing


def _unquote(line):
    """A prompt line without its own blockquote marker; code keeps its indentation."""
    return line[2:] if line.startswith("> ") else line[1:] if line.startswith(">") else line


def render():
    out = ["# Answer key (generated)",
           "",
           "Every *Think!* prompt, every prediction asked before a slider moves and every exercise of the",
           "course with its hidden answer, in course order (deep dives marked).",
           "Generated from the notebooks by `python scripts/build_answer_key.py` — do not edit by hand;",
           "a test fails when this file and the notebooks disagree.",
           ""]
    missing = []
    for path in _notebooks():
        items, miss = collect(path)
        missing += miss
        out += [f"## {path.stem}", ""]
        section = None
        for it in items:
            if it["section"] != section:
                section = it["section"]
                out += [f"### {section}", ""]
            prompt = "\n".join("> " + _unquote(line).rstrip() if line.strip() else ">"
                               for line in it["prompt"].splitlines())
            out += [f"**{it['kind']}**", "", prompt, "", it["answer"], "", "---", ""]
    return "\n".join(out).rstrip() + "\n", missing


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    text, missing = render()
    for m in missing:
        print("missing:", m)
    if args.check:
        stale = not OUT.is_file() or OUT.read_text() != text
        if stale:
            print(f"{OUT.relative_to(ROOT)} is stale: run python scripts/build_answer_key.py")
        return 1 if stale or missing else 0
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(ROOT)} ({text.count('---')} answers; {len(missing)} missing)")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
