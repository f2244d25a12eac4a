"""The Chinese notebooks speak Chinese in their outputs too: no line of a stored output in ``notebooks/zh/``
is an English sentence (three or more English words in a row and no Chinese character on the line).

What may stay English is named below (code, library and paper names, units) — a line is allowed when, after
removing those, fewer than three English words remain in a row."""
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
ZH = sorted((ROOT / "notebooks" / "zh").glob("*.ipynb"))

CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: Three English words in a row (a word: two or more letters; "a", "B", "η" and numbers do not count).
SENTENCE = re.compile(r"\b[A-Za-z][A-Za-z'’-]+(?:[ ,:;/()]+[A-Za-z][A-Za-z'’-]+){2,}\b")
#: Names that are English in a Chinese text as well: libraries, APIs, papers' authors, datasets, devices.
ALLOWED = [r"torch\.\S+", r"SGD\(nesterov=True\)", r"et al\.?", r"MNIST-1D", r"PyTorch", r"NumPy",
           r"https?://\S+", r"\w+\.py", r"\w+\.ipynb", r"make \w+", r"[A-Z][a-z]+ & [A-Z][a-z]+",
           r"AMD EPYC[\w -]*", r"Intel[\w ()-]*", r"Apple M\d[\w ]*", r"Xeon[\w ()-]*", r"Processor"]


def output_lines(nb):
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                texts = [out.get("text", "")]
            else:
                data = out.get("data", {})
                texts = [data.get(k, "") for k in ("text/plain", "text/markdown")]
                if "text/html" in data:
                    texts.append(re.sub(r"<style>.*?</style>|<[^>]+>", " ", data["text/html"], flags=re.S))
            for text in texts:
                for line in (text if isinstance(text, str) else "".join(text)).splitlines():
                    yield i, line


def english_lines(path):
    nb = nbformat.read(path, as_version=4)
    bad = []
    for i, line in output_lines(nb):
        if CJK.search(line):
            continue
        rest = line
        for pat in ALLOWED:
            rest = re.sub(pat, " ", rest)
        if SENTENCE.search(rest):
            bad.append(f"cell {i}: {line.strip()[:120]}")
    return bad


@pytest.mark.parametrize("path", ZH, ids=lambda p: p.stem[:2])
def test_no_english_sentence_in_chinese_outputs(path):
    bad = english_lines(path)
    assert not bad, f"{path.name}: {len(bad)} English output line(s):\n" + "\n".join(bad[:40])
