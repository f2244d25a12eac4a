"""Start `make app` exactly as the Makefile does, for the browser test (test_app.py) and the load benchmark
(benchmarks/app_load.py), and watch what its kernels execute.

* The command line is the Makefile's own (``make -s -n app APP_PORT=...``), so a change to the target is what
  is tested; the folder it serves may be swapped for a temporary copy of the notebooks.
* Every Jupyter folder points into a temporary directory (nothing the user configured leaks in).
* Each kernel gets an IPython start-up file (in the temporary IPYTHONDIR) that writes one JSON line per
  executed cell: a hash of the cell's source, its wall-clock and CPU seconds (the kernel process, all
  threads) and the number of backward passes it made (``torch.autograd.backward``, which training and the
  timing demos call). So "no training or timing on load" is checked by counting, not by a clock.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: IPython start-up file for the app's kernels (see the module docstring). ``torch.autograd.backward`` is
#: wrapped right after the import statement that loads torch (a wrapper of ``__import__``, removed then).
CELL_MONITOR = r'''
import builtins as _b, hashlib as _h, json as _j, os as _o, sys as _s, time as _t
_LOG = _o.path.join(_o.environ["COURSE_APP_CELL_LOG"], f"{_o.getpid()}.jsonl")
_state = {"n": 0, "patched": False, "depth": 0}
_import = _b.__import__

def _patch():
    if _state["patched"] or "torch.autograd" not in _s.modules:
        return
    _ag = _s.modules["torch.autograd"]
    _orig = _ag.backward
    def _counted(*a, **k):
        _state["n"] += 1
        return _orig(*a, **k)
    _ag.backward = _counted
    _state["patched"] = True
    _b.__import__ = _import

def _watching_import(*a, **k):  # until torch is imported: wrap torch.autograd.backward once it is loaded
    _state["depth"] += 1
    try:
        return _import(*a, **k)
    finally:
        _state["depth"] -= 1
        if _state["depth"] == 0:  # an import statement of the user's code has finished (not one inside torch)
            _patch()

_b.__import__ = _watching_import
_patch()

def _pre(info):
    _state["n0"] = _state["n"]
    _state["t0"], _state["c0"] = _t.perf_counter(), _t.process_time()
    _state["sha"] = _h.sha1(info.raw_cell.encode()).hexdigest()

def _post(result):
    if "t0" not in _state:
        return
    rec = {"sha": _state["sha"], "wall_s": round(_t.perf_counter() - _state["t0"], 4),
           "cpu_s": round(_t.process_time() - _state["c0"], 4),
           "backward": _state["n"] - _state["n0"], "t": _t.time()}
    with open(_LOG, "a") as f:
        f.write(_j.dumps(rec) + "\n")

_ip = get_ipython()  # noqa: F821
_ip.events.register("pre_run_cell", _pre)
_ip.events.register("post_run_cell", _post)
'''


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_n(target, *assignments):
    out = subprocess.run(["make", "-s", "-n", target, *assignments], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return out.replace("\\\n", " ")


def app_command(*assignments):
    """The one shell command of `make app` that starts Voila."""
    lines = [ln.strip() for ln in make_n("app", *assignments).splitlines() if "/voila " in ln]
    assert len(lines) == 1, "expected one voila command in `make -n app`"
    return lines[0]


def served_path(cmd):
    """The notebook or folder the voila command serves (its first argument)."""
    m = re.search(r"/voila\s+(\S+)", cmd)
    assert m, cmd
    return m.group(1)


def with_served(cmd, path):
    """The command with the served notebook/folder replaced by ``path``."""
    old = served_path(cmd)
    return re.sub(r"(/voila\s+)" + re.escape(old), lambda m: m.group(1) + str(path), cmd, count=1)


def cell_sha(source):
    return hashlib.sha1(source.encode()).hexdigest()


class App:
    """`make app` running in the background: ``url``, ``token``, ``log``; :meth:`stop` ends it and its
    kernels."""

    def __init__(self, base: Path, served: Path | None = None, extra_args=(), cull_s=600, cull_every_s=60):
        self.base = Path(base)
        self.base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        cmd = app_command(f"APP_PORT={self.port}", f"APP_CULL_S={cull_s}", f"APP_CULL_EVERY_S={cull_every_s}")
        if served is not None:
            cmd = with_served(cmd, served)
        if extra_args:
            cmd += " " + " ".join(extra_args)
        self.command = cmd
        env = dict(os.environ)
        for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            (self.base / k).mkdir(exist_ok=True)
            env[k] = str(self.base / k)
        for k in ("JUPYTER_TOKEN", "MPLBACKEND", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH"):
            env.pop(k, None)
        startup = self.base / "IPYTHONDIR" / "profile_default" / "startup"
        startup.mkdir(parents=True, exist_ok=True)
        (startup / "00-course-app-cells.py").write_text(CELL_MONITOR)
        self.cell_log = self.base / "cells"
        shutil.rmtree(self.cell_log, ignore_errors=True)
        self.cell_log.mkdir()
        env["COURSE_APP_CELL_LOG"] = str(self.cell_log)
        self.log = self.base / "voila.log"
        self.t_start = time.monotonic()
        with open(self.log, "wb") as out:
            kw = {}
            try:  # die with the test run (tests/process_guard.py), where available
                from process_guard import die_with_parent
                kw["preexec_fn"] = die_with_parent
            except ImportError:
                pass
            self.proc = subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=ROOT, env=env, stdout=out,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         start_new_session=True, **kw)
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = None

    def log_text(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def wait_token(self, ceiling_s=300):
        """Wait (an event: the URL in the log) for the token; a ceiling against a hang, not a budget."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < ceiling_s:
            found = re.findall(r"\?token=([0-9a-f]{16,})", self.log_text())
            if found:
                self.token = found[0]
                return time.monotonic() - self.t_start
            if self.proc.poll() is not None:
                raise RuntimeError(f"make app exited with {self.proc.returncode}:\n{self.log_text()[-4000:]}")
            time.sleep(0.1)
        raise RuntimeError(f"no URL with a token within {ceiling_s} s:\n{self.log_text()[-4000:]}")

    def cell_records(self):
        """Every cell the app's kernels executed so far: dicts with sha, wall_s, cpu_s, backward, t, pid."""
        recs = []
        for f in sorted(self.cell_log.glob("*.jsonl")):
            for line in f.read_text().splitlines():
                if line.strip():
                    rec = json.loads(line)
                    rec["pid"] = f.stem
                    recs.append(rec)
        return recs

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                pass
        try:  # kernels left in the group go too
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def code_cells(path):
    """(index, source, tags) of every code cell with source of a notebook file."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return [(i, c.source, list(c.metadata.get("tags", []))) for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and c.source.strip()]


def stored_panels(path):
    """How many slider panels a notebook file shows: code cells whose stored outputs carry a panel's static
    caption (``Panel._ipython_display_`` publishes it beside the widget view)."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    return sum(1 for c in nb.cells if c.cell_type == "code"
               and any("lecture-static-caption" in str(o.get("data", {}).get("text/html", ""))
                       for o in c.get("outputs", [])))


def runs_of(records, path):
    """The complete runs of notebook ``path`` among the cell records: one list of (cell index, record) per
    kernel that executed every code cell the app runs (all of them: the course template hides cells, it does
    not skip them; cells tagged ``solution`` are markdown)."""
    cells = code_cells(path)
    by_sha = {cell_sha(src): i for i, src, _ in cells}
    per_pid = {}
    for rec in records:
        if rec["sha"] in by_sha:
            per_pid.setdefault(rec["pid"], []).append((by_sha[rec["sha"]], rec))
    return [sorted(run, key=lambda x: x[0]) for run in per_pid.values()
            if {i for i, _ in run} >= {i for i, _, _ in cells}]
