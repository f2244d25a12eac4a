"""Start and stop the Jupyter servers the browser test drives (JupyterLab and Voila).

Each server runs from this interpreter (``sys.executable -m jupyter lab`` / ``-m voila``) on
127.0.0.1 and a free port, with its config, data, runtime, settings and workspace folders in a
temporary directory, so that nothing the learner configured leaks in and nothing the test does
(e.g. the slideshow's "active" setting) leaks out. The notebooks it serves are a temporary copy.
"""
from __future__ import annotations

import glob
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from course_files import NOTEBOOKS as COURSE_NOTEBOOKS  # noqa: E402
from process_guard import die_with_parent, install  # noqa: E402  (tests/process_guard.py)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def notebook_paths():
    """The course's notebooks by name (tests/course_files.py: a missing one fails, never shrinks the
    run), or the notebooks matching the glob in ``$BROWSER_NOTEBOOKS`` (a maintainer's subset), sorted."""
    pattern = os.environ.get("BROWSER_NOTEBOOKS")
    if not pattern:
        return list(COURSE_NOTEBOOKS)
    return [Path(p) for p in sorted(glob.glob(pattern)) if ".ipynb_checkpoints" not in p]


def zh_notebook_paths(notebooks=None):
    """The Chinese edition of ``notebooks`` (default :func:`notebook_paths`): ``notebooks/zh/<name>``, the
    same names (scripts/i18n.py builds them from the English ones; a missing one fails, never shrinks the
    run)."""
    return [ROOT / "notebooks" / "zh" / Path(nb).name for nb in (notebooks or notebook_paths())]


#: make lab's custom CSS (Makefile target ``lab``): JupyterLab links ``custom/custom.css`` from this folder,
#: which imports the course's Chinese font (``course-cjk.css``, a data: URL).
LAB_CUSTOM_CSS = ROOT / "app" / "voila" / "templates" / "course" / "static"
LAB_CSS_ARGS = ("--LabApp.custom_css=True",
                f"--ServerApp.tornado_settings=static_custom_path={LAB_CUSTOM_CSS}")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def isolated_env(base: Path):
    """Environment variables that point every Jupyter folder into ``base``."""
    env = dict(os.environ)
    dirs = {
        "JUPYTER_CONFIG_DIR": base / "config",
        "JUPYTER_DATA_DIR": base / "data",
        "JUPYTER_RUNTIME_DIR": base / "runtime",
        "JUPYTERLAB_SETTINGS_DIR": base / "settings",
        "JUPYTERLAB_WORKSPACES_DIR": base / "workspaces",
        "IPYTHONDIR": base / "ipython",
    }
    for k, d in dirs.items():
        d.mkdir(parents=True, exist_ok=True)
        env[k] = str(d)
    env["JUPYTER_PREFER_ENV_PATH"] = "1"
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    env.pop("JUPYTER_PATH", None)
    env.pop("MPLBACKEND", None)  # tests/conftest.py may set Agg; the kernels need the inline backend
    env.pop("JUPYTER_CONFIG_PATH", None)
    # quiet, offline front end: no news, no update checks
    settings = Path(dirs["JUPYTERLAB_SETTINGS_DIR"])
    notif = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True, exist_ok=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # every cell in the DOM (no virtual scrolling), so that every panel can be found and moved
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    deck = settings / "jupyterlab-slideshow" / "plugin.jupyterlab-settings"
    deck.parent.mkdir(parents=True, exist_ok=True)
    deck.write_text(json.dumps({"active": False}))
    return env


def copy_notebooks(dest: Path, notebooks):
    """Copy the given notebooks (and nothing else) to ``dest``; return the copies' names."""
    dest.mkdir(parents=True, exist_ok=True)
    for nb in notebooks:
        shutil.copy2(nb, dest / Path(nb).name)
    return [Path(nb).name for nb in notebooks]


GALLERY = "panel_gallery.ipynb"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def stored_panel_cells(nb):
    """Indices of the code cells whose stored outputs show a lecture panel (a widget view whose
    text form is ``[title] caption``, what :class:`lecture_utils.widgets.Panel` stores)."""
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and any(
        WIDGET_VIEW in o.get("data", {}) and str(o["data"].get("text/plain", "")).startswith("[")
        for o in c.get("outputs", []))]


def write_panel_gallery(dest: Path, notebooks, name=GALLERY):
    """One notebook with every lecture panel of the course (issue 20 §5): for each notebook, its first
    code cell (imports, style, seed) and, verbatim, each cell whose stored output is a panel (a panel
    cell imports what it uses, so it runs on its own after a restart). Running it costs the panels, not
    the notebooks' training runs, which strict nbval already checks. Returns ``(path, {notebook: number
    of panels})``."""
    import nbformat

    gallery = nbformat.v4.new_notebook()
    counts = {}
    gallery.cells.append(nbformat.v4.new_markdown_cell("# Every lecture panel of the course (browser test)"))
    for path in notebooks:
        nb = nbformat.read(str(path), as_version=4)
        cells = stored_panel_cells(nb)
        counts[Path(path).name] = len(cells)
        if not cells:
            continue
        first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
        gallery.cells.append(nbformat.v4.new_markdown_cell(f"## {Path(path).stem}"))
        for i in [first] + [i for i in cells if i != first]:
            gallery.cells.append(nbformat.v4.new_code_cell(nb.cells[i].source))
        gallery.metadata = gallery.metadata or nb.metadata
    gallery.metadata.pop("widgets", None)
    dest.mkdir(parents=True, exist_ok=True)
    out = dest / name
    nbformat.write(gallery, str(out))
    return out, counts


class Server:
    """A Jupyter server process we started; ``stop()`` ends it and its kernels."""

    def __init__(self, argv, env, url, token, log_path, cwd):
        self.url = url.rstrip("/")
        self.token = token
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "wb")
        install()  # SIGTERM unwinds the test run (stop() runs), leftovers are ended when pytest exits
        # own session (stop() ends the whole group); SIGKILLed by the kernel if pytest dies hard
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     preexec_fn=die_with_parent)

    # Both waits end on the event (the server answers / listens) or as soon as the server exits; the
    # timeout is only a ceiling against a hang, ~30x a quiet start, so that a loaded machine passes.
    def wait_ready(self, path="/api/status", timeout=300):
        t0 = time.monotonic()
        q = f"?token={self.token}" if self.token else ""
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url + path + q, timeout=5) as r:
                    if r.status == 200:
                        return time.monotonic() - t0
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"server not ready after {timeout} s:\n{self.log_tail()}")

    def wait_port(self, port, timeout=300):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return time.monotonic() - t0
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"server not listening after {timeout} s:\n{self.log_tail()}")

    def log_size(self):
        self._log.flush()
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")

    def log_tail(self, n=4000):
        try:
            if not self._log.closed:  # stop() closed it: the file on disk is complete
                self._log.flush()
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def stop(self):
        """SIGTERM the server (it shuts its kernels down), then SIGKILL its process group if needed."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:  # anything left in the group we started (kernels) goes too
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()


def root_flag():
    return ["--allow-root"] if hasattr(os, "getuid") and os.getuid() == 0 else []


def start_lab(base: Path, notebook_dir: Path, *, extra=LAB_CSS_ARGS):
    """JupyterLab serving ``notebook_dir``, with make lab's custom CSS (the course's Chinese font) unless
    ``extra`` says otherwise."""
    port = free_port()
    token = secrets.token_hex(16)
    env = isolated_env(base)
    argv = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
            "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={notebook_dir}", "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=", *root_flag(), *extra]
    srv = Server(argv, env, f"http://127.0.0.1:{port}", token, base / "lab.log", cwd=str(notebook_dir))
    try:
        srv.wait_ready()
    except Exception:
        srv.stop()
        raise
    return srv


def start_voila(base: Path, notebook: Path):
    port = free_port()
    env = isolated_env(base)
    argv = [sys.executable, "-m", "voila", str(notebook), "--no-browser", "--Voila.ip=127.0.0.1",
            f"--port={port}", "--show_tracebacks=True"]
    srv = Server(argv, env, f"http://127.0.0.1:{port}", None, base / "voila.log", cwd=str(notebook.parent))
    try:
        srv.wait_port(port)  # not a GET: voila would start a kernel and run the notebook for it
    except Exception:
        srv.stop()
        raise
    return srv


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:120]


def save_artifacts(pg, name, log, server=None):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = ARTIFACTS / _safe(name)
    try:
        pg.screenshot(path=str(stem) + ".png", full_page=True)
    except Exception as exc:  # the page may be gone
        log.append(f"[screenshot failed] {exc}")
    text = "\n".join(log)
    if server is not None:
        text += "\n\n===== server log (tail) =====\n" + server.log_tail(20000)
    (Path(str(stem) + ".console.log")).write_text(text)
