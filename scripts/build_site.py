"""make site: the course as a static site whose sliders still move — no Python, no kernel, no install.

``site/`` (git-ignored) gets an index page and one page per notebook of every language (``notebooks/`` in
English, ``notebooks/zh/`` in Chinese): the prose (markdown → HTML, LaTeX → MathML, drawn by the browser
itself), the stored outputs, the code folded away (an exercise's code stays open: it is the question; its
solution stays a closed ``<details>``). Every panel becomes a viewer:

* the panel's own cell (every panel cell imports what it uses, so it runs alone) is run again here, in the
  notebook's language, and gives the same :class:`lecture_utils.widgets.Panel` as in the notebook (its
  caption at the defaults is checked against the stored one: a difference stops the build);
* each control declares its positions (:func:`lecture_utils.widgets.site_grid`: every position of a
  one-slider panel with at most 100, a coarse grid of at most 64 frames for a panel with two or more
  sliders, defaults included) and the panel's own ``update`` draws a frame at each, with its caption;
* ``site/assets/viewer.js`` (ours, no library) swaps the frames as a slider moves (mouse, touch or the
  arrow keys of a focused slider); a panel's frames are fetched when it comes into view.

Frames are drawn at :data:`FRAME_SCALE` pixels per CSS pixel (the notebooks' panels: 2) as
:data:`FRAME_COLOURS`-colour PNGs, to keep the whole site within 60 MB. A live rerun (a "… on this
machine" button) shows a note: the cached result is printed below it, the live version needs ``make lab``.

The site works from disk (``file://``: nothing is fetched, not even a manifest — each panel's frame list is
in its page) and from any static host. Build::

    make site                       # or: .venv/bin/python scripts/build_site.py [--jobs N] [--force]

Panels are drawn in parallel (one process per CPU). A notebook whose file, and whose code (lecture_utils,
its catalogs, the cached sweeps, this script and its assets), did not change since the last build is not
redrawn (``site/.build/``).
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import html
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from lecture_utils.site import draw_panel  # noqa: E402

SITE = ROOT / "site"
ASSETS = ROOT / "app" / "site"
FONT_CSS = ROOT / "app" / "voila" / "templates" / "course" / "static" / "course-cjk.css"
LANGS = {"en": ROOT / "notebooks", "zh": ROOT / "notebooks" / "zh"}
WIDGET = "application/vnd.jupyter.widget-view+json"
#: Asks for the course font before any text is drawn (see site.css: Chromium keeps the boxes it drew first).
FONT_FIRST = "<script>document.fonts && document.fonts.load('16px \"Course CJK\"', '\u5b57');</script>\n"

TEXT = {
    "en": {"lang": "en", "code": "code", "exercise": "exercise: your code goes here (in make lab)",
           "live": "This runs live on your machine in <code>make lab</code>; this page shows the cached "
                   "result (printed below).",
           "home": "All notebooks", "other": "中文", "other_lang": "zh",
           "title": "Mini-batches and momentum", "index": "The course, in a browser",
           "about": "Every slider moves through pictures drawn in advance by the same code as in the "
                    "notebooks (positions on a grid: every position of a slider with at most 100, a coarse "
                    "grid on a panel with several). For live runs and exercises that check your answer: "
                    "<code>make lab</code>."},
    "zh": {"lang": "zh-CN", "code": "代码", "exercise": "练习：在 make lab 中于此处编写你的代码",
           "live": "这一步在 <code>make lab</code> 中于你的电脑上实时运行；"
                   "本页显示缓存的结果（见下方输出）。",
           "home": "全部笔记本", "other": "English", "other_lang": "en",
           "title": "小批量与动量", "index": "课程网页版",
           "about": "每个滑块切换的都是用与笔记本相同的代码预先绘制的图片（网格上的位置：不超过 100 个"
                    "位置的滑块取每一个位置，多个滑块的面板取粗网格）。实时运行和会检查答案的练习："
                    "<code>make lab</code>。"},
}


# ---------------------------------------------------------------------------------------------------------
# Notebook → page
# ---------------------------------------------------------------------------------------------------------
def _markdown():
    import mistune

    md = mistune.create_markdown(escape=False, plugins=["table", "strikethrough", "math"])

    def mathml(latex, display):
        from latex2mathml.converter import convert

        try:
            return convert(latex.strip(), display=display)
        except Exception:   # a construct latex2mathml does not know: show the LaTeX itself
            return f'<code class="tex">{html.escape(latex)}</code>'

    md.renderer.register("block_math", lambda r, text: f'<div class="math">{mathml(text, "block")}</div>\n')
    md.renderer.register("inline_math", lambda r, text: mathml(text, "inline"))
    return md


_MD = None


def markdown_html(text):
    global _MD
    if _MD is None:
        _MD = _markdown()
    return _MD(text)


def joined(x):
    return "".join(x) if isinstance(x, list) else (x or "")


def panel_outputs(cell):
    """Indices of a code cell's outputs that are lecture panels (a widget view with a stored picture)."""
    return [k for k, o in enumerate(cell.get("outputs", []))
            if WIDGET in o.get("data", {}) and "image/png" in o.get("data", {})]


def page_jobs(lang, nb_path, nb, out_dir):
    """The panel jobs of one notebook: one per panel output (its cell's code, the stored caption)."""
    jobs = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for k in panel_outputs(cell):
            stored = joined(cell.outputs[k]["data"].get("text/plain"))
            jobs.append({"lang": lang, "source": cell.source, "stored_caption": stored,
                         "where": f"{nb_path.parent.name}/{nb_path.name} cell {i}",
                         "key": (lang, nb_path.stem, i, k),
                         "out": str(out_dir / f"c{i}-{k}")})
    return jobs


def viewer_html(manifest, base, cell=""):
    """A panel viewer: its controls (working without JavaScript as a picture at the defaults), the
    frame, the caption and the manifest."""
    m = manifest
    ctl = []
    for j, c in enumerate(m["controls"]):
        label = html.escape(c["label"])
        if c["kind"] == "check":
            checked = " checked" if c["default"] == 1 else ""
            ctl.append(f'<label class="ctl"><input type="checkbox" data-control="{j}"{checked}> '
                       f'{label}</label>')
        else:
            ctl.append(f'<label class="ctl"><span class="name">{label}</span> <input type="range" min="0" '
                       f'max="{len(c["labels"]) - 1}" step="1" value="{c["default"]}" data-control="{j}" '
                       f'aria-label="{label}"> <output>{html.escape(c["labels"][c["default"]])}</output>'
                       f'</label>')
    src, caption = m["frames"][m["default"]]
    data = json.dumps({"base": base, "controls": [{"labels": c["labels"], "kind": c["kind"]}
                                                  for c in m["controls"]],
                       "frames": m["frames"]}, ensure_ascii=False).replace("</", "<\\/")
    n = len(m["frames"])
    return (f'<figure class="viewer" data-frames="{n}" data-cell="{cell}">\n'
            f'<div class="controls">{"".join(ctl)}</div>\n'
            f'<img class="frame" src="{base}{src}" width="{m["width"]}" height="{m["height"]}" '
            f'alt="{html.escape(m["title"])}">\n'
            f'<figcaption class="caption">{caption}</figcaption>\n'
            f'<script type="application/json" class="manifest">{data}</script>\n</figure>\n')


def output_html(lang, out, asset_dir, asset_base, name, manifest=None):
    """One stored output as HTML (``manifest``: a panel's viewer)."""
    t = TEXT[lang]
    kind = out.get("output_type")
    if kind == "stream":
        if out.get("name") == "stderr":
            return ""
        return f'<pre class="out">{html.escape(joined(out.get("text")))}</pre>\n'
    if kind == "error":
        return (f'<pre class="out err">{html.escape(out.get("ename", ""))}: '
                f'{html.escape(out.get("evalue", ""))}</pre>\n')
    data = out.get("data", {})
    if manifest is not None:
        return viewer_html(manifest, asset_base + manifest["dir"] + "/", name.rsplit(".", 1)[0])
    if WIDGET in data:   # a live rerun's button (or another widget without a picture)
        return f'<div class="live">▶ {t["live"]}</div>\n'
    if "text/html" in data:
        text = joined(data["text/html"])
        if "lecture-static-caption" in text:   # the caption under a panel: the viewer has its own
            return ""
        return f'<div class="out html">{text}</div>\n'
    if "image/png" in data:
        asset_dir.mkdir(parents=True, exist_ok=True)
        (asset_dir / name).write_bytes(base64.b64decode(joined(data["image/png"])))
        meta = out.get("metadata", {}).get("image/png", {})
        size = "".join(f' {a}="{meta[a]}"' for a in ("width", "height") if a in meta)
        return f'<img class="out" src="{asset_base}{name}"{size} loading="lazy" alt="">\n'
    if "text/markdown" in data:
        return f'<div class="out md">{markdown_html(joined(data["text/markdown"]))}</div>\n'
    if "text/plain" in data:
        return f'<pre class="out">{html.escape(joined(data["text/plain"]))}</pre>\n'
    return ""


def notebook_title(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, re.M)
            if m:
                return re.sub(r"[*_`$]", "", m.group(1)).strip()
    return "notebook"


def page_html(lang, nb_path, nb, manifests, out_dir):
    """The page of one notebook; writes its stored pictures next to it (``out_dir``)."""
    t = TEXT[lang]
    stem = nb_path.stem
    parts = []
    for i, cell in enumerate(nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "markdown":
            parts.append(f'<section class="md" id="cell-{i}">{markdown_html(cell.source)}</section>\n')
            continue
        if cell.cell_type != "code":
            continue
        is_ex = "exercise" in tags
        summary = t["exercise"] if is_ex else t["code"]
        code = html.escape(cell.source)
        parts.append(f'<details class="code{" exercise" if is_ex else ""}"{" open" if is_ex else ""} '
                     f'id="cell-{i}"><summary>{summary}</summary><pre><code>{code}</code></pre></details>\n')
        for k, out in enumerate(cell.get("outputs", [])):
            parts.append(output_html(lang, out, out_dir, f"{stem}/", f"c{i}-{k}.png",
                                     manifests.get((lang, stem, i, k))))
    other = t["other_lang"]
    other_path = (LANGS[other] / nb_path.name)
    switch = (f'<a href="../{other}/{stem}.html" hreflang="{TEXT[other]["lang"]}">{t["other"]}</a>'
              if other_path.exists() else "")
    title = notebook_title(nb)
    return (f'<!DOCTYPE html>\n<html lang="{t["lang"]}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{html.escape(title)} · {t["title"]}</title>\n'
            f'<link rel="stylesheet" href="../assets/course-cjk.css">\n'
            f'<link rel="stylesheet" href="../assets/site.css">\n'
            f'<script src="../assets/viewer.js" defer></script>\n{FONT_FIRST}</head>\n<body>\n'
            f'<nav><a href="../index.html">{t["home"]}</a> {switch}</nav>\n<main>\n{"".join(parts)}</main>\n'
            f'</body>\n</html>\n')


def index_html(pages):
    rows = []
    for lang in LANGS:
        t = TEXT[lang]
        items = "".join(f'<li><a href="{lang}/{stem}.html">{html.escape(title)}</a></li>\n'
                        for stem, title in pages.get(lang, []))
        rows.append(f'<section lang="{t["lang"]}"><h2>{t["title"]}</h2>\n<ul class="toc">\n{items}</ul>\n'
                    f'<p class="about">{t["about"]}</p></section>\n')
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{TEXT["en"]["title"]} · {TEXT["zh"]["title"]}</title>\n'
            '<link rel="stylesheet" href="assets/course-cjk.css">\n'
            f'<link rel="stylesheet" href="assets/site.css">\n{FONT_FIRST}</head>\n<body>\n<main>\n'
            f'<h1>{TEXT["en"]["index"]} · {TEXT["zh"]["index"]}</h1>\n{"".join(rows)}'
            '</main>\n</body>\n</html>\n')


# ---------------------------------------------------------------------------------------------------------
# The build
# ---------------------------------------------------------------------------------------------------------
def code_hash():
    """What a panel's frames depend on besides its cell: the course's code and catalogs (lecture_utils, the
    frame drawing in lecture_utils/site.py included) and the cached sweeps."""
    h = hashlib.sha256()
    files = sorted([*ROOT.glob("lecture_utils/**/*.py"), *ROOT.glob("lecture_utils/locale/**/*.po"),
                    *ROOT.glob("data/*.json"), *ROOT.glob("data/*.npz")])
    for f in files:
        if f.is_file():
            h.update(str(f.relative_to(ROOT)).encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()


def panel_key(common, job):
    """A panel's frames are drawn again only when its cell, its stored caption or the code changed."""
    text = json.dumps([common, job["lang"], job["source"], job["stored_caption"], SITE_GRID], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def notebooks():
    for lang, folder in LANGS.items():
        for p in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
            yield lang, p


#: Grid options for every panel (``lecture_utils.widgets.site_grid``'s keywords; tests make it small).
SITE_GRID = {}


def build(jobs=None, force=False, only=None, log=print):
    """Build ``site/``: draw the frames of every panel whose cell or code changed (in parallel), reuse the
    others, write every page. Returns a summary (panels drawn and reused, frames, MB, seconds)."""
    import multiprocessing as mp

    import nbformat

    t0 = time.perf_counter()
    if force and SITE.exists():
        shutil.rmtree(SITE)
    cache = SITE / ".build"
    cache.mkdir(parents=True, exist_ok=True)
    assets = SITE / "assets"
    assets.mkdir(exist_ok=True)
    for f in [*ASSETS.glob("*"), FONT_CSS]:
        shutil.copyfile(f, assets / f.name)
    common = code_hash()

    books, todo, manifests = [], [], {}
    for lang, p in notebooks():
        if only and p.stem[:2] not in only:
            continue
        nb = nbformat.read(p, as_version=4)
        books.append((lang, p, nb))
        for job in page_jobs(lang, p, nb, SITE / lang / p.stem):
            key = panel_key(common, job)
            job["out"] = str(SITE / lang / p.stem / f"p-{key}")
            job["grid"] = SITE_GRID
            saved = cache / f"{key}.json"
            if saved.exists() and Path(job["out"]).is_dir():
                manifests[job["key"]] = dict(json.loads(saved.read_text(encoding="utf-8")), dir=f"p-{key}")
            else:
                todo.append((key, job))
    drawn = []
    if todo:
        n = max(1, min(jobs or os.cpu_count() or 1, len(todo)))
        log(f"site: drawing {len(todo)} panels in {n} processes ({len(manifests)} reused)")
        keys = {job["key"]: key for key, job in todo}
        ctx = mp.get_context("spawn")
        with ctx.Pool(n) as pool:
            for res in pool.imap_unordered(draw_panel, [job for _, job in todo]):
                key = keys[res["key"]]
                (cache / f"{key}.json").write_text(json.dumps(res["manifest"], ensure_ascii=False),
                                                   encoding="utf-8")
                manifests[res["key"]] = dict(res["manifest"], dir=f"p-{key}")
                lang, stem, i, k = res["key"]
                drawn.append(f"{lang}/{stem} cell {i}")
                log(f"  {lang}/{stem} cell {i}: {len(res['manifest']['frames'])} frames, "
                    f"{res['seconds']:.1f} s")
    pages = {}
    for lang, p, nb in books:
        out_dir = SITE / lang / p.stem
        out_dir.mkdir(parents=True, exist_ok=True)
        used = {m["dir"] for (lg, stem, *_), m in manifests.items() if (lg, stem) == (lang, p.stem)}
        for old in out_dir.iterdir():      # pictures of an older build: frames of changed panels, outputs
            if old.name not in used:
                shutil.rmtree(old) if old.is_dir() else old.unlink()
        page = page_html(lang, p, nb, manifests, out_dir)
        (SITE / lang / f"{p.stem}.html").write_text(page, encoding="utf-8")
        pages.setdefault(lang, []).append((p.stem, notebook_title(nb)))
    (SITE / "index.html").write_text(index_html(pages), encoding="utf-8")
    frames = sum(len(manifests[job["key"]]["frames"]) for _, job in todo)
    total = sum(f.stat().st_size for f in SITE.rglob("*") if f.is_file())
    summary = {"pages": sum(len(v) for v in pages.values()), "drawn": sorted(drawn),
               "reused": len(manifests) - len(drawn), "frames": frames, "mb": round(total / 2**20, 1),
               "seconds": round(time.perf_counter() - t0, 1), "processes": jobs or os.cpu_count()}
    (cache / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    log(f"site: {summary['pages']} pages; {len(drawn)} panels drawn ({frames} frames), {summary['reused']} "
        f"reused; site/ is {summary['mb']} MB; {summary['seconds']} s")
    return summary


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=None, help="processes drawing panels (default: one per CPU)")
    ap.add_argument("--force", action="store_true", help="remove site/ and draw every panel again")
    ap.add_argument("--only", nargs="*", help="notebook numbers to build (e.g. 00 02)")
    args = ap.parse_args(argv)
    build(jobs=args.jobs, force=args.force, only=args.only)


if __name__ == "__main__":
    sys.exit(main())
