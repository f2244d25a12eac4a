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
  const timer = new Promise((_, reject) => setTimeout(() => reject(new Error('run-all timed out')), timeoutMs));
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
  const prompts = Array.from(document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputArea-prompt'));
  const busy = prompts.filter(p => p.textContent.includes('*')).length;
  const ind = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {busy: busy, status: ind ? ind.getAttribute('data-status') : null};
}
"""


def goto_lab(page, server, name, workspace):
    """Open notebook ``name`` in a fresh workspace (no layout restored from an earlier test)."""
    url = f"{server.url}/lab/workspaces/{workspace}/tree/{name}?reset&token={server.token}"
    page.goto(url, wait_until="domcontentloaded", timeout=60_000)
    page.wait_for_function(JS_NOTEBOOK_READY, timeout=90_000, polling=200)
    page.evaluate(JS_WATCH_KERNEL)


def run_all(page, timeout_s=300):
    t0 = time.monotonic()
    page.evaluate(JS_RUN_ALL, timeout_s * 1000)
    # the command resolves when the last cell has run; make sure the kernel has settled too
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        st = page.evaluate(JS_BUSY)
        if st["busy"] == 0 and st["status"] in ("idle", None):
            break
        time.sleep(0.2)
    return time.monotonic() - t0


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
                    text = "".join(o.get("text", "")) if isinstance(o.get("text"), list) else o.get("text", "")
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


def move_slider(page, panel, slider, *, key=None, timeout_s=15.0):
    """Focus the slider's handle, press one arrow key, wait for the panel's picture or caption to
    change. Returns a :class:`SliderMove` (``seconds``: key press to new picture, as the page sees it)."""
    st = slider_state(slider)
    if key is None:
        key = "ArrowLeft" if (st["now"] is not None and st["max"] is not None and st["now"] >= st["max"]) else "ArrowRight"
    src0, cap0 = panel_state(panel)
    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    t0 = time.monotonic()
    page.keyboard.press(key)
    src1, cap1 = src0, cap0
    while time.monotonic() - t0 < timeout_s:
        src1, cap1 = panel_state(panel)
        if src1 != src0 or cap1 != cap0:
            break
        time.sleep(0.03)
    seconds = time.monotonic() - t0
    # a new caption may land a moment after the picture (two widget messages): let it settle
    time.sleep(0.1)
    src1, cap1 = panel_state(panel)
    st1 = slider_state(slider)
    return SliderMove(panel=-1, slider=-1, label=(st["label"] or "").strip(), before=str(st["readout"]),
                      after=str(st1["readout"]), key=key, figure_changed=src1 != src0,
                      caption_changed=cap1 != cap0, seconds=seconds)


def exercise_panels(page, *, max_panels=None):
    """Move every slider of every lecture panel on the page once; return (moves, failures)."""
    panels = page.locator(".lecture-panel")
    moves, failures = [], []
    n = panels.count()
    for i in range(n if max_panels is None else min(n, max_panels)):
        panel = panels.nth(i)
        panel.scroll_into_view_if_needed()
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
                failures.append(f"panel {i} slider {j} ({mv.label}): {mv.key} did not move it (stays {mv.before})")
            elif not (mv.figure_changed or mv.caption_changed):
                failures.append(f"panel {i} slider {j} ({mv.label}): {mv.before} -> {mv.after} "
                                f"but neither the figure nor the caption changed within {mv.seconds:.1f} s")
    return moves, failures


def describe(moves):
    return json.dumps([mv.__dict__ for mv in moves], indent=1, ensure_ascii=False)


# ----------------------------------------------------------------------------- slideshow deck
JS_DECK_STATE = """
() => {
  const nb = window.jupyterapp.shell.currentWidget.content;
  const shown = [], skip = [];
  nb.widgets.forEach((c, i) => {
    if (c.node.classList.contains('jp-deck-mod-onscreen') && c.node.classList.contains('jp-deck-mod-visible')) shown.push(i);
    if ((c.model.getMetadata('slideshow') || {}).slide_type === 'skip') skip.push(i);
  });
  return {active: nb.activeCellIndex, n: nb.widgets.length, shown: shown, skip: skip};
}
"""


def deck_state(page):
    """The active cell, the number of cells, the cells shown on the current slide, the skipped cells."""
    return page.evaluate(JS_DECK_STATE)


def start_deck(page):
    """Present the open notebook with jupyterlab-slideshow, from its first cell ("Run all" leaves the
    last cell active, and the deck opens on the active cell's slide)."""
    page.evaluate("async () => { await window.jupyterapp.commands.execute('deck:start'); }")
    page.wait_for_selector("body[data-jp-deck-mode='presenting']", state="attached", timeout=15_000)
    page.evaluate("() => { window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0; }")
    page.wait_for_timeout(300)


def stop_deck(page):
    """Leave the deck (it stores "active" in the settings: leave it off)."""
    try:
        page.evaluate("async () => { await window.jupyterapp.commands.execute('deck:stop'); }")
    except Exception:
        pass


def deck_next(page, wait_ms=100):
    """One press of Space, as the presenter does: the next fragment, subslide or slide."""
    page.locator(".jp-Notebook .jp-Cell.jp-mod-active").first.focus()
    page.keyboard.press("Space")
    page.wait_for_timeout(wait_ms)


def walk_deck(page, *, until=None, max_presses=300):
    """Press Space until ``until()`` is true or the last cell that is not skipped is active.
    Returns ``(presses, seen, state)``: ``seen`` is every cell index shown on some slide."""
    st = deck_state(page)
    last = max(i for i in range(st["n"]) if i not in st["skip"])
    seen, presses = set(st["shown"]), 0
    while presses < max_presses and not (until() if until else st["active"] >= last):
        deck_next(page)
        presses += 1
        st = deck_state(page)
        seen.update(st["shown"])
    return presses, seen, st
