"""`make app` (Voila) is safe to leave running in a lecture: 127.0.0.1 only, a generated token, a port
other than `make lab`'s, and kernels of closed pages are shut down when idle (issue 12 §4).

The test takes the exact command line of the Makefile's ``app`` target (``make -n app``), swaps the
notebook for a one-cell one (the flags are what is tested; rendering notebook 01 takes a while),
starts it on a free port with a short cull time, and probes it. Waits are on events (a log line, a
socket), with generous caps.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _make_n(target, *assignments):
    if shutil.which("make") is None:
        pytest.skip("make is not installed: cannot read the Makefile")
    out = subprocess.run(["make", "-s", "-n", target, *assignments], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout
    return out.replace("\\\n", " ")


def _app_command(*assignments):
    lines = [ln.strip() for ln in _make_n("app", *assignments).splitlines() if "/voila " in ln]
    assert len(lines) == 1, "expected one voila command in `make -n app`"
    return lines[0]


def _flag(cmd, name):
    m = re.search(rf"{re.escape(name)}[= ](\S+)", cmd)
    return m.group(1) if m else None


def test_app_command_has_token_loopback_culling_and_its_own_port():
    cmd = _app_command()
    lab = [ln for ln in _make_n("lab").splitlines() if "jupyter lab" in ln][0]
    assert _flag(cmd, "--Voila.ip") == "127.0.0.1"
    assert _flag(cmd, "--Voila.auto_token") == "True", "make app must generate a token, like make lab"
    assert "--Voila.token=''" not in cmd and '--Voila.token=""' not in cmd
    app_port, lab_port = int(_flag(cmd, "--port")), int(_flag(lab, "--port"))
    assert app_port != lab_port, f"make app and make lab both use port {app_port}"
    assert _flag(cmd, "--ServerApp.port_retries") == "0"
    idle = float(_flag(cmd, "--MappingKernelManager.cull_idle_timeout"))
    every = float(_flag(cmd, "--MappingKernelManager.cull_interval"))
    assert 0 < idle <= 3600 and 0 < every <= idle, (idle, every)


def _get(url):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=120) as r:
            return r.status, dict(r.headers), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), ""


def _wait_for(predicate, what, proc, log, cap_s=180):
    t0 = time.monotonic()
    while time.monotonic() - t0 < cap_s:
        value = predicate()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"voila exited with {proc.returncode} before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    pytest.fail(f"no {what} within {cap_s} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    base = tmp_path_factory.mktemp("app_security")
    nb = base / "tiny.ipynb"
    nb.write_text(json.dumps({"cells": [{"cell_type": "code", "execution_count": None, "id": "c1",
                                         "metadata": {},
                                         "outputs": [], "source": "print('hello from', 6 * 7)"}],
                              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                          "language": "python"}},
                              "nbformat": 4, "nbformat_minor": 5}))
    port = _free_port()
    cmd = _app_command(f"APP_PORT={port}", "APP_CULL_S=2", "APP_CULL_EVERY_S=1")
    served = re.search(r"/voila\s+(\S+)", cmd).group(1)  # make app serves notebooks/: serve base/ instead
    cmd = re.sub(r"(/voila\s+)" + re.escape(served), lambda m: m.group(1) + str(base), cmd, count=1)
    env = dict(os.environ)
    for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (base / k).mkdir()
        env[k] = str(base / k)
    env.pop("JUPYTER_TOKEN", None)
    env.pop("MPLBACKEND", None)
    log = base / "voila.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        token = _wait_for(lambda: (re.findall(r"\?token=([0-9a-f]+)", log.read_text()) or [None])[0],
                          "URL with a token", proc, log)
        yield {"url": f"http://127.0.0.1:{port}", "token": token, "log": log, "proc": proc}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def test_app_answers_nothing_without_its_token(app):
    assert len(app["token"]) >= 32
    for url in (app["url"] + "/", app["url"] + "/?token=wrong" + app["token"][:6]):
        status, headers, body = _get(url)
        assert status in (302, 403), f"{url} answered {status}"
        assert "hello from" not in body
        if status == 302:
            assert "/login" in headers.get("Location", "")


def test_app_renders_with_the_token_and_culls_the_idle_kernel(app):
    status, _, body = _get(app["url"] + f"/voila/render/tiny.ipynb?token={app['token']}")
    assert status == 200
    assert "hello from 42" in body
    # The page's kernel is left idle (nothing connects to it, as when the tab is closed): it is culled.
    _wait_for(lambda: re.search(r"Culling '\w+' kernel", app["log"].read_text()),
              "culling of the idle kernel",
              app["proc"], app["log"])
