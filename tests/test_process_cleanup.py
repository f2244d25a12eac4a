"""A test run that is stopped leaves nothing behind (issue 13 §2; tests/process_guard.py).

A small pytest run starts a "server" through the browser test's ``browser_servers.Server`` (the
class that starts JupyterLab and Voila); the server starts a "kernel" in a session of its own, as
jupyter_client does. The run is then stopped from outside, and no process of it may be left.
Waits are on events (a pid file appears, a process is gone), each with an overall ceiling.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
CEILING_S = 180  # only a ceiling: each wait ends on its event, normally within seconds

FIXTURE_TEST = textwrap.dedent('''
    import os, sys, time
    from pathlib import Path
    sys.path.insert(0, {browser!r})
    import pytest
    from browser_servers import Server

    SERVER = """
    import os, subprocess, sys, time
    kernel = subprocess.Popen([sys.executable, "-c", "import time\\\\nwhile True: time.sleep(0.2)"],
                              start_new_session=True)   # a kernel: own session, like jupyter_client's
    open(sys.argv[1] + ".tmp", "w").write(f"{{os.getpid()}} {{kernel.pid}}")
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])
    while True:
        time.sleep(0.2)
    """

    @pytest.fixture
    def server(tmp_path):
        srv = Server([sys.executable, "-c", SERVER, {pidfile!r}], dict(os.environ), "http://127.0.0.1:9",
                     None, tmp_path / "server.log", cwd=str(tmp_path))
        try:
            yield srv
        finally:
            srv.stop()

    def test_runs_until_stopped(server):
        while True:
            time.sleep(0.1)
''')


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().decode(errors="replace").rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(cond, what):
    deadline = time.monotonic() + CEILING_S
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {CEILING_S} s: {what}")
        time.sleep(0.05)


def start_run(tmp_path):
    pidfile = tmp_path / "pids"
    test = tmp_path / "test_fixture_server.py"
    test.write_text(FIXTURE_TEST.format(browser=str(TESTS / "browser"), pidfile=str(pidfile)))
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True,
                            # a shell that starts the tests in the background (CI, `make test &`) ignores
                            # SIGINT, and an ignored SIGINT is inherited: give the inner run Python's own
                            # Ctrl+C handler
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    wait_for(lambda: pidfile.exists() or proc.poll() is not None, "the server wrote its pid file")
    if not pidfile.exists():
        pytest.fail(f"the inner pytest run ended early:\n{proc.stdout.read().decode(errors='replace')}")
    server, kernel = map(int, pidfile.read_text().split())
    assert alive(server) and alive(kernel)
    return proc, server, kernel


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; prctl is Linux-only")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_stopped_run_leaves_no_server_and_no_kernel(tmp_path, sig):
    proc, server, kernel = start_run(tmp_path)
    try:
        proc.send_signal(sig)
        wait_for(lambda: proc.poll() is not None, "pytest exited after the signal")
        out = proc.stdout.read().decode(errors="replace")
        assert not alive(server), f"server {server} outlived the run:\n{out}"
        assert not alive(kernel), f"kernel {kernel} outlived the run:\n{out}"
    finally:
        for p in (server, kernel):
            if alive(p):
                os.kill(p, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; prctl is Linux-only")
def test_a_killed_run_takes_its_server_with_it(tmp_path):
    """SIGKILL runs no handler: the server dies by PR_SET_PDEATHSIG. (A real ipykernel kernel then
    exits by itself when its parent changes; this stand-in kernel does not, so it is only cleaned up.)"""
    proc, server, kernel = start_run(tmp_path)
    try:
        proc.kill()
        proc.wait()
        wait_for(lambda: not alive(server), f"server {server} died with pytest")
    finally:
        for p in (server, kernel):
            if alive(p):
                os.kill(p, signal.SIGKILL)
