"""`make app` in Chromium at 1280×720: every notebook as an app page (docs/app.md).

The Makefile's own command (tests/browser/app_server.py) serves a temporary copy of the course's notebooks.
For the list of notebooks and for every notebook page:

* **nothing from another machine**: every request the page makes (documents, scripts, styles, fonts, images,
  web sockets) goes to 127.0.0.1 (``blob:`` URLs of the page itself included);
* **no console error** (and no uncaught page error);
* **no training or timing on load**: the app's kernels make no backward pass while they run a notebook
  (counted in the kernel by an IPython start-up file, not timed), and no cell goes past a CPU ceiling;
* **exercises**: no "not done yet" anywhere, no solution shown; each cell tagged ``exercise`` shows the
  course's note instead ("your turn — in JupyterLab");
* no error output; on every page with a lecture panel, one slider moves with the keyboard and the drawn
  picture changes (pixels, not just the src).

Every wait is on an event (a selector, the page's "rendered" state, a new picture) with a generous ceiling.
How long a page takes to open is measured, not asserted (it depends on the machine and on what else runs): the
numbers go to ``tests/browser/artifacts/app_load.json`` and ``benchmarks/app_load.py`` measures them properly.
"""
from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from app_server import App, code_cells, runs_of, stored_panels
from browser_page import CEILING_S, move_slider, panel_state
from browser_servers import ARTIFACTS, copy_notebooks, notebook_paths, save_artifacts

NOTEBOOKS = notebook_paths()
VIEWPORT = {"width": 1280, "height": 720}
LOCAL = re.compile(r"^(?:blob:)?(?:https?|wss?)://127\.0\.0\.1(?::\d+)?(?:/|$)")
#: A ceiling against a training run or a timing demo on load, not a budget: ~10x the CPU time of the most
#: expensive cell that draws from a cache here (a panel's first picture, imports of torch and matplotlib).
CELL_CPU_CEILING_S = 30.0
RENDERED = ("() => { const r = document.getElementById('rendered_cells');"
            " return !!r && r.style.display !== 'none'; }")
STDERR = '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
TIMES = {}
#: The Chinese page the app test drives (its kernel runs in a folder named zh: lecture_utils speaks Chinese).
ZH_NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "zh" / "02_noisy_gradients.ipynb"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def app(chromium, session_tmp):
    served = session_tmp / "app_notebooks"
    copy_notebooks(served, NOTEBOOKS)
    copy_notebooks(served / "zh", [ZH_NOTEBOOK])
    # the pool is not refilled during the test (a refill runs the notebook again: CPU the test does not need)
    srv = App(session_tmp / "app", served=served, extra_args=["--VoilaKernelManager.fill_delay=86400"])
    try:
        TIMES["server_ready_s"] = round(srv.wait_token(), 1)
        srv.notebooks = served
        yield srv
    finally:
        srv.stop()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "app_load.json").write_text(json.dumps(TIMES, indent=1))


@pytest.fixture
def app_page(browser, app, request):
    """A 1280×720 page that records every request, console message and page error."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(CEILING_S * 1000)
    pg = context.new_page()
    log, requests, errors = [], [], []
    pg.on("request", lambda r: requests.append(r.url))
    pg.on("console", lambda m: (log.append(f"[{m.type}] {m.text}"),
                                errors.append(f"{m.text} @ {m.location.get('url', '')}") if m.type == "error"
                                else None))
    pg.on("pageerror", lambda e: (log.append(f"[pageerror] {e}"), errors.append(f"uncaught: {e}")))
    pg.requests, pg.errors, pg.console_log = requests, errors, log
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is None or rep.failed:
            save_artifacts(pg, request.node.name, log)
            (ARTIFACTS / f"{request.node.name}.voila.log").write_text(app.log_text()[-30000:])
        _shutdown_kernel(app, pg)
        context.close()


def _shutdown_kernel(app, pg):
    """End the page's kernel as Voila's page does when it is left (POST /voila/api/shutdown/<id>), so that
    kernels do not pile up over the notebooks (each holds torch and the data: ~0.4 GB)."""
    try:
        kid = pg.evaluate("() => { const c = document.getElementById('jupyter-config-data');"
                          " return c ? JSON.parse(c.textContent).kernelId : null; }")
    except Exception:
        return
    if kid:
        req = urllib.request.Request(f"{app.url}/voila/api/shutdown/{kid}", method="POST", data=b"",
                                     headers={"Authorization": f"token {app.token}"})
        try:
            urllib.request.urlopen(req, timeout=30).close()
        except OSError:
            pass


def _outside(requests):
    return sorted({u for u in requests if not LOCAL.match(u) and not u.startswith("data:")})


def test_the_list_of_notebooks(app, app_page):
    pg = app_page
    t0 = time.monotonic()
    pg.goto(f"{app.url}/?token={app.token}", wait_until="load")
    TIMES["list_page_s"] = round(time.monotonic() - t0, 2)
    links = pg.locator("a[href*='/voila/render/']")
    names = [links.nth(i).inner_text().strip() for i in range(links.count())]
    assert names == [Path(p).stem for p in NOTEBOOKS], names
    assert not _outside(pg.requests), f"requests to another machine: {_outside(pg.requests)}"
    assert not pg.errors, "console errors:\n" + "\n".join(pg.errors)


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[Path(p).stem for p in NOTEBOOKS])
def test_notebook_page(app, app_page, nb):
    pg, name = app_page, Path(nb).name
    t0 = time.monotonic()
    pg.goto(f"{app.url}/voila/render/{name}?token={app.token}", wait_until="commit")
    pg.wait_for_function(RENDERED, timeout=CEILING_S * 1000, polling=50)
    opened = time.monotonic() - t0
    body = pg.locator("#rendered_cells").inner_text()

    # exercises: the note instead of the code; no placeholder, no solution
    exercises = [i for i, _, tags in code_cells(nb) if "exercise" in tags]
    notes = pg.locator("[data-course-exercise]").count()
    assert notes == len(exercises), \
        f"{name}: {notes} exercise notes for {len(exercises)} cells tagged exercise"
    assert "not done yet" not in body, f"{name}: the app shows an exercise's 'not done yet'"
    assert "open it only after you have tried" not in body, f"{name}: the app shows a solution"

    # no error output
    assert "Traceback" not in body, f"{name}: a traceback in the page:\n{body[-2000:]}"
    bad = [t for t in pg.locator(STDERR).all_inner_texts() if re.search(r"Error|Exception|Warning", t)]
    assert not bad, f"{name}: errors or warnings in the page: {bad}"

    # every panel of the notebook is drawn (the widgets render after the cells: wait for them), and a slider
    # redraws its picture
    expected = stored_panels(nb)
    pg.wait_for_function("(n) => document.querySelectorAll('.lecture-panel').length >= n", arg=expected,
                         timeout=CEILING_S * 1000, polling=100)
    moved = None
    panels = pg.locator(".lecture-panel")
    n_panels = panels.count()
    assert n_panels == expected, f"{name}: {n_panels} panels in the page, {expected} in the notebook"
    for k in range(n_panels):
        sliders = panels.nth(k).locator(".widget-slider")
        if sliders.count():
            pg.wait_for_function("(el) => !!el.querySelector('img')", arg=panels.nth(k).element_handle())
            moved = move_slider(pg, panels.nth(k), sliders.first)
            assert moved.before != moved.after, f"{name}: {moved.key} did not move {moved.label}"
            assert moved.figure_changed and moved.cells_changed > 0, \
                f"{name}: {moved.label} {moved.before} -> {moved.after} but the picture did not change"
            assert not moved.problem, f"{name}: {moved.problem}"
            assert panel_state(panels.nth(k))[0], f"{name}: the panel lost its picture"
            break

    # nothing from another machine, no console error (checked after the slider's round trip too)
    assert not _outside(pg.requests), f"{name}: requests to another machine: {_outside(pg.requests)}"
    assert not pg.errors, f"{name}: console errors:\n" + "\n".join(pg.errors)

    # no training or timing on load: counted in the kernel that ran the notebook
    t_wait = time.monotonic()
    runs = runs_of(app.cell_records(), nb)
    while not runs and time.monotonic() - t_wait < CEILING_S:  # the records come with the last cell's end
        time.sleep(0.2)
        runs = runs_of(app.cell_records(), nb)
    assert runs, f"{name}: no complete run of the notebook among the kernels' cell records"
    run = runs[0]
    trained = [(i, r["backward"]) for i, r in run if r["backward"] != 0]
    assert not trained, f"{name}: cells that train or time on load (cell, backward passes): {trained}"
    slow = [(i, r["cpu_s"]) for i, r in run if r["cpu_s"] > CELL_CPU_CEILING_S]
    assert not slow, f"{name}: cells past the {CELL_CPU_CEILING_S:g} s CPU ceiling on load: {slow}"
    TIMES[name] = {"page_open_s": round(opened, 2), "panels": n_panels, "exercise_notes": notes,
                   "kernel_cpu_s": round(sum(r["cpu_s"] for _, r in run), 2),
                   "kernel_wall_s": round(sum(r["wall_s"] for _, r in run), 2),
                   "slowest_cell": max(((i, r["cpu_s"]) for i, r in run), key=lambda x: x[1]),
                   "slider_redraw_s": round(moved.seconds, 2) if moved else None}


def test_a_chinese_page_speaks_chinese_and_its_slider_moves(app, app_page):
    """notebooks/zh/02 in the app: Chinese prose drawn with the course's font (no CJK font needs to be
    installed), Chinese panel captions from the kernel, and a slider that redraws its picture with a new
    Chinese caption."""
    pg = app_page
    pg.goto(f"{app.url}/voila/render/zh/{ZH_NOTEBOOK.name}?token={app.token}", wait_until="commit")
    pg.wait_for_function(RENDERED, timeout=CEILING_S * 1000, polling=50)
    expected = stored_panels(ZH_NOTEBOOK)
    pg.wait_for_function("(n) => document.querySelectorAll('.lecture-panel').length >= n", arg=expected,
                         timeout=CEILING_S * 1000, polling=100)
    body = pg.locator("#rendered_cells").inner_text()
    assert len(CJK.findall(body)) > 500, "the page does not read as Chinese"
    assert pg.evaluate("() => document.fonts.ready.then(() => document.fonts.check('16px \"Course CJK\"', "
                       "'批次与动量'))"), "the course's CJK font is not loaded"
    panel = pg.locator(".lecture-panel").first
    pg.wait_for_function("(el) => !!el.querySelector('img')", arg=panel.element_handle())
    moved = move_slider(pg, panel, panel.locator(".widget-slider").first)
    _, caption = panel_state(panel)
    assert moved.figure_changed and moved.cells_changed > 0, f"{moved.label}: the picture did not change"
    assert moved.caption_changed and CJK.search(caption or ""), f"caption not Chinese: {caption!r}"
    assert not _outside(pg.requests), f"requests to another machine: {_outside(pg.requests)}"
    assert not pg.errors, "console errors:\n" + "\n".join(pg.errors)
