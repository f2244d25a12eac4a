"""`make lab` is safe to run on a laptop in a lecture hall: the server listens on 127.0.0.1 only and
answers nothing without its token.

The test takes the exact command line of the Makefile's ``lab`` target (``make -n lab PORT=<free>``),
runs it with isolated Jupyter folders, reads the token the server generated from its runtime file,
and probes the server with and without it.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
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


def _lab_command(port):
    if shutil.which("make") is None:
        pytest.skip("make is not installed: cannot read the Makefile's lab command")
    out = subprocess.run(["make", "-s", "-n", "lab", f"PORT={port}"], cwd=ROOT, capture_output=True,
                         text=True,
                         check=True).stdout
    joined = out.replace("\\\n", " ")
    lines = [ln.strip() for ln in joined.splitlines() if "jupyter lab" in ln or "jupyter-lab" in ln]
    assert len(lines) == 1, f"expected one jupyter lab command in `make -n lab`, got:\n{out}"
    # make lab first makes the learner's copy it serves (scripts/student_copy.py ensure): do the same
    assert "student_copy.py ensure" in out, f"make lab must serve the learner's own copy, got:\n{out}"
    copy = ROOT / "scripts" / "student_copy.py"
    subprocess.run([sys.executable, str(copy), "ensure"], cwd=ROOT, check=True)
    return lines[0]


def _listening_addresses(port):
    """Local addresses in LISTEN state on ``port`` (from /proc/net/tcp{,6}; Linux only)."""
    addrs = []
    for name, fam in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        try:
            rows = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            parts = row.split()
            local, state = parts[1], parts[3]
            hexaddr, hexport = local.split(":")
            if state != "0A" or int(hexport, 16) != port:
                continue
            raw = bytes.fromhex(hexaddr)
            if fam == 4:
                addrs.append(socket.inet_ntop(socket.AF_INET, raw[::-1]))
            else:
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
                addrs.append(socket.inet_ntop(socket.AF_INET6, words))
    return addrs


def _non_loopback_ip():
    """An address of this machine other than loopback (None if it has none)."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # UDP: sends nothing, only picks a route
            ip = s.getsockname()[0]
            return None if ip.startswith("127.") else ip
    except OSError:
        return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _get(url, headers=None, method="GET"):
    req = urllib.request.Request(url, headers=headers or {}, method=method,
                                 data=b"{}" if method == "POST" else None)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port = _free_port()
    cmd = _lab_command(port)
    base = tmp_path_factory.mktemp("lab_security")
    env = dict(os.environ)
    for k in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTERLAB_SETTINGS_DIR",
              "JUPYTERLAB_WORKSPACES_DIR", "IPYTHONDIR"):
        (base / k).mkdir()
        env[k] = str(base / k)
    env.pop("JUPYTER_TOKEN", None)
    env.pop("MPLBACKEND", None)
    log = open(base / "lab.log", "wb")
    proc = subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        token = None
        t0 = time.monotonic()
        while time.monotonic() - t0 < 90:
            if proc.poll() is not None:
                pytest.fail(f"`{cmd}` exited with "
                            f"{proc.returncode}:\n{(base / 'lab.log').read_text()[-3000:]}")
            for f in glob.glob(str(base / "JUPYTER_RUNTIME_DIR" / "jpserver-*.json")):
                try:
                    info = json.loads(Path(f).read_text())
                except (OSError, ValueError):
                    continue
                if info.get("port") == port:
                    token = info.get("token")
            if token is not None:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=1):
                        break
                except OSError:
                    pass
            time.sleep(0.25)
        else:
            pytest.fail(f"`{cmd}` did not come up in 90 s:\n{(base / 'lab.log').read_text()[-3000:]}")
        yield {"port": port, "token": token, "cmd": cmd, "url": f"http://127.0.0.1:{port}"}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        log.close()


def test_make_lab_binds_loopback_only(lab):
    assert "--ip=127.0.0.1" in lab["cmd"]
    addrs = _listening_addresses(lab["port"])
    if not addrs and not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to read listening sockets from (not Linux)")
    assert addrs, f"nothing listens on port {lab['port']}"
    assert set(addrs) <= {"127.0.0.1"}, f"make lab listens on {addrs}; only 127.0.0.1 is allowed"
    ip = _non_loopback_ip()
    if ip is not None:
        with pytest.raises(OSError):
            socket.create_connection((ip, lab["port"]), timeout=2).close()


def test_make_lab_has_a_token(lab):
    assert lab["token"] and len(lab["token"]) >= 32, "make lab must run with a (generated) token"


@pytest.mark.parametrize("path", ["/api/contents", "/api/kernels", "/api/sessions", "/api/kernelspecs"])
def test_api_refuses_requests_without_token(lab, path):
    status, _, _ = _get(lab["url"] + path)
    assert status == 403, f"GET {path} without token answered {status}"
    status, _, _ = _get(lab["url"] + path, headers={"Authorization": "token wrong" + lab["token"][:8]})
    assert status == 403, f"GET {path} with a wrong token answered {status}"
    status, _, body = _get(lab["url"] + path, headers={"Authorization": f"token {lab['token']}"})
    assert status == 200, f"GET {path} with the token answered {status}"
    json.loads(body)


def test_cannot_start_a_kernel_without_token(lab):
    status, _, _ = _get(lab["url"] + "/api/kernels", method="POST",
                        headers={"Content-Type": "application/json"})
    assert status == 403
    status, _, body = _get(lab["url"] + "/api/kernels", headers={"Authorization": f"token {lab['token']}"})
    assert status == 200 and json.loads(body) == [], "a kernel was started by an unauthenticated request"


def test_lab_page_redirects_to_login_without_token(lab):
    status, headers, _ = _get(lab["url"] + "/lab")
    assert status in (302, 303), f"/lab without token answered {status}"
    assert "/login" in headers.get("Location", ""), headers.get("Location")
    status, _, _ = _get(lab["url"] + f"/lab?token={lab['token']}")
    assert status == 200


def test_cross_origin_requests_need_the_token(lab):
    """A web page elsewhere cannot use the learner's server: without the token it gets 403 and
    no CORS grant. (With the token in the Authorization header jupyter_server does answer any
    origin: whoever holds the token already owns the server.)"""
    for method in ("GET", "POST"):
        status, headers, _ = _get(lab["url"] + "/api/kernels", method=method,
                                  headers={"Origin": "http://evil.example",
                                           "Content-Type": "application/json"})
        # 404: "Blocking Cross Origin API request"
        assert status in (403, 404), f"cross-origin {method} without token answered {status}"
        assert headers.get("Access-Control-Allow-Origin") in (None, ""), headers
