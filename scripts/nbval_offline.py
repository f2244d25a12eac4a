"""``make nbval``: strict nbval over every notebook, offline, from an empty data cache (issue 20 §5).

One execution of each notebook proves three things at once:

* **stored outputs** — strict ``pytest --nbval``: every checked output (text/plain, text/html,
  text/latex, image/svg+xml, stream text by stream name, error name and value; a figure's
  ``<Figure size …>`` text too, so a missing figure fails) must equal the stored one;
* **determinism** — the stored outputs were made by ``make notebooks`` in another process (nbclient);
  this run is a second, independent execution on this machine's default CPU code path, and the
  portability stage executes each notebook twice more on two other code paths, against the same
  stored outputs;
* **offline, from an empty cache** — it runs in a copy of the repository as a fresh clone has it,
  *without* ``data/mnist1d_seed*.npz`` (and with an empty per-user cache), inside ``unshare -n``
  (a network namespace with loopback only). The kernels import the copy's ``lecture_utils`` (the
  editable install's finder is switched off for them), so MNIST-1D is rebuilt into the copy's empty
  ``data/`` — offline — and afterwards the rebuilt file must be there.

Where ``unshare -n`` is not permitted (no root, no user namespaces, macOS) the run still happens in
the copy from an empty cache, and the script says that offline use was not checked.
Notebooks run in parallel, one file per pytest-xdist worker (``--dist loadfile``).

Usage: python scripts/nbval_offline.py [-n WORKERS] [--keep] [extra pytest args]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from course_files import missing_notebooks  # noqa: E402

SITECUSTOMIZE = textwrap.dedent('''
    # Written by scripts/nbval_offline.py: let PYTHONPATH's copy of lecture_utils win over the
    # editable install of the real checkout (whose finder sits at the front of sys.meta_path).
    import sys
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")
                        and "__editable__" not in getattr(type(f), "__module__", "")]
''')
MNIST_CACHE = re.compile(r"data/mnist1d_seed\d+\.npz$")
OFFLINE_PROBE = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n"
                 "    print('ONLINE')\nexcept OSError:\n    print('OFFLINE')")


def repo_files(root=ROOT):
    """The files a fresh clone has (tracked) plus untracked files git does not ignore."""
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=root, capture_output=True, check=True).stdout.decode()
        return [f for f in out.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "__pycache__", ".ipynb_checkpoints", ".hypothesis", "artifacts",
                "node_modules"}
        return [str(p.relative_to(root)) for p in root.rglob("*")
                if p.is_file() and not (set(p.relative_to(root).parts) & skip)]


def make_copy(base, root=ROOT):
    """Copy the repository into ``base/repo`` without the MNIST-1D cache; return ``(repo, env)``:
    the environment in which a kernel imports the copy's ``lecture_utils`` with an empty cache."""
    base = Path(base)
    repo = base / "repo"
    for rel in repo_files(root):
        if MNIST_CACHE.match(rel) or rel.startswith((".venv/", "tests/browser/artifacts/", "node_modules/")):
            continue
        src = root / rel
        if not src.is_file():
            continue  # deleted in the working tree
        dst = repo / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    (repo / "data").mkdir(exist_ok=True)
    shadow = base / "shadow"
    shadow.mkdir(exist_ok=True)
    (shadow / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shadow), str(repo)])
    env["IPYTHONDIR"] = str(base / "ipython")
    env["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    env["MPLCONFIGDIR"] = str(base / "mpl")
    # the per-user cache folder (lecture_utils.data.user_cache_dir) must not hold a cache either
    env["LECTURE_UTILS_CACHE"] = str(base / "user_cache")
    env.pop("JUPYTER_PATH", None)
    env.pop("MPLBACKEND", None)  # kernels use the inline backend
    return repo, env


def check_copy(repo, env):
    """The copy's kernels import the copy's lecture_utils, whose data folder holds no MNIST-1D cache."""
    probe = subprocess.run([sys.executable, "-c", "import lecture_utils.data as d; print(d.DATA_DIR)"],
                           env=env, cwd=repo, capture_output=True, text=True)
    if probe.returncode != 0:
        return f"the copy's lecture_utils does not import:\n{probe.stderr[-2000:]}"
    where = Path(probe.stdout.strip()).resolve()
    if where != (repo / "data").resolve():
        return f"the copy's kernels would import lecture_utils from {where}, not from the copy"
    if list((repo / "data").glob("mnist1d_seed*.npz")):
        return "the copy's data/ holds an MNIST-1D cache: it must start empty"
    return None


def unshare_problem():
    """None when ``unshare -n`` works here, else why not."""
    if not sys.platform.startswith("linux"):
        return f"no network namespaces on {sys.platform}"
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    try:
        r = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -n failed: {exc}"
    if r.returncode != 0:
        return f"unshare -n is not permitted here (needs root or user namespaces): {r.stderr.strip()[:200]}"
    return None


def uses_mnist(repo):
    return any("load_mnist1d" in p.read_text(encoding="utf-8") or "train_classifier" in p.read_text(
        encoding="utf-8") for p in (repo / "notebooks").glob("*.ipynb"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", "--workers", default="2", help="pytest-xdist workers (default 2; 0 = none)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary copy")
    args, extra = ap.parse_known_args(argv)
    missing = missing_notebooks()
    if missing:
        print(f"nbval: course notebooks missing from notebooks/: {missing}")
        return 1
    base = Path(tempfile.mkdtemp(prefix="nbval-offline-"))
    try:
        repo, env = make_copy(base)
        bad = check_copy(repo, env)
        if bad:
            print(f"nbval: {bad}")
            return 1
        pytest = [sys.executable, "-m", "pytest", "-p", "tests.process_guard", "--nbval",
                  "--nbval-current-env", "--nbval-cell-timeout=300", "-p", "no:cacheprovider", "-q",
                  "--color=no"]
        if args.workers not in ("0", ""):
            pytest += ["-n", args.workers, "--dist", "loadfile"]
        pytest += extra + ["notebooks"]
        why = unshare_problem()
        if why:
            print(f"nbval: offline use NOT checked ({why}); strict nbval runs in a copy from an empty cache")
            cmd = pytest
        else:
            lo_up = "ip link set lo up 2>/dev/null || true; " if shutil.which("ip") else ""
            # inside the namespace only a loopback device (kernels talk to pytest over 127.0.0.1)
            inner = (f'{lo_up}[ "$("$0" -c "$1")" = OFFLINE ] || '
                     '{ echo "nbval: the network namespace is not offline"; exit 3; }; shift; exec "$@"')
            cmd = ["unshare", "-n", "sh", "-c", inner, sys.executable, OFFLINE_PROBE, *pytest]
            print("nbval: strict, offline (unshare -n: loopback only), from an empty data cache, in a copy "
                  f"of the repository at {repo}")
        t0 = time.monotonic()
        # a stop signal (make test's SIGTERM to the stage's process group, Ctrl+C) reaches pytest too, which
        # stops its kernels; this process waits for it, then removes the copy
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
        rc = subprocess.call(cmd, cwd=repo, env=env)
        print(f"nbval: pytest finished in {time.monotonic() - t0:.0f} s (exit {rc})")
        if rc == 0 and uses_mnist(repo) and not (repo / "data" / "mnist1d_seed42.npz").exists():
            print("nbval: MNIST-1D was not rebuilt into the copy's empty data cache")
            rc = 1
        return rc
    finally:
        if args.keep:
            print(f"nbval: the copy is kept at {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
