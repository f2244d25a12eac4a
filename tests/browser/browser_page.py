"""What the browser test does in a page: open a notebook in JupyterLab, run it, look for errors,
move every slider of every lecture panel and check that its figure changes.

JupyterLab runs with ``--LabApp.expose_app_in_browser``, so ``window.jupyterapp`` gives the
application (commands, the current notebook panel, its kernel); everything else is plain DOM:
panels are ``.lecture-panel`` (see ``lecture_utils/widgets.py``), sliders are ipywidgets 8
``.widget-slider`` with a noUiSlider ``.noUi-handle``, the figure is the panel's ``<img>`` and
the caption ``.lecture-caption``.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import nbformat

STDERR = 'application/vnd.jupyter.stderr'
#: Waits are on events (kernel idle, a new picture, a deck move); this is only the ceiling after which a
#: wait gives up: generous, so that a machine 3x slower than ours (or a busy one) still passes.
CEILING_S = 300
CEILING_MS = CEILING_S * 1000
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
BAD_WORDS = ("Traceback", "Error", "Exception", "Warning")


# ----------------------------------------------------------------------------- the notebook file
def panel_cells(path):
    """Indices of code cells that show a lecture panel: a stored widget view whose text form is
    ``[title] caption`` (what :class:`lecture_utils.widgets.Panel` stores), or — for a notebook
    saved without outputs — a source line that builds a ``*_panel(...)``."""
    nb = nbformat.read(str(path), as_version=4)
    out = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        stored = any(WIDGET_VIEW in o.get("data", {}) and str(o["data"].get("text/plain", "")).startswith("[")
                     for o in cell.get("outputs", []))
        if stored or "_panel(" in cell.source or "Panel(" in cell.source:
            out.append(i)
    return out


# ----------------------------------------------------------------------------- JupyterLab
JS_NOTEBOOK_READY = """
() => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return false;
  const w = app.shell.currentWidget;
  if (!w || !w.sessionContext || !w.content || !w.context || !w.context.isReady) return false;
  const k = w.sessionContext.session && w.sessionContext.session.kernel;
  return !!k && k.status === 'idle' && k.connectionStatus === 'connected';
}
"""

JS_WATCH_KERNEL = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  window.__lectureIopub = [];
  const kernel = panel.sessionContext.session.kernel;
  kernel.iopubMessage.connect((_, msg) => {
    const t = msg.header.msg_type;
    if (t === 'error') {
      window.__lectureIopub.push({kind: 'error', text: msg.content.ename + ': ' + msg.content.evalue});
    } else if (t === 'stream' && msg.content.name === 'stderr') {
      window.__lectureIopub.push({kind: 'stderr', text: msg.content.text});
    }
  });
  return true;
}
"""

JS_RUN_ALL = """
async (timeoutMs) => {
  const app = window.jupyterapp;
  const run = app.commands.execute('notebook:run-all-cells');
  const timer = new Promise((_, reject) =>
    setTimeout(() => reject(new Error('run-all timed out')), timeoutMs));
  await Promise.race([run, timer]);
  return true;
}
"""

JS_MODEL_OUTPUTS = """
() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  const res = [];
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type !== 'code') continue;
    res.push({index: i, execution_count: c.executionCount, outputs: c.outputs.toJSON()});
  }
  return res;
}
"""

JS_BUSY = """
() => {
  const prompts = Array.from(
    document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputArea-prompt'));
  const busy = prompts.filter(p => p.textContent.includes('*')).length;
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {busy: busy, status: ind ? ind.getAttribute('data-status') : null};
}
"""


def goto_lab(page, server, name, workspace):
    """Open notebook ``name`` in a fresh workspace (no layout restored from an earlier test)."""
    url = f"{server.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={server.token}"
    page.goto(url, wait_until="domcontentloaded", timeout=CEILING_MS)
    page.wait_for_function(JS_NOTEBOOK_READY, timeout=CEILING_MS, polling=200)
    page.evaluate(JS_WATCH_KERNEL)


def open_notebook(page, name):
    """Open notebook ``name`` in the JupyterLab already on the page (no reload: cheaper than
    :func:`goto_lab` for a second notebook); waits until it is the current widget with an idle kernel."""
    page.evaluate("async (p) => { await window.jupyterapp.commands.execute('docmanager:open', "
                  "{path: p, factory: 'Notebook'}); }", name)
    page.wait_for_function("(p) => { const w = window.jupyterapp.shell.currentWidget; "
                           "return !!w && !!w.context && w.context.path === p; }", arg=name,
                           timeout=CEILING_MS, polling=100)
    page.wait_for_function(JS_NOTEBOOK_READY, timeout=CEILING_MS, polling=200)
    page.evaluate(JS_WATCH_KERNEL)


def close_notebook(page):
    """Shut the current notebook's kernel down and close it without saving."""
    page.evaluate("async () => { const w = window.jupyterapp.shell.currentWidget; if (!w) return; "
                  "if (w.sessionContext) await w.sessionContext.shutdown(); w.dispose(); }")


def run_all(page, timeout_s=900):
    """Run every cell and wait until the kernel is idle again (events; ``timeout_s`` is a ceiling)."""
    t0 = time.monotonic()
    page.evaluate(JS_RUN_ALL, timeout_s * 1000)
    # the command resolves when the last cell has run; make sure the kernel has settled too
    wait_idle(page, timeout_s)
    return time.monotonic() - t0


def wait_idle(page, timeout_s=CEILING_S):
    """Wait until no cell is running and the kernel reports idle (an event, with a generous ceiling)."""
    page.wait_for_function(f"() => {{ const st = ({JS_BUSY})(); return st.busy === 0 && "
                           "(st.status === 'idle' || st.status === null); }",
                           timeout=timeout_s * 1000, polling=100)


@dataclass
class Problems:
    items: list = field(default_factory=list)

    def add(self, where, text):
        self.items.append(f"{where}: {text.strip()[:600]}")

    def __bool__(self):
        return bool(self.items)

    def __str__(self):
        return "\n".join(self.items)


def output_problems(page, *, model=True):
    """Error outputs, stderr with an error/warning, failed widget views: in the notebook model,
    in the kernel's iopub messages (also those of slider callbacks) and in the DOM."""
    probs = Problems()
    if model:
        for cell in page.evaluate(JS_MODEL_OUTPUTS):
            for o in cell["outputs"]:
                if o.get("output_type") == "error":
                    probs.add(f"cell {cell['index']}", f"{o.get('ename')}: {o.get('evalue')}")
                elif o.get("output_type") == "stream" and o.get("name") == "stderr":
                    text = "".join(o.get("text", "")) if isinstance(o.get("text"), list) else o.get("text",
                                                                                                    "")
                    if any(w in text for w in BAD_WORDS):
                        probs.add(f"cell {cell['index']} stderr", text)
    for m in page.evaluate("() => window.__lectureIopub || []"):
        if m["kind"] == "error" or any(w in m["text"] for w in BAD_WORDS):
            probs.add(f"kernel {m['kind']}", m["text"])
    for text in page.locator(f'.jp-OutputArea-output[data-mime-type="{STDERR}"]').all_inner_texts():
        if any(w in text for w in BAD_WORDS):
            probs.add("stderr output in the page", text)
    for text in page.locator(".jp-OutputArea-output").all_inner_texts():
        if "Error displaying widget" in text or "Error rendering output" in text:
            probs.add("widget output", text)
    return probs


def unexecuted_cells(page):
    """Code cells with source that have no execution count after run-all."""
    panel_cells = page.evaluate("""
    () => {
      const cells = window.jupyterapp.shell.currentWidget.content.model.cells;
      const res = [];
      for (let i = 0; i < cells.length; i++) {
        const c = cells.get(i);
        if (c.type === 'code' && c.sharedModel.getSource().trim() && c.executionCount === null) res.push(i);
      }
      return res;
    }""")
    return panel_cells


# ----------------------------------------------------------------------------- panels and sliders
def panel_state(panel):
    """(img src, caption text) of a ``.lecture-panel`` locator."""
    return panel.evaluate("""
    (el) => {
      const img = el.querySelector('img');
      const cap = el.querySelector('.lecture-caption');
      return [img ? img.getAttribute('src') : null, cap ? cap.textContent : null];
    }""")


def slider_state(slider):
    return slider.evaluate("""
    (el) => {
      const h = el.querySelector('.noUi-handle');
      const r = el.querySelector('.widget-readout');
      const d = el.querySelector('.widget-label');
      return {now: h ? parseFloat(h.getAttribute('aria-valuenow')) : null,
              min: h ? parseFloat(h.getAttribute('aria-valuemin')) : null,
              max: h ? parseFloat(h.getAttribute('aria-valuemax')) : null,
              readout: r ? (r.value !== undefined && r.tagName === 'INPUT' ? r.value : r.textContent) : null,
              label: d ? d.textContent : null};
    }""")


JS_IMAGE = """
async (el) => {
  // What the panel's <img> DRAWS: decode the PNG on a canvas and measure it on a grid of cells.
  const img = el.querySelector('img');
  if (!img) return null;
  try { await img.decode(); } catch (e) { return {error: 'the picture does not decode: ' + e}; }
  const W = img.naturalWidth, H = img.naturalHeight;
  if (!W || !H) return {error: 'empty picture'};
  const c = document.createElement('canvas'); c.width = W; c.height = H;
  const ctx = c.getContext('2d', {willReadFrequently: true});
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, W, H).data;
  const GX = 32, GY = 12, n = GX * GY;
  const ink = new Float64Array(n), tone = new Float64Array(n), cnt = new Float64Array(n);
  const colours = new Set();
  let inkAll = 0, total = 0, inkLeft = 0, inkRight = 0;
  for (let y = 0; y < H; y += 2) {
    const gy = Math.min(GY - 1, Math.floor(y * GY / H));
    for (let x = 0; x < W; x += 2) {
      const i = (y * W + x) * 4, r = d[i], g = d[i + 1], b = d[i + 2];
      const k = gy * GX + Math.min(GX - 1, Math.floor(x * GX / W));
      const dark = (r < 230 || g < 230 || b < 230) ? 1 : 0;
      cnt[k] += 1; ink[k] += dark; tone[k] += r * 3 + g * 5 + b * 7; total += 1; inkAll += dark;
      if (x < W / 2) inkLeft += dark; else inkRight += dark;
      if (colours.size < 512) colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
    }
  }
  const r = img.getBoundingClientRect();
  return {natural: [W, H], shown: [r.width, r.height], width_attr: img.getAttribute('width'),
          ink: inkAll / total, ink_left: inkLeft / (total / 2), ink_right: inkRight / (total / 2),
          colours: colours.size,
          grid: Array.from(tone, (v, k) => v / cnt[k]), grid_ink: Array.from(ink, (v, k) => v / cnt[k])};
}
"""


def image_stats(panel):
    """What the panel's picture draws: natural and shown size, ink (share of non-white pixels, in all
    and per half), number of distinct colours, a 32×12 grid of mean tones (to tell where it changed)."""
    return panel.evaluate(JS_IMAGE)


def picture_problem(stats, before=None):
    """Why a picture is not a good figure ('' if it is): blank, one colour, a half that lost its ink."""
    if stats is None:
        return "no picture in the panel"
    if stats.get("error"):
        return stats["error"]
    if stats["ink"] < 0.01 or stats["colours"] < 4:
        return f"the picture is blank ({100 * stats['ink']:.1f} % ink, {stats['colours']} colours)"
    if before and not before.get("error"):
        for half in ("left", "right"):
            was, now = before[f"ink_{half}"], stats[f"ink_{half}"]
            if was > 0.02 and now < 0.25 * was:
                return (f"the {half} half of the picture went near blank ({100 * was:.1f} % → "
                        f"{100 * now:.1f} % ink)")
    return ""


def changed_cells(before, after):
    """Grid cells (of 32×12) whose drawing changed between two pictures."""
    if not before or not after or before.get("error") or after.get("error"):
        return 0
    if before["natural"] != after["natural"]:
        return len(after["grid"])
    return sum(1 for a, b in zip(before["grid"], after["grid"]) if abs(a - b) > 1e-9)


def double_size_problem(stats):
    """'' when the picture has 2× the pixels of its CSS size (crisp on a HiDPI screen / projector)."""
    if not stats or stats.get("error"):
        return "no picture"
    w_attr = stats.get("width_attr")
    if not w_attr:
        return "the <img> has no width: the page stretches the picture"
    css = float(w_attr)
    natural, shown = stats["natural"][0], stats["shown"][0]
    if abs(natural - 2 * css) > 2:
        return f"{natural} px drawn for {css:g} CSS px (want 2×)"
    if shown > css + 1:
        return f"shown {shown:.0f} px wide, wider than its {css:g} CSS px (stretched)"
    return ""


@dataclass
class SliderMove:
    panel: int
    slider: int
    label: str
    before: str
    after: str
    key: str
    figure_changed: bool
    caption_changed: bool
    seconds: float
    cells_changed: int = 0
    problem: str = ""


def wait_panel_change(panel, src0, cap0, timeout_s=CEILING_S):
    """Wait (polling the DOM) until the panel's picture or caption differs from ``src0``/``cap0``."""
    t0 = time.monotonic()
    src1, cap1 = src0, cap0
    while time.monotonic() - t0 < timeout_s:
        src1, cap1 = panel_state(panel)
        if src1 != src0 or cap1 != cap0:
            break
        time.sleep(0.03)
    return src1, cap1, time.monotonic() - t0


def move_slider(page, panel, slider, *, key=None, timeout_s=CEILING_S):
    """Focus the slider's handle, press one arrow key, wait for the panel's picture or caption to
    change, then for the kernel to be idle (the caption comes in a second message). Returns a
    :class:`SliderMove` (``seconds``: key press to new picture, as the page sees it) that also says
    how many grid cells of the picture changed and what is wrong with the new picture, if anything."""
    st = slider_state(slider)
    if key is None:
        at_max = st["now"] is not None and st["max"] is not None and st["now"] >= st["max"]
        key = "ArrowLeft" if at_max else "ArrowRight"
    src0, cap0 = panel_state(panel)
    img0 = image_stats(panel)
    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press(key)
    _, _, seconds = wait_panel_change(panel, src0, cap0, timeout_s)
    wait_idle(page, timeout_s)
    src1, cap1 = panel_state(panel)
    img1 = image_stats(panel)
    st1 = slider_state(slider)
    return SliderMove(panel=-1, slider=-1, label=(st["label"] or "").strip(), before=str(st["readout"]),
                      after=str(st1["readout"]), key=key, figure_changed=src1 != src0,
                      caption_changed=cap1 != cap0, seconds=seconds,
                      cells_changed=changed_cells(img0, img1), problem=picture_problem(img1, img0))


def click_control(page, panel, target, label):
    """Click a button-like control of a panel (a toggle button, a checkbox), wait for the picture or
    caption to change and the kernel to be idle; a :class:`SliderMove` describes what happened."""
    src0, cap0 = panel_state(panel)
    img0 = image_stats(panel)
    target.scroll_into_view_if_needed()
    target.click()
    _, _, seconds = wait_panel_change(panel, src0, cap0)
    wait_idle(page)
    src1, cap1 = panel_state(panel)
    img1 = image_stats(panel)
    return SliderMove(panel=-1, slider=-1, label=label, before="", after="clicked", key="click",
                      figure_changed=src1 != src0, caption_changed=cap1 != cap0, seconds=seconds,
                      cells_changed=changed_cells(img0, img1), problem=picture_problem(img1, img0))


def _button_controls(panel):
    """(locator, label) of every toggle button that is not pressed and every checkbox of a panel."""
    out = []
    toggles = panel.locator(".widget-toggle-buttons button")
    for k in range(toggles.count()):
        b = toggles.nth(k)
        if "mod-active" not in (b.get_attribute("class") or ""):
            out.append((b, f"toggle '{b.inner_text().strip()}'"))
    boxes = panel.locator(".widget-checkbox input[type=checkbox]")
    for k in range(boxes.count()):
        out.append((boxes.nth(k), f"checkbox {k}"))
    return out


def exercise_panels(page, *, max_panels=None):
    """Check every lecture panel on the page: its picture is a real figure drawn at 2× its CSS size;
    then move each of its sliders once and click each toggle button / checkbox (the rerun button has
    its own test): the picture must change where it is drawn (pixels, not just the src) and must not
    go blank. Returns (moves, failures)."""
    panels = page.locator(".lecture-panel")
    moves, failures = [], []
    n = panels.count()
    for i in range(n if max_panels is None else min(n, max_panels)):
        panel = panels.nth(i)
        panel.scroll_into_view_if_needed()
        stats = image_stats(panel)
        for why in (picture_problem(stats), double_size_problem(stats)):
            if why:
                failures.append(f"panel {i} at its defaults: {why}")
        sliders = panel.locator(".widget-slider")
        for j in range(sliders.count()):
            slider = sliders.nth(j)
            st = slider_state(slider)
            if st["min"] is not None and st["min"] == st["max"]:
                continue  # a slider with one position cannot move
            mv = move_slider(page, panel, slider)
            mv.panel, mv.slider = i, j
            moves.append(mv)
            if mv.before == mv.after:
                failures.append(f"panel {i} slider {j} ({mv.label}): {mv.key} did not move it (stays "
                                f"{mv.before})")
            elif not mv.figure_changed or mv.cells_changed == 0:
                failures.append(f"panel {i} slider {j} ({mv.label}): {mv.before} -> {mv.after} but the drawn "
                                f"figure did not change (src changed: {mv.figure_changed}, caption changed: "
                                f"{mv.caption_changed})")
            elif mv.problem:
                failures.append(f"panel {i} slider {j} ({mv.label}): {mv.before} -> {mv.after}: {mv.problem}")
        for target, label in _button_controls(panel):
            mv = click_control(page, panel, target, label)
            mv.panel = i
            moves.append(mv)
            if not mv.figure_changed or mv.cells_changed == 0:
                failures.append(f"panel {i} {label}: clicked but the drawn figure did not change")
            elif mv.problem:
                failures.append(f"panel {i} {label}: {mv.problem}")
    return moves, failures


def describe(moves):
    return json.dumps([mv.__dict__ for mv in moves], indent=1, ensure_ascii=False)


# ----------------------------------------------------------------------------- slideshow deck
JS_DECK_STATE = """
() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const shown = [], skip = [];
  nb.widgets.forEach((c, i) => {
    if (c.node.classList.contains('jp-deck-mod-onscreen')
        && c.node.classList.contains('jp-deck-mod-visible')) shown.push(i);
    if ((c.model.getMetadata('slideshow') || {}).slide_type === 'skip') skip.push(i);
  });
  return {active: nb.activeCellIndex, n: nb.widgets.length, shown: shown, skip: skip};
}
"""


def deck_state(page):
    """The active cell, the number of cells, the cells shown on the current slide, the skipped cells."""
    return page.evaluate(JS_DECK_STATE)


#: What the README tells a presenter to type into the command palette (Ctrl+Shift+C) to start the deck.
#: ("deck" alone selects *Stop Deck*, the first match in the palette.)
DECK_PALETTE_TEXT = "Start Deck"

JS_PRESENTING = "() => document.body.getAttribute('data-jp-deck-mode') === 'presenting'"


def start_deck(page, *, keys=False):
    """Present the open notebook with jupyterlab-slideshow, from its first cell ("Run all" leaves the
    last cell active, and the deck opens on the active cell's slide). ``keys=True`` does it as the
    README says, with keystrokes: select the title cell, Ctrl+Shift+C, type "Start Deck", Enter."""
    page.evaluate("() => { const p = window.jupyterapp.shell.currentWidget; p.content.activeCellIndex = 0;"
                  " p.content.mode = 'command'; p.content.node.focus(); }")
    if keys:
        page.keyboard.press("Control+Shift+C")
        box = page.locator(".lm-CommandPalette-input").first
        box.wait_for(state="visible", timeout=CEILING_MS)
        page.keyboard.type(DECK_PALETTE_TEXT)
        page.wait_for_function(
            "(t) => { const a = document.querySelector('.lm-CommandPalette-item.lm-mod-active');"
            " return !!a && a.textContent.includes(t); }", arg=DECK_PALETTE_TEXT, timeout=CEILING_MS)
        page.keyboard.press("Enter")
    else:
        page.evaluate("async () => { await window.jupyterapp.commands.execute('deck:start'); }")
    page.wait_for_function(JS_PRESENTING, timeout=CEILING_MS, polling=100)
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }")
    page.wait_for_function(f"() => ({JS_DECK_STATE})().shown.includes(0)", timeout=CEILING_MS, polling=100)


def stop_deck(page):
    """Leave the deck (it stores "active" in the settings: leave it off)."""
    try:
        page.evaluate("async () => { await window.jupyterapp.commands.execute('deck:stop'); }")
    except Exception:
        pass


def deck_next(page, timeout_s=60, before=None):
    """One press of Space, as the presenter does: the next fragment, subslide or slide; waits for the
    deck to move (the active cell or the cells on screen change; ``before``: the state now, if known).
    Returns False when it did not move within ``timeout_s`` (a dead end: :func:`walk_deck` presses only
    while the last cell is not reached). A move takes well under a second even on a loaded machine
    (0.1-0.4 s measured at load 4-20); the 60 s are a ceiling for a stalled page, not a budget."""
    before = before or deck_state(page)
    page.locator(".jp-Notebook .jp-Cell.jp-mod-active").first.focus()
    page.keyboard.press("Space")
    try:
        page.wait_for_function(
            f"(b) => {{ const s = ({JS_DECK_STATE})(); return s.active !== b.active || "
            "JSON.stringify(s.shown) !== JSON.stringify(b.shown); }", arg=before,
            timeout=timeout_s * 1000, polling="raf")
    except Exception:  # playwright's TimeoutError: the deck did not move
        return False
    return True


def walk_deck(page, *, until=None, max_presses=300, each=None):
    """Press Space until ``until()`` is true or the last cell that is not skipped is active;
    ``each(state)`` is called on the first slide and after every press.
    Returns ``(presses, seen, state)``: ``seen`` is every cell index shown on some slide."""
    st = deck_state(page)
    last = max(i for i in range(st["n"]) if i not in st["skip"])
    seen, presses = set(st["shown"]), 0
    if each:
        each(st)
    while presses < max_presses and not (until() if until else st["active"] >= last):
        moved = deck_next(page, before=st)
        presses += 1
        st = deck_state(page)
        seen.update(st["shown"])
        if each and moved:
            each(st)
        if not moved:  # a dead end: Space does nothing more
            break
    return presses, seen, st


# ----------------------------------------------------------------------------- the deck on a projector
#: The projector the deck is checked on (CSS px), the smallest body text, and the tags of cells that keep
#: their code on a slide / stay out of the deck (scripts/add_slide_metadata.py documents the rules).
PROJECTOR = {"width": 1280, "height": 720}
MIN_BODY_PX = 20
SHOW_CODE_TAGS = ["show-code", "exercise"]

JS_SLIDE_PROBLEMS = """
async ([minBody, showCode]) => {
  // two frames: the slide's layout has settled after the deck moved
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const nb = window.jupyterapp.shell.currentWidget.content;
  const W = window.innerWidth, H = window.innerHeight, TOL = 2;
  const probs = [], fonts = [], figures = [];
  const shownIdx = [];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const v = el.checkVisibility ? el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})
                                 : el.offsetParent !== null;
    return v && r.width > 0 && r.height > 0;
  };
  nb.widgets.forEach((c, i) => {
    if (c.node.classList.contains('jp-deck-mod-onscreen') && c.node.classList.contains('jp-deck-mod-visible'))
      shownIdx.push(i);
  });
  for (const i of shownIdx) {
    const c = nb.widgets[i];
    const tags = c.model.getMetadata('tags') || [];
    const first = c.model.sharedModel.getSource().replace(/^\\n+/, '').split('\\n')[0];
    if (tags.includes('deep-dive')) probs.push(`cell ${i}: a deep-dive cell is on a slide`);
    if (c.model.type === 'code' && !tags.some(t => showCode.includes(t))) {
      const inp = c.node.querySelector('.jp-Cell-inputWrapper');
      if (inp && visible(inp) && c.model.sharedModel.getSource().trim())
        probs.push(`cell ${i}: its code is shown (tag it show-code if the slide is about the code)`);
    }
    if (c.model.type === 'markdown' && /^\\s{0,3}#{1,2}\\s+\\S/.test(first) && i !== shownIdx[0]
        && !tags.includes('solution'))
      probs.push(`cell ${i}: its heading ${JSON.stringify(first.slice(0, 50))} does not start the slide`);
    for (const h of c.node.querySelectorAll('.jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2')) {
      if (h.parentElement.firstElementChild !== h && visible(h))
        probs.push(`cell ${i}: heading ${JSON.stringify(h.textContent.slice(0, 50))} sits mid-cell`);
    }
    // nothing cut off or scrolled out: the cell and every visible part of it inside the window
    const parts = [c.node, ...c.node.querySelectorAll(
      '.jp-RenderedMarkdown > *, .jp-OutputArea-output img, .jp-OutputArea-output pre, table, '
      + '.lecture-panel')];
    for (const el of parts) {
      if (!visible(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.top < -TOL || r.bottom > H + TOL || r.left < -TOL || r.right > W + TOL) {
        probs.push(`cell ${i}: ${el === c.node ? 'the cell' : el.tagName.toLowerCase()} at `
                   + `${Math.round(r.left)},${Math.round(r.top)}–`
                   + `${Math.round(r.right)},${Math.round(r.bottom)} `
                   + `is outside the ${W}×${H} window`);
        break;
      }
    }
    for (const el of c.node.querySelectorAll(
        '.jp-RenderedMarkdown p, .jp-RenderedMarkdown li, .jp-RenderedMarkdown td, .lecture-caption')) {
      if (!visible(el) || !el.textContent.trim()) continue;
      const px = parseFloat(getComputedStyle(el).fontSize);
      fonts.push(px);
      if (px < minBody - 0.01) {
        probs.push(`cell ${i}: ${el.tagName.toLowerCase()} text at ${px} px`);
        break;
      }
    }
    for (const img of c.node.querySelectorAll('.jp-OutputArea-output img')) {
      if (!visible(img)) continue;
      try { await img.decode(); } catch (e) { probs.push(`cell ${i}: a picture does not decode`); continue; }
      const w = Math.min(img.naturalWidth, 400), h = Math.min(img.naturalHeight, 300);
      const cv = document.createElement('canvas'); cv.width = w; cv.height = h;
      const ctx = cv.getContext('2d', {willReadFrequently: true});
      ctx.drawImage(img, 0, 0, w, h);
      const d = ctx.getImageData(0, 0, w, h).data;
      let ink = 0; const colours = new Set();
      for (let k = 0; k < d.length; k += 4) {
        if (d[k] < 230 || d[k + 1] < 230 || d[k + 2] < 230) ink++;
        if (colours.size < 64) colours.add(((d[k] >> 4) << 8) | ((d[k + 1] >> 4) << 4) | (d[k + 2] >> 4));
      }
      const share = ink / (d.length / 4);
      figures.push(i);
      if (share < 0.01 || colours.size < 4)
        probs.push(`cell ${i}: a blank picture (${(100 * share).toFixed(1)} % ink, ${colours.size} colours)`);
    }
  }
  return {active: nb.activeCellIndex, shown: shownIdx, problems: probs, fonts: fonts, figures: figures};
}
"""


def slide_problems(page):
    """What is wrong with the slide on screen (the deck at :data:`PROJECTOR` size): deep-dive cells shown,
    code inputs shown (cells without a show-code tag), a ``#``/``##`` heading that does not open the slide
    or sits mid-cell, content outside the window, body text under :data:`MIN_BODY_PX`, blank pictures.
    Returns ``{active, shown, problems, fonts, figures}``."""
    return page.evaluate(JS_SLIDE_PROBLEMS, [MIN_BODY_PX, SHOW_CODE_TAGS])


def deck_slide_types(page):
    """``{cell index: slide_type}`` of the open notebook's model (cells with a slide type)."""
    return {int(k): v for k, v in page.evaluate("""
    () => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells; const out = {};
      for (let i = 0; i < cells.length; i++) {
        const t = (cells.get(i).getMetadata('slideshow') || {}).slide_type; if (t) out[i] = t; }
      return out; }""").items()}
