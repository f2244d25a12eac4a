"""Determinism, offline use and the data cache.

(b) Offline, from an empty cache: a copy of the repository (the files a fresh clone has, without
    ``data/mnist1d_seed*.npz``) runs strict ``pytest --nbval`` over ``notebooks/`` inside
    ``unshare -n`` (a network namespace with loopback only; needs root or user namespaces,
    skipped with the reason otherwise). The kernel imports the copy's ``lecture_utils`` (the
    editable install's finder is switched off for it), so MNIST-1D is rebuilt into the copy's
    empty ``data/`` — offline — and every checked output must still match the stored one.
(a) Determinism: each notebook is executed a second time (nbclient, same copy, now with a warm
    cache) and its checked outputs must be identical to the first run. When (b) ran, its pass
    already proved run 1 == stored outputs, so run 2 is compared with the stored outputs; without
    (b) the notebook is executed twice here. Every notebook is run (two executions in all, ~2× the
    suite's headless time; the notebooks' budget is 20 s each).
(c) Data cache: a truncated, altered or foreign ``mnist1d_seed42.npz`` is detected by its
    checksum (or as unreadable), rebuilt with a warning, and the rebuilt data match the checksum.

"Checked outputs" are what strict nbval compares: text/plain, text/html, text/latex,
image/svg+xml, stream text by stream name, error name and value; not PNG images, widget views,
metadata, execution counts, cells marked NBVAL_IGNORE_OUTPUT or NBVAL_SKIP.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from course_files import NOTEBOOKS as COURSE_NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = COURSE_NOTEBOOKS   # by name: a missing notebook fails, never shrinks the loop
CHECKED_MIMES = ("text/plain", "text/html", "text/latex", "image/svg+xml")
FIRST_RUN = {}  # notebook name -> True when the offline nbval run passed for it

RUNNER = textwrap.dedent("""
    import re, sys, nbformat
    from nbclient import NotebookClient
    src, dst, cwd = sys.argv[1:4]
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:  # nbval does not execute NBVAL_SKIP cells
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and (re.search(r"^\\s*#\\s*NBVAL_SKIP", cell.source, re.M)
                                         or "nbval-skip" in tags):
            cell.source = ""
    NotebookClient(nb, timeout=300, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": cwd}}).execute()
    nbformat.write(nb, dst)
""")

SITECUSTOMIZE = textwrap.dedent('''
    # Written by tests/test_determinism_offline.py: let PYTHONPATH's copy of lecture_utils win over the
    # editable install of the real checkout (whose finder sits at the front of sys.meta_path).
    import sys
    sys.meta_path[:] = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "")
                        and "__editable__" not in getattr(type(f), "__module__", "")]
''')


# ----------------------------------------------------------------------------- the copy
def _repo_files():
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT,
                             capture_output=True, check=True).stdout.decode()
        return [f for f in out.split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        skip = {".git", ".venv", "__pycache__", ".ipynb_checkpoints", ".hypothesis", "artifacts"}
        return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                if p.is_file() and not (set(p.relative_to(ROOT).parts) & skip)]


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """A copy of the repository as a fresh clone has it: no cached MNIST-1D, an isolated env."""
    base = tmp_path_factory.mktemp("clone")
    repo = base / "repo"
    for rel in _repo_files():
        if re.match(r"data/mnist1d_seed\d+\.npz$", rel) or rel.startswith((".venv/",
                                                                           "tests/browser/artifacts/")):
            continue
        src = ROOT / rel
        if not src.is_file():
            continue  # deleted in the working tree
        dst = repo / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    shadow = base / "shadow"
    shadow.mkdir()
    (shadow / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(shadow), str(repo)])
    env["IPYTHONDIR"] = str(base / "ipython")
    env["JUPYTER_RUNTIME_DIR"] = str(base / "runtime")
    env["MPLCONFIGDIR"] = str(base / "mpl")
    # the per-user cache folder (lecture_utils.data.user_cache_dir) must not hold a cache either: an empty one
    env["LECTURE_UTILS_CACHE"] = str(base / "user_cache")
    env.pop("JUPYTER_PATH", None)
    # tests/conftest.py sets Agg for the unit tests; kernels need the inline backend
    env.pop("MPLBACKEND", None)
    probe = subprocess.run([sys.executable, "-c", "import lecture_utils.data as d; print(d.DATA_DIR)"],
                           env=env,
                           cwd=repo, capture_output=True, text=True)
    assert probe.returncode == 0, probe.stderr
    assert Path(probe.stdout.strip()).resolve() == (repo / "data").resolve(), (
        f"the copy's kernel would import lecture_utils from {probe.stdout.strip()}, not from the copy")
    return {"repo": repo, "env": env, "base": base}


def _uses_mnist(nb_paths):
    return any("load_mnist1d" in p.read_text() or "train_classifier" in p.read_text() for p in nb_paths)


def _unshare_ok():
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    try:
        r = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unshare -n failed: {exc}"
    if r.returncode != 0:
        return f"unshare -n is not permitted here (needs root or user namespaces): {r.stderr.strip()[:200]}"
    return None


# ----------------------------------------------------------------------------- (b) offline
def test_notebooks_pass_strict_nbval_offline_from_empty_cache(clone):
    why = _unshare_ok()
    if why:
        pytest.skip(f"offline check skipped: {why}")
    repo, env = clone["repo"], clone["env"]
    assert not list((repo / "data").glob("mnist1d_seed*.npz")), "the copy must start with an empty data cache"
    junit = clone["base"] / "nbval.xml"
    lo_up = "ip link set lo up 2>/dev/null || true; " if shutil.which("ip") else ""
    # inside the namespace: only a loopback device (the kernel talks to pytest over 127.0.0.1)
    probe = ("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n"
             "    print('ONLINE')\nexcept OSError:\n    print('OFFLINE')")
    cmd = (f'{lo_up}"$0" -c "$1" && exec "$0" -m pytest --nbval --nbval-current-env --nbval-cell-timeout=300 '
           f'-p no:cacheprovider -q --color=no --junitxml={junit} notebooks')
    r = subprocess.run(["unshare", "-n", "sh", "-c", cmd, sys.executable, probe], cwd=repo, env=env,
                       capture_output=True, text=True, timeout=1200)
    out = r.stdout + r.stderr
    assert out.lstrip().startswith("OFFLINE"), f"the network namespace is not offline:\n{out[:500]}"
    for case in ET.parse(junit).getroot().iter("testcase") if junit.exists() else []:
        failed = case.find("failure") is not None or case.find("error") is not None
        where = case.get("classname") or ""  # e.g. "notebooks.00_overview.ipynb"
        for nb in NOTEBOOKS:
            if where.endswith(nb.name):
                FIRST_RUN[nb.name] = FIRST_RUN.get(nb.name, True) and not failed
    assert r.returncode == 0, (f"strict nbval failed offline from an empty cache (rc "
                               f"{r.returncode}):\n{out[-6000:]}")
    if _uses_mnist(NOTEBOOKS):
        assert (repo / "data" / "mnist1d_seed42.npz").exists(), ("MNIST-1D was not rebuilt into the empty "
                                                                 "cache")


# ----------------------------------------------------------------------------- (a) determinism
def _ignored(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    return (re.search(r"^\s*#\s*NBVAL_(IGNORE_OUTPUT|SKIP)", _text(cell.get("source", "")), re.M) is not None
            or "nbval-ignore-output" in tags or "nbval-skip" in tags)


def _text(v):
    return "".join(v) if isinstance(v, list) else str(v)


def checked_outputs(nb):
    """{cell index: [(kind, key, text), ...]} of what strict nbval compares."""
    res = {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code" or _ignored(cell):
            continue
        items = []
        for o in cell.get("outputs", []):
            t = o.get("output_type")
            if t == "stream":
                if items and items[-1][0] == "stream" and items[-1][1] == o.get("name"):
                    items[-1] = ("stream", o["name"], items[-1][2] + _text(o.get("text", "")))
                else:
                    items.append(("stream", o.get("name"), _text(o.get("text", ""))))
            elif t in ("execute_result", "display_data"):
                for mime in CHECKED_MIMES:
                    if mime in o.get("data", {}):
                        items.append((t if t == "display_data" else "result", mime, _text(o["data"][mime])))
            elif t == "error":
                items.append(("error", o.get("ename"), o.get("evalue")))
        res[i] = items
    return res


def _execute(clone, nb_path, tag):
    repo = clone["repo"]
    src = repo / "notebooks" / nb_path.name
    dst = clone["base"] / f"{nb_path.stem}.{tag}.ipynb"
    r = subprocess.run([sys.executable, "-c", RUNNER, str(src), str(dst), str(repo / "notebooks")], cwd=repo,
                       env=clone["env"], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"{nb_path.name}: execution failed:\n{r.stderr[-4000:]}"
    return json.loads(dst.read_text())


def _diff(a, b, label_a, label_b):
    lines = []
    for i in sorted(set(a) | set(b)):
        if a.get(i) != b.get(i):
            lines.append(f"cell {i}:\n  {label_a}: {str(a.get(i))[:600]}\n  {label_b}: {str(b.get(i))[:600]}")
    return "\n".join(lines)


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_second_execution_gives_identical_checked_outputs(clone, nb_path):
    stored = checked_outputs(json.loads((clone["repo"] / "notebooks" / nb_path.name).read_text()))
    if FIRST_RUN.get(nb_path.name):
        first, label = stored, "run 1 (offline nbval: = stored outputs)"
    else:
        first, label = checked_outputs(_execute(clone, nb_path, "run1")), "run 1"
    run2 = _execute(clone, nb_path, "run2")
    second = checked_outputs(run2)
    diff = _diff(first, second, label, "run 2")
    assert not diff, f"{nb_path.name}: checked outputs differ between two executions:\n{diff}"
    errors = [(i, o) for i, items in second.items() for o in items if o[0] == "error" or
              (o[0] == "stream" and o[1] == "stderr")]
    assert not errors, f"{nb_path.name}: error or stderr output in a checked cell: {errors[:3]}"
    # the run really drew its figures (not compared by nbval): as many PNGs per cell as stored
    stored_nb = json.loads((clone["repo"] / "notebooks" / nb_path.name).read_text())
    pngs = [_png_counts(nb) for nb in (stored_nb, run2)]
    assert pngs[0] == pngs[1], f"{nb_path.name}: figures per cell differ (stored, run 2): {pngs}"


def _png_counts(nb):
    return {i: sum("image/png" in o.get("data", {}) for o in c.get("outputs", []))
            for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and not _ignored(c)}


# ----------------------------------------------------------------------------- (c) data cache
@pytest.fixture(scope="module")
def good_cache(tmp_path_factory):
    """A valid cache file (copied from data/ when present, else built once)."""
    from lecture_utils.data import DATA_DIR, load_mnist1d

    d = tmp_path_factory.mktemp("good_cache")
    src = DATA_DIR / "mnist1d_seed42.npz"
    if src.exists():
        shutil.copy2(src, d / src.name)
    else:
        load_mnist1d(cache_dir=d)
    return d / "mnist1d_seed42.npz"


def _expected_digest():
    from lecture_utils.data import CHECKSUMS_FILE

    return json.loads(CHECKSUMS_FILE.read_text())["mnist1d_seed42"]


def _load_quietly(cache_dir):
    from lecture_utils.data import load_mnist1d

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a good cache loads without any warning
        return load_mnist1d(cache_dir=cache_dir)


_GENERATED = {}


@pytest.fixture
def generate_once(monkeypatch):
    """The three rebuild tests need the generator to run, not to run three times (~4 s each quiet,
    ~50 s on a loaded machine): the first rebuild runs the real ``mnist1d`` generator (its result is
    checked against the checksum), the others get a copy of that result. Detection, warning, atomic
    rewrite and the checksum check are exercised by every test."""
    from lecture_utils import data

    real = data._generate_mnist1d

    def generate(seed):
        if seed not in _GENERATED:
            _GENERATED[seed] = real(seed)
        return tuple(a.copy() for a in _GENERATED[seed])

    monkeypatch.setattr(data, "_generate_mnist1d", generate)


def _check_rebuilt(cache_dir, match):
    from lecture_utils.data import array_checksum, load_mnist1d

    with pytest.warns(UserWarning, match=match):
        ds = load_mnist1d(cache_dir=cache_dir)
    assert array_checksum(ds.x_train, ds.y_train, ds.x_test, ds.y_test) == _expected_digest()
    again = _load_quietly(cache_dir)  # the rebuilt file is good: no warning next time
    assert np.array_equal(again.x_train, ds.x_train)
    assert not list(Path(cache_dir).glob("*.tmp.npz")), "a temporary file was left behind"
    return ds


def test_good_cache_loads_without_warning(good_cache, tmp_path):
    from lecture_utils.data import array_checksum

    shutil.copy2(good_cache, tmp_path / good_cache.name)
    ds = _load_quietly(tmp_path)
    assert ds.x_train.shape == (4000, 40) and ds.x_test.shape == (1000, 40)
    assert array_checksum(ds.x_train, ds.y_train, ds.x_test, ds.y_test) == _expected_digest()


def test_truncated_cache_is_rebuilt(good_cache, tmp_path, generate_once):
    raw = good_cache.read_bytes()
    (tmp_path / good_cache.name).write_bytes(raw[: len(raw) // 2])
    _check_rebuilt(tmp_path, "unreadable|checksum")


def test_altered_cache_fails_checksum_and_is_rebuilt(good_cache, tmp_path, generate_once):
    with np.load(good_cache) as f:
        arrays = {k: f[k].copy() for k in f.files}
    arrays["x_train"][0, 0] += 1.0  # one number changed: still a perfectly readable npz
    np.savez_compressed(tmp_path / good_cache.name, **arrays)
    ds = _check_rebuilt(tmp_path, "checksum")
    assert ds.x_train[0, 0] == arrays["x_train"][0, 0] - 1.0


def test_foreign_file_is_rebuilt(tmp_path, generate_once):
    (tmp_path / "mnist1d_seed42.npz").write_text("not an npz at all")
    _check_rebuilt(tmp_path, "unreadable|checksum")
