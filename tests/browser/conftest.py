"""Fixtures of the browser test: Debian's Chromium through Python playwright, and a JupyterLab
server of our own (127.0.0.1, free port, token, isolated folders, a temporary copy of the notebooks).

Skips with one line when Chromium (``$CHROMIUM`` or /usr/bin/chromium) or playwright is missing.
Never downloads a browser. On a failed test the page's screenshot, console log and the server
log go to ``tests/browser/artifacts/``.
"""
from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_servers import (  # noqa: E402
    ARTIFACTS,
    copy_notebooks,
    notebook_paths,
    save_artifacts,
    start_lab,
    write_panel_gallery,
    zh_notebook_paths,
)

#: The Chinese edition's folder in the served tree (a kernel there speaks Chinese: lecture_utils.i18n reads
#: the folder name 'zh' of JPY_SESSION_NAME), and the notebook of its panels the Chinese gallery test runs.
ZH = "zh"
ZH_GALLERY_SOURCE = "02_noisy_gradients.ipynb"
ZH_GALLERY = "panel_gallery_zh.ipynb"

CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]


def chromium_path():
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture(scope="session")
def chromium():
    path = chromium_path()
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.skip(f"SKIPPED browser test: no Chromium at {path} "
                    "(apt-get install chromium, or set CHROMIUM)")
    # pinned in the test extra: missing means a broken setup, not a skip
    import playwright.sync_api  # noqa: F401
    return path


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
    except Exception as exc:
        pw.stop()
        pytest.fail(f"Chromium at {chromium} did not start: {exc}")
    yield b
    b.close()
    pw.stop()


@pytest.fixture(scope="session")
def session_tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("browser")


@pytest.fixture(scope="session")
def lab_server(chromium, session_tmp):
    """JupyterLab serving a temporary copy of notebooks/ (the browser never saves into the repo), the
    Chinese edition under ``zh/`` (as make lab's my-notebooks/zh/), the panel gallery (every lecture panel
    of the course in one notebook; ``srv.gallery_panels``) and ``zh/`` + ``ZH_GALLERY`` (the panels of the
    Chinese notebook 02; ``srv.zh_gallery_panels``); with make lab's custom CSS, the course's Chinese font."""
    nb_dir = session_tmp / "notebooks"
    copy_notebooks(nb_dir, notebook_paths())
    zh_paths = zh_notebook_paths()
    copy_notebooks(nb_dir / ZH, zh_paths)
    _, gallery_panels = write_panel_gallery(nb_dir, notebook_paths())
    zh_source = [p for p in zh_paths if p.name == ZH_GALLERY_SOURCE] or zh_paths[:1]
    _, zh_gallery_panels = write_panel_gallery(nb_dir / ZH, zh_source, name=ZH_GALLERY)
    base = session_tmp / "lab"
    t0 = time.monotonic()
    srv = start_lab(base, nb_dir)
    srv.start_seconds = time.monotonic() - t0
    print(f"\nJupyterLab ready in {srv.start_seconds:.1f} s at {srv.url}")
    srv.notebook_dir = nb_dir
    srv.gallery_panels = gallery_panels
    srv.zh_gallery_panels = zh_gallery_panels
    srv.zh_gallery = f"{ZH}/{ZH_GALLERY}"
    try:
        yield srv
    finally:
        srv.stop()
        if srv.proc.returncode is None:  # pragma: no cover
            print("warning: JupyterLab did not stop", file=sys.stderr)


@pytest.fixture
def page(browser, request):
    """A fresh browser context and page; on failure its screenshot and console log are saved."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    # a ceiling for clicks and waits, not a budget: a slow or busy machine passes
    context.set_default_timeout(120_000)
    pg = context.new_page()
    log = []
    pg.on("console", lambda m: log.append(f"[{m.type}] {m.text}"))
    pg.on("pageerror", lambda e: log.append(f"[pageerror] {e}"))
    pg.console_log = log
    pg.server = None  # a test sets the server whose log belongs with its artifacts
    try:
        yield pg
    finally:
        rep = getattr(request.node, "rep_call", None)
        if rep is None or rep.failed:
            save_artifacts(pg, request.node.name, log, pg.server)
        try:  # free the CPU for the next notebook: stop every kernel this page started
            pg.evaluate("async () => { if (window.jupyterapp) await "
                        "window.jupyterapp.serviceManager.sessions.shutdownAll(); }")
        except Exception:
            pass
        context.close()


@pytest.fixture(scope="session", autouse=True)
def _clean_artifacts():
    """Artifacts describe the latest run only."""
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    yield
