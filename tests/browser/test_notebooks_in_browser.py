"""The course as a learner sees it: JupyterLab and Voila in a real Chromium.

What only a browser can show is checked here; that every notebook runs and prints what it stored is
strict nbval's job (``make nbval``, offline, and ``make portability``), so the notebooks' training
runs are not executed again in Chromium (issue 20 §5):

* **every lecture panel** of the course, in one "panel gallery" notebook (each notebook's first code
  cell and its panel cells, verbatim; ``browser_servers.write_panel_gallery``): run all; no error
  anywhere (error outputs, tracebacks or warnings on stderr, widgets that failed to render, kernel
  errors from slider callbacks); every panel a notebook stores is rendered; every picture has 2× the
  pixels of its CSS size; every slider is moved with the keyboard (focus the handle, one arrow key) and
  what is DRAWN is checked: the PNG is decoded in the page and must change (pixels on a 32×12 grid,
  not just the src), must not be blank and no half of it may lose its ink; after a kernel restart
  every panel says "restart: run all cells";
* **every notebook as a deck** on a 1280×720 projector: opened in JupyterLab (one page, one notebook
  after the other, stored outputs) and presented with jupyterlab-slideshow, Space walks it from the
  title to the last cell and every cell that is not skipped comes on a slide; on every slide the deck
  rules hold (headings start slides, no deep dive, no code unless tagged show-code/exercise, body text
  ≥ 20 px, nothing outside the window, pictures drawn);
* the README's keystrokes start the deck of the first notebook with a panel, and a slider works in it;
* notebook 03's "rerun this B live" button (in a notebook of 03's first code cell and panel cells)
  trains in the kernel with a progress bar and redraws its figure (curves still drawn, no progress bar
  or second caption left);
* Voila renders a notebook with a panel (00; ``make app`` serves 01, whose outputs nbval checks) with a
  working slider.

Every wait is on an event (kernel idle, a new picture, a deck move) with a generous ceiling
(``CEILING_S``), never a wall-clock budget.
"""
from __future__ import annotations

import json
import re
import time

import nbformat
import pytest
from browser_page import (
    CEILING_S,
    DECK_PALETTE_TEXT,
    PROJECTOR,
    changed_cells,
    close_notebook,
    deck_slide_types,
    deck_state,
    exercise_panels,
    goto_lab,
    image_stats,
    move_slider,
    open_notebook,
    output_problems,
    panel_cells,
    panel_state,
    picture_problem,
    run_all,
    slide_problems,
    start_deck,
    stop_deck,
    unexecuted_cells,
    wait_idle,
    walk_deck,
)
from browser_servers import (
    ARTIFACTS,
    GALLERY,
    copy_notebooks,
    notebook_paths,
    save_artifacts,
    start_voila,
    write_panel_gallery,
)

NOTEBOOKS = notebook_paths()
TIMINGS = {}
CJK = re.compile(r"[\u4e00-\u9fff]")

JS_PANEL_OUTPUTS = """
() => {
  const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
  let n = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    for (const o of c.outputs.toJSON()) {
      const d = o.data || {};
      const t = d['text/plain'];
      if (d['application/vnd.jupyter.widget-view+json']
          && (Array.isArray(t) ? t.join('') : (t || '')).startsWith('[')) n++;
    }
  }
  return n;
}
"""


JS_BLURRY_IMAGES = """
async () => {
  const bad = [];
  for (const img of document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img')) {
    try { await img.decode(); } catch (e) { continue; }
    const r = img.getBoundingClientRect();
    if (r.width > 50 && img.naturalWidth < 1.9 * r.width)
      bad.push(`${img.naturalWidth} px shown ${Math.round(r.width)} px wide`);
  }
  return bad;
}
"""


def first_panel_notebook(prefer=None):
    """``prefer`` if it exists and has a panel, else the first notebook that has one."""
    cands = [p for p in NOTEBOOKS if p.name == prefer] + NOTEBOOKS
    for p in cands:
        if panel_cells(p):
            return p
    return None


def open_and_run(page, request, nb, workspace):
    """Open ``nb`` (a course notebook's path, or the name of one the server holds, e.g. ``GALLERY``)
    in the test's JupyterLab (a fresh workspace) and run all its cells.
    Returns ``(server, seconds to open, seconds to run)``."""
    lab_server = request.getfixturevalue("lab_server")
    page.server = lab_server
    t0 = time.monotonic()
    goto_lab(page, lab_server, getattr(nb, "name", nb), workspace=workspace)
    t_open = time.monotonic() - t0
    return lab_server, t_open, run_all(page)


@pytest.fixture(scope="module", autouse=True)
def _report_timings():
    yield
    if TIMINGS:
        print("\nbrowser timings (s): " + json.dumps(TIMINGS))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "timings.json").write_text(json.dumps(TIMINGS, indent=1) + "\n")


def test_every_panel_in_jupyterlab(page, request):
    lab_server, t_open, t_run = open_and_run(page, request, GALLERY, "gallery")
    stored = lab_server.gallery_panels
    assert sum(stored.values()) > 0, f"no course notebook stores a lecture panel: {stored}"

    probs = output_problems(page)
    assert not probs, f"panel gallery: errors after running all cells:\n{probs}"
    missing = unexecuted_cells(page)
    assert not missing, f"panel gallery: code cells {missing} did not run"

    n_outputs = page.evaluate(JS_PANEL_OUTPUTS)
    n_rendered = page.locator(".lecture-panel").count()
    assert n_outputs == sum(stored.values()), (f"the notebooks store {stored} panels, their panel cells "
                                               f"showed {n_outputs}")
    assert n_rendered == n_outputs, f"{n_outputs} panel outputs but {n_rendered} rendered lecture panels"
    stray = page.locator(".widget-slider").count() - page.locator(".lecture-panel .widget-slider").count()
    assert stray == 0, (f"{stray} slider(s) outside a lecture panel (use lecture_utils.widgets.Panel, "
                        "whose figure this test can check)")
    blurry = page.evaluate(JS_BLURRY_IMAGES)
    assert not blurry, f"pictures with fewer than 2 pixels per CSS pixel (blurry on a projector): {blurry}"

    t1 = time.monotonic()
    moves, failures = exercise_panels(page)
    t_sliders = time.monotonic() - t1
    # an exception in a slider callback reaches no cell: the kernel sends it to stderr (iopub),
    # which JupyterLab shows in its log console; output_problems watches the kernel's messages
    probs = output_problems(page)
    assert not failures and not probs, ("\n".join(failures)
                                        + (f"\nerrors after moving the sliders:\n{probs}" if probs else ""))

    # after a kernel restart the sliders are dead: each panel says so ("restart: run all cells"); while
    # the kernel is connected that line is hidden
    stale = page.locator(".lecture-panel .lecture-stale")
    assert stale.count() == n_rendered, f"{stale.count()} of {n_rendered} panels have a stale-widget message"
    assert not any(stale.nth(i).is_visible() for i in range(n_rendered)), \
        "a stale message shows while the kernel is connected"
    page.evaluate("async () => { await "
                  "window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart(); }")
    for i in range(n_rendered):   # the event: each panel's widgets lost their kernel
        stale.nth(i).wait_for(state="visible", timeout=CEILING_S * 1000)
    hidden = [i for i in range(n_rendered) if "restart: run all cells" not in stale.nth(i).inner_text()]
    assert not hidden, f"panels {hidden} do not say 'restart: run all cells' after a kernel restart"
    TIMINGS["gallery"] = {"open": round(t_open, 1), "run_all": round(t_run, 1), "panels": n_rendered,
                          "sliders": len(moves), "sliders_s": round(t_sliders, 1),
                          "slowest_redraw_s": round(max((m.seconds for m in moves), default=0.0), 2)}


def test_chinese_panels_in_jupyterlab(page, request):
    """The Chinese edition's panels in JupyterLab (``zh/``: the kernel speaks Chinese): notebooks/zh/02's
    first code cell and panel cells (a notebook like the gallery's) run without an error, every stored panel
    renders with a Chinese caption, and every slider redraws its picture (what is drawn changes, nothing goes
    blank) and leaves a Chinese caption. The English gallery test moves the same panels in English."""
    lab_server = request.getfixturevalue("lab_server")
    stored = lab_server.zh_gallery_panels
    assert sum(stored.values()) > 0, f"the Chinese notebook stores no lecture panel: {stored}"
    _, t_open, t_run = open_and_run(page, request, lab_server.zh_gallery, "gallery-zh")
    probs = output_problems(page)
    assert not probs, f"{lab_server.zh_gallery}: errors after running all cells:\n{probs}"
    captions = page.locator(".lecture-panel .lecture-caption")
    n_rendered = page.locator(".lecture-panel").count()
    assert n_rendered == sum(stored.values()), f"{stored} stored panels, {n_rendered} rendered"

    def english_captions():
        texts = captions.all_inner_texts()
        return [t[:80] for t in texts if not CJK.search(t)] + (["(no caption)"] * (n_rendered - len(texts)))
    assert not english_captions(), f"captions without Chinese at the defaults: {english_captions()}"

    t1 = time.monotonic()
    moves, failures = exercise_panels(page)
    t_sliders = time.monotonic() - t1
    probs = output_problems(page)
    assert moves, "no slider moved in the Chinese panels"
    assert not failures and not probs, ("\n".join(failures)
                                        + (f"\nerrors after moving the sliders:\n{probs}" if probs else ""))
    assert not english_captions(), f"captions without Chinese after the sliders moved: {english_captions()}"
    TIMINGS["gallery zh"] = {"open": round(t_open, 1), "run_all": round(t_run, 1), "panels": n_rendered,
                             "sliders": len(moves), "sliders_s": round(t_sliders, 1),
                             "s": round(time.monotonic() - t1 + t_open + t_run, 1)}


def _heading_and_figure_cells(path):
    """Indices of the markdown cells that open with a ``#``/``##`` heading, and of the code cells that
    store a picture (``image/png``: a figure or a panel)."""
    nb = nbformat.read(str(path), as_version=4)
    heads = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
             and re.match(r"\s{0,3}#{1,2}\s+\S", c.source.lstrip("\n").split("\n", 1)[0])]
    figs = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
            and any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    return heads, figs


#: Marks the first element of the slide on screen whose own text (its child text nodes) has Chinese
#: characters: a heading, paragraph, list item or caption; returns its tag and the number of those characters.
JS_MARK_CHINESE = """
() => {
  document.querySelectorAll('[data-cjk-probe]').forEach(e => e.removeAttribute('data-cjk-probe'));
  const nb = window.jupyterapp.shell.currentWidget.content;
  for (const c of nb.widgets) {
    const cl = c.node.classList;
    if (!(cl.contains('jp-deck-mod-onscreen') && cl.contains('jp-deck-mod-visible'))) continue;
    for (const el of c.node.querySelectorAll('.jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2, '
        + '.jp-RenderedMarkdown p, .jp-RenderedMarkdown li, .lecture-caption')) {
      const own = Array.from(el.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('');
      const n = (own.match(/[\\u4e00-\\u9fff]/g) || []).length;
      if (n >= 2 && el.getBoundingClientRect().width > 0) {
        el.setAttribute('data-cjk-probe', '1');
        return {tag: el.tagName.toLowerCase(), chinese: n, text: own.trim().slice(0, 40),
                px: parseFloat(getComputedStyle(el).fontSize)};
      }
    }
  }
  return null;
}
"""


def chinese_font_problem(page):
    """Whether the slide on screen draws its Chinese with the course's font "Course CJK" (make lab's custom
    CSS; no CJK font needs to be installed): the font is loaded (``document.fonts.check``) and Chromium drew
    every Chinese character of the first element with Chinese text with it (DevTools' platform fonts of the
    node). Returns ``(problem or None, what was checked)``."""
    probe = page.evaluate(JS_MARK_CHINESE)
    if not probe:
        return "no element with Chinese text on the slide", None
    px = probe["px"]
    # check() is also true when no such font face exists at all: the face must be there, loaded
    loaded = page.evaluate("""(s) => document.fonts.ready.then(() => document.fonts.check(s, '批次与动量')
        && [...document.fonts].some(f => f.family.replace(/["']/g, '') === 'Course CJK'
                                         && f.status === 'loaded'))""", f'{px}px "Course CJK"')
    if not loaded:
        return (f'the course font "Course CJK" is not loaded ({probe}; is make lab\'s custom CSS served at '
                f'/custom/custom.css?)'), probe
    cdp = page.context.new_cdp_session(page)
    try:
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "[data-cjk-probe]"})["nodeId"]
        fonts = {f["familyName"]: f["glyphCount"]
                 for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]}
    finally:
        cdp.detach()
    probe["fonts"] = fonts
    if fonts.get("Course CJK", 0) < probe["chinese"]:
        return (f"{probe['tag']} {probe['text']!r}: {probe['chinese']} Chinese characters but "
                f"{fonts.get('Course CJK', 0)} glyphs drawn with \"Course CJK\" (fonts: {fonts})"), probe
    return None, probe


def _deck_notebooks(lab_server):
    """(path on the server, the served copy) of every notebook the deck test presents: the English
    notebooks, then the Chinese edition (``zh/``)."""
    out = [(nb.name, lab_server.notebook_dir / nb.name) for nb in NOTEBOOKS]
    out += [(f"zh/{nb.name}", lab_server.notebook_dir / "zh" / nb.name) for nb in NOTEBOOKS]
    return out


def test_every_deck_walks_from_title_to_end(page, request):
    """Presenting each notebook, English and Chinese (notebooks/zh/), on a 1280×720 projector: Space walks
    the deck from the title to the last cell and shows every cell that is not skipped on some slide, with
    no dead end on the way. On every slide (scripts/add_slide_metadata.py states the rules): each
    ``#``/``##`` heading cell starts a slide (and no such heading sits mid-cell), no deep-dive cell is
    shown, no code input is shown unless the cell is tagged show-code or exercise, body text is at least
    20 px, nothing lies outside the window (bounding boxes: nothing cut off or scrolled out of the slide),
    and every picture shown is drawn (not blank). On the first Chinese title slide the Chinese is drawn
    with the course's font "Course CJK" (make lab's custom CSS). The slides' structure does not depend on
    running the cells: each notebook is opened with its stored outputs, one after the other in one
    JupyterLab page."""
    lab_server = request.getfixturevalue("lab_server")
    page.server = lab_server
    page.set_viewport_size(PROJECTOR)
    failures = []
    font_checked = None
    for k, (name, nb) in enumerate(_deck_notebooks(lab_server)):
        t0 = time.monotonic()
        if k == 0:
            goto_lab(page, lab_server, name, workspace="decks")
        else:
            open_notebook(page, name)
        types = deck_slide_types(page)
        heads, figs = _heading_and_figure_cells(nb)
        for i in heads:
            if types.get(i) not in ("slide", "skip"):
                failures.append(f"{name}: cell {i} opens with a heading but is a {types.get(i) or '-'!r}, "
                                f"not a slide")
        fonts, figures = [], set()

        def check(st, name=name, fonts=fonts, figures=figures):
            res = slide_problems(page)
            fonts.extend(res["fonts"])
            figures.update(res["figures"])
            for why in res["problems"]:
                failures.append(f"{name}, slide at cell {res['active']}: {why}")
        try:
            start_deck(page)
            if name.startswith("zh/") and font_checked is None:
                why, font_checked = chinese_font_problem(page)
                if why:
                    failures.append(f"{name}, title slide: {why}")
                font_checked = font_checked or {}
            presses, seen, st = walk_deck(page, each=check)
        finally:
            stop_deck(page)
        last = max(i for i in range(st["n"]) if i not in st["skip"])
        if st["active"] != last:
            failures.append(f"{name}: the deck stopped at cell {st['active']} before its last cell {last}")
        never = sorted(set(range(st["n"])) - set(st["skip"]) - seen)
        if never:
            failures.append(f"{name}: cells {never} never came on a slide while walking the deck")
        undrawn = sorted(set(figs) - set(st["skip"]) - figures)
        if undrawn:
            failures.append(f"{name}: cells {undrawn} store a figure that no slide drew")
        close_notebook(page)
        TIMINGS[f"deck {name}"] = {"presses": presses, "s": round(time.monotonic() - t0, 1),
                                   "min_body_px": min(fonts, default=None), "figures": len(figures)}
    if font_checked:
        TIMINGS["deck zh font"] = font_checked
    if failures:
        save_artifacts(page, "deck-projector", page.console_log, lab_server)
    assert font_checked is not None, "no Chinese notebook was presented (notebooks/zh/)"
    assert not failures, f"{len(failures)} deck problem(s):\n" + "\n".join(failures)


_VISIBLE_JS = """
    (el, inViewport) => {
      const r = el.getBoundingClientRect();
      const visible = el.checkVisibility ? el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
                                         : el.offsetParent !== null;
      const onScreen = !inViewport || (r.bottom > 0 && r.top < window.innerHeight);
      return visible && r.width > 0 && r.height > 0 && onScreen;
    }"""


def _shown(locator):
    """Rendered (not hidden by the deck), wherever it is on the page."""
    return locator.evaluate(_VISIBLE_JS, False)


def _visible_in_viewport(locator):
    return locator.evaluate(_VISIBLE_JS, True)


def test_slideshow_keeps_sliders_working(page, request):
    """jupyterlab-slideshow presents the first notebook with a panel at 1280×720; a slider in it still
    redraws, and the slide with the live panel (sliders, picture, caption) keeps the deck rules."""
    nb = first_panel_notebook()
    assert nb is not None, "no course notebook has a lecture panel (the test needs one)"
    page.set_viewport_size(PROJECTOR)
    lab_server, _, _ = open_and_run(page, request, nb, "slideshow")
    assert page.evaluate("() => window.jupyterapp.commands.hasCommand('deck:start')"), \
        "jupyterlab-slideshow is not installed in this JupyterLab (no deck:start command)"
    try:
        # as the README says: select the title cell, Ctrl+Shift+C, type "Start Deck", Enter
        start_deck(page, keys=True)
        panel = page.locator(".lecture-panel").first
        st = deck_state(page)
        assert 0 < len(st["shown"]) < st["n"], \
            (f"{nb.name}: the title slide shows {len(st['shown'])} of {st['n']} cells (slide metadata "
             f"missing?)")
        assert not _shown(panel), f"{nb.name}: the first panel is already on the title slide"
        steps, _, _ = walk_deck(page, until=lambda: _shown(panel), max_presses=200)
        # the live panel (sliders, picture, caption) fits the 1280×720 slide as the deck rules say
        live = slide_problems(page)["problems"]
        if _shown(panel):  # a slide taller than the window: scroll within it
            panel.scroll_into_view_if_needed()
        if not _visible_in_viewport(panel):
            save_artifacts(page, "slideshow-in-deck", page.console_log, lab_server)
        assert _visible_in_viewport(panel), f"{nb.name}: the first panel never came on screen in the deck"
        slider = panel.locator(".widget-slider").first
        mv = move_slider(page, panel, slider)
        assert mv.before != mv.after, (f"{nb.name}: in the deck, {mv.key} did not move the slider "
                                       f"({mv.before})")
        assert mv.figure_changed and mv.cells_changed, (f"{nb.name}: in the deck the drawn figure did not "
                                                        f"change")
        assert not mv.problem, f"{nb.name}: in the deck: {mv.problem}"
        probs = output_problems(page)
        assert not probs, f"{nb.name}: errors in the deck:\n{probs}"
        assert not live, f"{nb.name}: the slide of the first live panel at 1280×720:\n" + "\n".join(live)
        TIMINGS["slideshow"] = {"notebook": nb.name,
                                "started_with": f"Ctrl+Shift+C, {DECK_PALETTE_TEXT}, Enter",
                                "space_to_panel": steps, "redraw_s": round(mv.seconds, 2)}
    finally:
        stop_deck(page)


RERUN_LABEL = "rerun this B live"
RERUN_NOTEBOOK = "rerun_panel.ipynb"


def _leftovers(panel):
    """What must not remain in a panel once a run is over: a progress bar, text printed into its
    output area, a second caption."""
    out = []
    bars = panel.locator(".widget-hprogress").count()
    if bars:
        out.append(f"{bars} progress bar(s) left")
    texts = [t.strip() for t in panel.locator(".jp-OutputArea-output").all_inner_texts() if t.strip()]
    if texts:
        out.append(f"text left in the panel's output: {texts[:2]}")
    n_caps = panel.locator(".lecture-caption").count()
    if n_caps != 1:
        out.append(f"{n_caps} captions")
    cap = panel.locator(".lecture-caption").first.inner_text() if n_caps else ""
    sentences = [x.strip() for x in cap.replace("\n", " ").split(". ") if len(x.strip()) > 20]
    dup = sorted({x for x in sentences if sentences.count(x) > 1})
    if dup:
        out.append(f"the caption repeats itself: {dup[:1]}")
    return out


def test_rerun_button_trains_live_with_a_progress_bar(page, request):
    """Notebook 03's "rerun this B live" (in a notebook of its first code cell and its panel cells): the
    kernel trains the selected batch size again, a tqdm
    progress bar shows while it runs, then the figure and caption show the new run. What is DRAWN is
    checked: the picture changed, is not blank, and its left half (the curves, where the new run is
    overlaid) kept at least 90 % of its ink; no progress bar, stray output or second caption is left,
    also after the slider moves on."""
    nb = next((p for p in NOTEBOOKS if RERUN_LABEL in p.read_text(encoding="utf-8")
               or "batch_size_panel" in p.read_text(encoding="utf-8")), None)
    assert nb is not None, f"no course notebook has a {RERUN_LABEL!r} button (notebook 03 should)"
    lab_server = request.getfixturevalue("lab_server")
    write_panel_gallery(lab_server.notebook_dir, [nb], name=RERUN_NOTEBOOK)   # nb's first cell + its panels
    open_and_run(page, request, RERUN_NOTEBOOK, "rerun")
    panel = page.locator(".lecture-panel", has=page.locator("button", has_text=RERUN_LABEL)).first
    button = panel.locator("button", has_text=RERUN_LABEL).first
    src0, cap0 = panel_state(panel)
    img0 = image_stats(panel)
    assert not picture_problem(img0), f"{nb.name}: before the rerun: {picture_problem(img0)}"
    assert "Live rerun" not in cap0
    button.scroll_into_view_if_needed()
    t0 = time.monotonic()
    button.click()
    saw_bar, saw_disabled = False, False
    cap1 = cap0
    while time.monotonic() - t0 < 2 * CEILING_S:   # a ceiling only: the loop ends on the event
        saw_bar = saw_bar or panel.locator(".widget-hprogress .progress-bar").count() > 0
        saw_disabled = saw_disabled or button.is_disabled()
        src1, cap1 = panel_state(panel)
        if "Live rerun" in (cap1 or "") and not button.is_disabled():
            break
        time.sleep(0.1)
    seconds = time.monotonic() - t0
    wait_idle(page)
    src1, cap1 = panel_state(panel)
    img1 = image_stats(panel)
    if "Live rerun" not in (cap1 or ""):
        save_artifacts(page, "rerun-button", page.console_log, lab_server)
    assert "Live rerun" in (cap1 or ""), (f"{nb.name}: no live run in the caption after {seconds:.0f} s: "
                                          f"{cap1}")
    assert src1 != src0 and changed_cells(img0,
                                          img1), f"{nb.name}: the drawn figure did not change after the rerun"
    why = picture_problem(img1, img0)
    assert not why, f"{nb.name}: after the rerun {why}"
    assert img1["ink_left"] >= 0.9 * img0["ink_left"], (
        f"{nb.name}: after the rerun the left plot lost its curves ({100 * img0['ink_left']:.1f} % → "
        f"{100 * img1['ink_left']:.1f} % ink; a rerun only adds a curve)")
    assert saw_disabled, f"{nb.name}: the button stayed clickable while training"
    assert saw_bar, f"{nb.name}: no progress bar (tqdm.auto widget) showed during the rerun"
    left = _leftovers(panel)
    assert not left, f"{nb.name}: after the rerun: {left}"
    # the slider moves on: still a real figure, nothing left over from the run
    mv = move_slider(page, panel, panel.locator(".widget-slider").first)
    assert mv.figure_changed and mv.cells_changed and not mv.problem, \
        f"{nb.name}: the slider after a rerun: changed {mv.cells_changed} cells; {mv.problem}"
    left = _leftovers(panel)
    assert not left, f"{nb.name}: after the rerun and a slider move: {left}"
    probs = output_problems(page)
    assert not probs, f"{nb.name}: errors after the rerun:\n{probs}"
    TIMINGS["rerun_button"] = {"notebook": nb.name, "click_to_new_figure_s": round(seconds, 1),
                               "ink_left_before_after": [round(img0["ink_left"], 3), round(img1["ink_left"],
                                                                                           3)]}


def test_voila_renders_and_slider_works(page, chromium, session_tmp):
    """Voila (`make app`) renders a notebook with a panel as an app, and its first panel's sliders redraw.
    The first notebook with a panel (00, the cheapest) stands in for the app's notebook 01: that 01 runs
    cleanly is strict nbval's job, and its panels are the same kind (the stored outputs hold no widget
    that is not a lecture panel; tests/test_determinism_offline.py); tests/test_app_security.py starts
    `make app`'s exact command line."""
    nb = first_panel_notebook()
    assert nb is not None, "no course notebook has a lecture panel (the test needs one)"
    nb_dir = session_tmp / "voila_notebooks"
    copy_notebooks(nb_dir, [nb])
    t0 = time.monotonic()
    srv = start_voila(session_tmp / "voila", nb_dir / nb.name)
    page.server = srv
    try:
        page.goto(srv.url + "/", wait_until="load", timeout=CEILING_S * 1000)
        page.wait_for_selector(".lecture-panel .widget-slider .noUi-handle", timeout=CEILING_S * 1000)
        t_render = time.monotonic() - t0
        body = page.locator("body").inner_text()
        assert "Traceback" not in body, f"{nb.name} in Voila shows a traceback:\n{body[-3000:]}"
        stderr = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        bad = [t for t in stderr.all_inner_texts() if any(w in t for w in ("Error", "Warning"))]
        assert not bad, f"{nb.name} in Voila shows errors: {bad}"
        moves, failures = exercise_panels(page, max_panels=1)
        assert moves, f"{nb.name} in Voila: no slider found in the first panel"
        assert not failures, f"{nb.name} in Voila:\n" + "\n".join(failures)
        TIMINGS["voila"] = {"notebook": nb.name, "render_s": round(t_render, 1),
                            "slowest_redraw_s": round(max(m.seconds for m in moves), 2)}
    finally:
        srv.stop()
