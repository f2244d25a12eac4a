"""The built site (make site; make site-check runs this after building): every notebook of every language
has a current page, every panel a viewer whose frames exist and whose default frame says what the notebook
stores; the budgets: the whole site ≤ 60 MB, a page's first load ≤ 3 MB (the page, its CSS and scripts and
the pictures it shows at once; stored figures load lazily, a panel's other frames when it comes into view).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

import nbformat
import pytest
from course_files import load_script

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
MB = 2 ** 20




bs = load_script("build_site")
NOTEBOOKS = list(bs.notebooks())
PAGES = [SITE / lang / f"{p.stem}.html" for lang, p in NOTEBOOKS]


@pytest.fixture(scope="module", autouse=True)
def _built():
    if not (SITE / "index.html").exists():
        pytest.fail("site/ is not built: run make site (make site-check builds it, then runs these tests)")


def viewers(page):
    text = page.read_text(encoding="utf-8")
    for m in re.finditer(r'<figure class="viewer"[^>]*data-cell="c(\d+)-(\d+)">(.*?)</figure>', text, re.S):
        data = json.loads(re.search(r'class="manifest">(.*?)</script>', m.group(3), re.S).group(1)
                          .replace("<\\/", "</"))
        yield int(m.group(1)), int(m.group(2)), m.group(3), data


def test_every_notebook_has_a_current_page():
    """Each page is newer than its notebook, and shows each panel's frames drawn from the panel's current
    cell, caption and code (the key of scripts/build_site.py's cache)."""
    common = bs.code_hash()
    stale = []
    for (lang, nb_path), page in zip(NOTEBOOKS, PAGES):
        if not page.exists() or page.stat().st_mtime < nb_path.stat().st_mtime:
            stale.append(f"{lang}/{nb_path.stem}: page missing or older than the notebook")
            continue
        text = page.read_text(encoding="utf-8")
        nb = nbformat.read(nb_path, as_version=4)
        for job in bs.page_jobs(lang, nb_path, nb, SITE / lang / nb_path.stem):
            key = bs.panel_key(common, job)
            if f'"base": "{nb_path.stem}/p-{key}/"' not in text:
                stale.append(f"{lang}/{nb_path.stem} cell {job['key'][2]}: frames not drawn from the current "
                             "code")
    assert not stale, "run make site:\n" + "\n".join(stale)
    assert {lang for lang, _ in NOTEBOOKS} == {"en", "zh"}
    index = (SITE / "index.html").read_text(encoding="utf-8")
    for lang, nb_path in NOTEBOOKS:
        assert f'href="{lang}/{nb_path.stem}.html"' in index


def test_the_whole_site_is_within_60_mb():
    size = sum(f.stat().st_size for f in SITE.rglob("*") if f.is_file())
    print(f"site/: {size / MB:.1f} MB in {sum(1 for f in SITE.rglob('*') if f.is_file())} files")
    assert size <= 60 * MB, f"site/ is {size / MB:.1f} MB (budget 60 MB)"


def first_load(page):
    """Bytes a browser fetches to show ``page``: the HTML, its stylesheets and scripts, every picture that is
    not loaded lazily (a viewer's default frame)."""
    text = page.read_text(encoding="utf-8")
    refs = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    refs += re.findall(r'<script src="([^"]+)"', text)
    refs += [m.group(1) for m in re.finditer(r'<img [^>]*src="([^"]+)"[^>]*>', text)
             if "loading=" not in m.group(0)]
    files = [page] + [(page.parent / html.unescape(r)).resolve() for r in refs]
    missing = [str(f) for f in files if not f.is_file()]
    assert not missing, f"{page}: links to missing files {missing}"
    return sum(f.stat().st_size for f in files)


@pytest.mark.parametrize("page", PAGES + [SITE / "index.html"], ids=lambda p: f"{p.parent.name}/{p.stem[:2]}")
def test_a_pages_first_load_is_within_3_mb(page):
    size = first_load(page)
    assert size <= 3 * MB, f"{page.name}: first load {size / MB:.2f} MB (budget 3 MB)"


@pytest.mark.parametrize("lang_nb", NOTEBOOKS, ids=lambda x: f"{x[0]}/{x[1].stem[:2]}")
def test_every_panel_has_a_viewer_that_says_what_the_notebook_stores(lang_nb):
    lang, path = lang_nb
    nb = nbformat.read(path, as_version=4)
    page = SITE / lang / f"{path.stem}.html"
    stored = {(i, k): "".join(o["data"]["text/plain"])
              for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for k, o in enumerate(c.get("outputs", []))
              if bs.WIDGET in o.get("data", {}) and "image/png" in o.get("data", {})}
    found = {}
    for i, k, body, data in viewers(page):
        n = 1
        for c in data["controls"]:
            n *= len(c["labels"])
        assert len(data["frames"]) == n, f"cell {i}: {len(data['frames'])} frames for a grid of {n}"
        if len(data["controls"]) == 1:
            assert n <= 101
        else:
            assert n <= 64, f"cell {i}: {n} frames (at most 64 on a panel with several controls)"
        missing = [f for f, _ in data["frames"].values() if not (page.parent / data["base"] / f).is_file()]
        assert not missing, f"cell {i}: frames missing on disk: {missing[:5]}"
        default = re.search(r'<img class="frame" src="[^"]*/([^"/]+)"', body).group(1)
        caption = next(c for f, c in data["frames"].values() if f == default)
        title = re.search(r'alt="([^"]*)"', body).group(1)
        found[(i, k)] = f"[{html.unescape(title)}] {re.sub(r'<[^>]+>', '', caption)}"
    assert set(found) == set(stored), f"panels stored {sorted(stored)}, viewers {sorted(found)}"
    for key, text in found.items():
        assert text == stored[key], f"cell {key[0]}: the default frame's caption is not the stored one"
