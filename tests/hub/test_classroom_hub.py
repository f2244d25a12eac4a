"""A class on one server: a real JupyterHub with 8 students runs every notebook (issue 13 §3; `make
hub-test`).

What it does, on 127.0.0.1 and free ports only:

1. starts ``jupyterhub`` (pinned in the ``hub`` extra) with ``configurable-http-proxy`` (npm,
package-lock.json),
   the course's shared classroom settings (``classroom/hub_settings.py``: copy-on-first-start, idle culler,
   environment), SimpleLocalProcessSpawner (limits are documented for SystemdSpawner, not enforced here) and a
   test-only authenticator (DummyAuthenticator with a password made here; the real config documents
   NativeAuthenticator);
2. starts the 8 students' servers through the hub's REST API and checks each got its own copy of the
notebooks;
3. one student alone runs every notebook (kernels through the proxy: the kernel's websocket channels, as
   JupyterLab does), and the resident memory of the kernel after Run All of each notebook is read;
4. all 8 students run every notebook at the same time (each student one notebook after another, as in class);
   every output must be error-free;
5. one student's notebook is driven in Chromium through the hub's URL (login form, JupyterLab, Run All, a
slider);
6. stops everything it started — also on failure and on SIGTERM (process groups, then any process left).

The report (times, memory, the slowest notebook) is printed and written to
tests/hub/artifacts/hub_report.json.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# The course the hub serves: this checkout, or (HUB_COURSE_DIR) another copy of it, e.g. a `git archive` of a
# commit; its lecture_utils is then put first on the kernels' PYTHONPATH.
COURSE = Path(os.environ.get("HUB_COURSE_DIR", ROOT)).resolve()
NOTEBOOKS = sorted((COURSE / "notebooks").glob("*.ipynb"))
pytestmark = pytest.mark.hub
N_STUDENTS = int(os.environ.get("HUB_STUDENTS", "8"))
STUDENTS = [f"student{i}" for i in range(1, N_STUDENTS + 1)]
CELL_CAP_S = 900      # a cap, not a budget: the run waits on each cell's reply
COURSE_FOLDER = "batch-momentum/notebooks"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chp():
    path = ROOT / "node_modules" / ".bin" / "configurable-http-proxy"
    if not path.exists():
        pytest.fail("configurable-http-proxy is not installed: run `make hub-test` (it runs `npm ci`)")
    return path


# ----------------------------------------------------------------------------- the hub
TEST_CONFIG = """
import sys
import tempfile
sys.path.insert(0, {classroom!r})
from hub_settings import apply

c = get_config()
apply(c, cull_after_s=3600, cull_every_s=60)   # the class's settings; the culler runs but culls nothing here
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{chp!r}]
c.JupyterHub.cookie_secret_file = {base!r} + "/cookie_secret"
c.JupyterHub.db_url = "sqlite:///" + {base!r} + "/hub.sqlite"
c.JupyterHub.pid_file = {base!r} + "/hub.pid"
# test only: a password made by this test; a class uses a real authenticator (classroom/jupyterhub_config.py)
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({students!r})
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {base!r} + "/homes/{{username}}"
c.Spawner.cmd = [{python!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args = c.Spawner.args + {args!r}   # the class's server arguments, then the test's
# test only: the homes lie deep in a temporary folder, too deep for a kernel's Unix socket (< 108 bytes)
c.Spawner.environment["JUPYTER_RUNTIME_DIR"] = lambda spawner: {runtime!r} + "/" + spawner.user.name
c.JupyterHub.services.append({{"name": "hub-test", "api_token": {token!r}}})
c.JupyterHub.load_roles.append({{"name": "hub-test", "services": ["hub-test"],
                                 "scopes": ["admin:users", "admin:servers", "access:servers", "read:users",
                                            "list:services", "read:services"]}})
"""


class Hub:
    def __init__(self, base: Path):
        self.base = base
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(24)
        self.password = secrets.token_hex(12)
        self.proc = None
        self.seen = {}       # pid -> create_time of every process the hub started (for the final clean-up)
        self.log_path = base / "hub.log"
        self.runtime_dir = tempfile.mkdtemp(prefix="hub-rt-", dir="/tmp")  # short: kernels' Unix sockets

    def start(self):
        args = (["--allow-root"] if os.geteuid() == 0 else []) + ["--LabApp.expose_app_in_browser=True"]
        cfg = TEST_CONFIG.format(classroom=str(COURSE / "classroom"), port=self.port, hub_port=_free_port(),
                                 proxy_api_port=_free_port(), chp=str(_chp()), base=str(self.base),
                                 password=self.password, students=STUDENTS, python=sys.executable, args=args,
                                 token=self.token, runtime=self.runtime_dir)
        (self.base / "jupyterhub_config.py").write_text(cfg)
        env = dict(os.environ)
        env.pop("MPLBACKEND", None)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        if COURSE != ROOT:
            env["PYTHONPATH"] = os.pathsep.join([str(COURSE), *filter(None, [env.get("PYTHONPATH")])])
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f",
                                      str(self.base / "jupyterhub_config.py")],
                                     cwd=self.base, env=env, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        t0 = time.monotonic()
        while True:  # an event (the API answers), with a cap
            if self.proc.poll() is not None:
                pytest.fail(f"jupyterhub exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.api("GET", "/hub/api/")[0] == 200:
                    return time.monotonic() - t0
            except OSError:
                pass
            if time.monotonic() - t0 > 300:
                pytest.fail(f"jupyterhub did not answer within 300 s:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self, n=4000):
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    def api(self, method, path, body=None, timeout=120):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"token {self.token}",
                                              "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                text = r.read().decode()
                return r.status, (json.loads(text) if text.strip() else None)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    # -- processes
    def processes(self):
        import psutil

        if self.proc is None:
            return []
        try:
            procs = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        for p in procs:
            try:
                self.seen.setdefault(p.pid, p.create_time())
            except psutil.Error:
                pass
        return procs

    def server_process(self, user):
        """The student's single-user server (a child of the hub whose environment names the user)."""
        import psutil

        for p in self.processes():
            try:
                if ("jupyterhub.singleuser" in " ".join(p.cmdline())
                        and p.environ().get("JUPYTERHUB_USER") == user):
                    return p
            except psutil.Error:
                continue
        return None

    def stop(self):
        self._stop_everything()
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def _stop_everything(self):
        """Stop the hub (it stops the servers it spawned), then anything it started that is still alive."""
        import psutil

        self.processes()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        left = []
        for pid, created in self.seen.items():
            try:
                p = psutil.Process(pid)
                if p.create_time() == created and p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    left.append(p)
            except psutil.Error:
                continue
        for p in left:  # servers and kernels run in sessions of their own: kill each group, then the process
            try:
                os.killpg(os.getpgid(p.pid), signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.kill()
            except psutil.Error:
                pass
        if getattr(self, "_log", None):
            self._log.close()
        return [p.pid for p in left]

    def still_alive(self, wait_s=30):
        """Pids of processes the hub started that are still running (waits for the killed ones to go)."""
        import psutil

        deadline = time.monotonic() + wait_s
        while True:
            alive = []
            for pid, created in self.seen.items():
                try:
                    p = psutil.Process(pid)
                    if p.create_time() == created and p.status() != psutil.STATUS_ZOMBIE:
                        alive.append(pid)
                except psutil.Error:
                    continue
            if not alive or time.monotonic() > deadline:
                return alive
            time.sleep(0.2)


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    base = tmp_path_factory.mktemp("hub")
    h = Hub(base)

    def on_term(signum, frame):
        """A CI time-out's SIGTERM: stop the hub and everything it started at once (this also ends the
        students' websockets, so the worker threads return), then unwind through the finally below."""
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        h.stop()
        raise KeyboardInterrupt(f"signal {signum}")

    old = signal.signal(signal.SIGTERM, on_term)
    try:
        h.start_s = h.start()
        yield h
    finally:
        signal.signal(signal.SIGTERM, old)
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy2(h.log_path, ARTIFACTS / "hub.log") if h.log_path.exists() else None
        h.left_after_stop = h.stop()
        alive = h.still_alive()
        assert not alive, f"processes the hub started are still running after the clean-up: {alive}"


# ----------------------------------------------------------------------------- a notebook through the hub
def _ws_url(hub, user, kernel_id, session):
    return (f"ws://127.0.0.1:{hub.port}/user/{user}/api/kernels/{kernel_id}/channels?session_id={session}")


def run_notebook(hub, user, nb_path, on_done=None):
    """Run every code cell of ``nb_path`` in a fresh kernel of ``user``'s server, through the proxy:
    a session (POST /api/sessions, the notebook's folder as working directory), then execute_request on
    the kernel's websocket channels, as JupyterLab does. Returns a dict with the problems found."""
    import websocket  # websocket-client (a dependency of jupyter_server)

    name = nb_path.name
    status, sess = hub.api("POST", f"/user/{user}/api/sessions",
                           {"path": f"{COURSE_FOLDER}/{name}", "name": name, "type": "notebook",
                            "kernel": {"name": "python3"}})
    assert status == 201, f"{user}: POST /api/sessions for {name} answered {status}: {sess}"
    kernel_id, session = sess["kernel"]["id"], uuid.uuid4().hex
    nb = nbformat.read(str(nb_path), as_version=4)
    problems, t0 = [], time.monotonic()
    ws = websocket.create_connection(_ws_url(hub, user, kernel_id, session), timeout=CELL_CAP_S,
                                     header=[f"Authorization: token {hub.token}"])
    try:
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            msg_id = uuid.uuid4().hex
            ws.send(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "session": session,
                           "username": user, "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ")},
                "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                "content": {"code": cell.source, "silent": False, "store_history": True,
                            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
            replied = idle = False
            cell_t0 = time.monotonic()
            while not (replied and idle):
                if time.monotonic() - cell_t0 > CELL_CAP_S:
                    problems.append(f"cell {i}: no reply within {CELL_CAP_S} s")
                    break
                raw = ws.recv()
                if isinstance(raw, bytes):
                    continue  # binary frames (widget buffers)
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["header"]["msg_type"], msg.get("content", {})
                if kind == "error":
                    problems.append(f"cell {i}: {content.get('ename')}: {content.get('evalue')}")
                elif kind == "stream" and content.get("name") == "stderr" and (
                        "Traceback" in content.get("text", "") or "Error" in content.get("text", "")):
                    problems.append(f"cell {i} stderr: {content['text'][:400]}")
                elif kind == "execute_reply":
                    replied = True
                    if content.get("status") != "ok":
                        problems.append(f"cell {i}: execute_reply {content.get('status')} "
                                        f"{content.get('ename', '')}: {content.get('evalue', '')}")
                elif kind == "status" and content.get("execution_state") == "idle":
                    idle = True
            if problems:
                break
        seconds = time.monotonic() - t0
        extra = on_done(user, kernel_id) if on_done else {}
    finally:
        ws.close()
        hub.api("DELETE", f"/user/{user}/api/sessions/{sess['id']}")
    return {"user": user, "notebook": name, "seconds": round(seconds, 1), "problems": problems, **extra}


def _kernel_rss_mb(hub, user, kernel_id):
    """Resident memory of the kernel (the server's child whose command line names the kernel's
    connection file)."""
    import psutil

    server = hub.server_process(user)
    for p in (server.children(recursive=True) if server else []):
        try:
            if any(kernel_id in a for a in p.cmdline()):
                # uss: pages only this kernel holds (torch's library pages are shared)
                full = p.memory_full_info()
                return {"kernel_rss_mb": round(full.rss / 2**20), "kernel_uss_mb": round(full.uss / 2**20)}
        except psutil.Error:
            continue
    return {"kernel_rss_mb": None, "kernel_uss_mb": None}


class MemorySampler(threading.Thread):
    """Peak resident memory of each student's server plus its kernels, sampled every 0.5 s."""

    def __init__(self, hub, users):
        super().__init__(daemon=True)
        self.hub, self.users, self.peak = hub, users, {u: 0 for u in users}
        self.stopped = threading.Event()

    def run(self):
        import psutil

        while not self.stopped.is_set():
            for u in self.users:
                server = self.hub.server_process(u)
                if server is None:
                    continue
                total = 0
                for p in [server, *server.children(recursive=True)]:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak[u] = max(self.peak[u], total)
            self.stopped.wait(0.5)

    def stop(self):
        self.stopped.set()
        self.join(timeout=30)
        return {u: round(v / 2**20) for u, v in self.peak.items()}


def run_students(hub, users, notebooks, on_done=None):
    """Every user runs every notebook, one after another; the users at the same time.
    Returns (seconds, runs)."""
    def one_student(u):
        return [run_notebook(hub, u, nb, on_done) for nb in notebooks]

    t0 = time.monotonic()
    with ThreadPoolExecutor(len(users)) as pool:
        runs = [r for rs in pool.map(one_student, users) for r in rs]
    return time.monotonic() - t0, runs


# ----------------------------------------------------------------------------- the test
def _spawn_all(hub):
    t0 = time.monotonic()
    with ThreadPoolExecutor(len(STUDENTS)) as pool:  # the whole class presses "Start" at once
        answers = list(pool.map(lambda u: (u, *hub.api("POST", f"/hub/api/users/{u}/server")), STUDENTS))
    for u, status, body in answers:
        assert status in (201, 202), f"starting {u}'s server answered {status}: {body}\n{hub.log_tail()}"
    pending = set(STUDENTS)
    while pending:  # each server's "ready" flag (an event), with a cap
        for u in sorted(pending):
            status, model = hub.api("GET", f"/hub/api/users/{u}")
            server = (model or {}).get("servers", {}).get("", {}) if status == 200 else {}
            if server.get("ready"):
                pending.discard(u)
            elif status == 200 and not server:
                pytest.fail(f"{u}'s server stopped while starting:\n{hub.log_tail()}")
        if time.monotonic() - t0 > 600:
            pytest.fail(f"servers of {sorted(pending)} not ready within 600 s:\n{hub.log_tail()}")
        time.sleep(0.5)
    return time.monotonic() - t0


def _load():
    return "load average %.1f %.1f %.1f" % os.getloadavg()


def test_a_class_of_8_on_one_hub(hub):
    report = {"students": N_STUDENTS, "notebooks": [p.name for p in NOTEBOOKS], "cpus": os.cpu_count(),
              "hub_start_s": round(hub.start_s, 1), "load_at_start": _load()}
    report["spawn_all_s"] = round(_spawn_all(hub), 1)

    # every student has their own copy of the course (copy-on-first-start hook)
    for u in STUDENTS:
        copy = hub.base / "homes" / u / COURSE_FOLDER
        assert sorted(p.name for p in copy.glob("*.ipynb")) == [p.name for p in NOTEBOOKS], u
    # the students' servers answer through the proxy
    for u in STUDENTS:
        status, body = hub.api("GET", f"/user/{u}/api/status")
        assert status == 200, f"{u}: /api/status through the proxy answered {status}: {body}"
    status, services = hub.api("GET", "/hub/api/services")
    assert status == 200 and "idle-culler" in services, services

    # one student alone: the reference time, and each kernel's memory after Run All
    sampler = MemorySampler(hub, STUDENTS[:1])
    sampler.start()
    t1, alone = run_students(hub, STUDENTS[:1], NOTEBOOKS, on_done=lambda u, k: _kernel_rss_mb(hub, u, k))
    report["one_student"] = {"seconds": round(t1, 1), "peak_server_rss_mb": sampler.stop()[STUDENTS[0]],
                             "notebooks": {r["notebook"]: {k: r.get(k) for k in ("seconds", "kernel_rss_mb",
                                                                                 "kernel_uss_mb")}
                                           for r in alone},
                             "load_after": _load()}
    problems = [f"alone: {r['user']} {r['notebook']}: {p}" for r in alone for p in r["problems"]]

    # the whole class at once
    sampler = MemorySampler(hub, STUDENTS)
    sampler.start()
    report["class_load_at_start"] = _load()
    t8, runs = run_students(hub, STUDENTS, NOTEBOOKS)
    peaks = sampler.stop()
    slowest = max(runs, key=lambda r: r["seconds"])
    per_nb = {}
    for r in runs:
        per_nb.setdefault(r["notebook"], []).append(r["seconds"])
    report["class"] = {"seconds": round(t8, 1), "ratio_to_one_student": round(t8 / t1, 2),
                       "peak_server_rss_mb": peaks,
                       "slowest": {"notebook": slowest["notebook"], "user": slowest["user"],
                                   "seconds": slowest["seconds"]},
                       "notebook_seconds_min_max": {k: [min(v), max(v)] for k, v in per_nb.items()},
                       "load_after": _load()}
    problems += [f"class: {r['user']} {r['notebook']}: {p}" for r in runs for p in r["problems"]]
    report["problems"] = problems
    _write_report(report)
    assert len(runs) == N_STUDENTS * len(NOTEBOOKS)

    # one student's notebook in Chromium through the hub's URL
    report["browser"] = _drive_in_chromium(hub, STUDENTS[-1])
    _write_report(report)
    assert not problems, "\n".join(problems)


def _write_report(report):
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "hub_report.json").write_text(json.dumps(report, indent=1) + "\n")
    print("\n--- classroom hub report ---\n" + json.dumps(report, indent=1))


# ----------------------------------------------------------------------------- Chromium through the hub
BROWSER_NOTEBOOK = os.environ.get("HUB_BROWSER_NOTEBOOK", "02_noisy_gradients.ipynb")


def _drive_in_chromium(hub, user):
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(chromium) and os.access(chromium, os.X_OK)):
        pytest.skip(f"no Chromium at {chromium} for the browser part (apt-get install chromium)")
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import importlib.util

    from browser_page import exercise_panels, goto_lab, output_problems, run_all, unexecuted_cells
    from playwright.sync_api import sync_playwright

    spec = importlib.util.spec_from_file_location("browser_conftest",
                                                  ROOT / "tests" / "browser" / "conftest.py")
    browser_conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browser_conftest)
    CHROMIUM_ARGS = browser_conftest.CHROMIUM_ARGS

    class Via:  # what goto_lab needs of a server: the student's URL behind the hub (cookie login, no token)
        url = f"{hub.url}/user/{user}"
        token = ""

    out = {"user": user, "notebook": BROWSER_NOTEBOOK}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            t0 = time.monotonic()
            page.goto(f"{hub.url}/hub/login", wait_until="domcontentloaded", timeout=120_000)
            page.fill("input[name=username]", user)
            page.fill("input[name=password]", hub.password)
            page.click("[type=submit]")
            page.wait_for_url(f"**/user/{user}/**", timeout=180_000)
            goto_lab(page, Via, f"{COURSE_FOLDER}/{BROWSER_NOTEBOOK}", "hubtest")
            out["open_s"] = round(time.monotonic() - t0, 1)
            out["run_all_s"] = round(run_all(page, timeout_s=CELL_CAP_S), 1)
            probs = output_problems(page)
            assert not probs, f"{BROWSER_NOTEBOOK} in Chromium through the hub:\n{probs}"
            assert not unexecuted_cells(page), unexecuted_cells(page)
            moves, failures = exercise_panels(page, max_panels=1)
            assert moves and not failures, failures
            out["slider_moves"] = len(moves)
            page.screenshot(path=str(ARTIFACTS / "hub_chromium.png"))
        finally:
            browser.close()
    return out
