"""A read-only install: caches go to a per-user folder with the same checksum rules, and two kernels
building the same cache at once never leave a broken file (issue 13 §3)."""
import json
import os
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from lecture_utils import data, sweeps

ROOT = Path(__file__).resolve().parent.parent


def test_user_cache_dir_follows_env_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.delenv(data.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.user_cache_dir() == tmp_path / "home" / ".cache" / "lecture_utils"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.user_cache_dir() == tmp_path / "xdg" / "lecture_utils"
    monkeypatch.setenv(data.CACHE_ENV, str(tmp_path / "mine"))
    assert data.user_cache_dir() == tmp_path / "mine"


@pytest.fixture
def read_only_data(monkeypatch, tmp_path):
    """data/ replaced by a folder nobody may write (as root, where permission bits do not stop writes,
    the write probe is made to fail); the per-user cache is an empty folder named by the env var."""
    ro = tmp_path / "ro_data"
    ro.mkdir()
    for f in (data.DATA_DIR).glob("sweep_*.json"):
        (ro / f.name).write_bytes(f.read_bytes())
    ro.chmod(0o555)
    cache = tmp_path / "user_cache"
    monkeypatch.setattr(data, "DATA_DIR", ro)
    monkeypatch.setattr(sweeps, "DATA_DIR", ro)
    monkeypatch.setenv(data.CACHE_ENV, str(cache))
    if os.geteuid() == 0:
        real = data._writable
        monkeypatch.setattr(data, "_writable", lambda folder: False if Path(folder) == ro else real(folder))
    assert not data._writable(ro)
    yield ro, cache
    ro.chmod(0o755)


def test_read_only_install_builds_mnist1d_in_the_user_cache(read_only_data):
    ro, cache = read_only_data
    assert data.writable_cache_dir() == cache
    digest = json.loads(data.CHECKSUMS_FILE.read_text())["mnist1d_seed42"]
    saved = ROOT / "data" / "mnist1d_seed42.npz"
    good = data.load_mnist1d(cache_dir=ROOT / "data") if saved.exists() else None
    cached = cache / "mnist1d_seed42.npz"
    if good is not None:  # a per-user file that passes the checksum is used quietly
        data.atomic_write(cached, lambda f: np.savez_compressed(f, x_train=good.x_train, y_train=good.y_train,
                                                                 x_test=good.x_test, y_test=good.y_test + 1))
        # same checksum rules there: a file with other content is rebuilt, with a warning
        with pytest.warns(UserWarning, match="fails its sha256 checksum"):
            ds = data.load_mnist1d()
    else:
        ds = data.load_mnist1d()
    assert not (ro / "mnist1d_seed42.npz").exists()
    assert cached.exists()
    assert data.array_checksum(ds.x_train, ds.y_train, ds.x_test, ds.y_test) == digest
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the rebuilt per-user file passes the checksum: no warning
        again = data.load_mnist1d()
    assert np.array_equal(again.x_train, ds.x_train)
    assert sorted(p.name for p in cache.iterdir()) == ["mnist1d_seed42.npz"], "a temporary file was left"


def test_read_only_install_reads_shipped_sweeps_and_writes_new_ones_per_user(read_only_data, monkeypatch):
    ro, cache = read_only_data
    shipped = sweeps.load("batch_accuracy")  # read from the read-only data/
    assert shipped["params"] == json.loads(json.dumps(sweeps.module("batch_accuracy").PARAMS))
    mod = sweeps.module("timing")
    monkeypatch.setattr(mod, "run", lambda params, progress=True: {"rebuilt": True})
    monkeypatch.setattr(mod, "validate", lambda results: results)  # the stand-in results have no schema
    sweeps.compute("timing", progress=False)
    assert json.loads((cache / "sweep_timing.json").read_text())["results"] == {"rebuilt": True}
    assert json.loads((ro / "sweep_timing.json").read_text())["results"] != {"rebuilt": True}
    # data/ comes first while its parameters match; the per-user file is used when data/ has none
    assert sweeps.load("timing")["results"] != {"rebuilt": True}
    ro.chmod(0o755)
    (ro / "sweep_timing.json").unlink()
    assert sweeps.load("timing")["results"] == {"rebuilt": True}


# ----------------------------------------------------------------------------- two kernels at once
_BUILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    go = Path(sys.argv[-2])
    Path(sys.argv[-1]).touch()                 # ready
    while not go.exists():                     # start together (an event, not a clock)
        time.sleep(0.005)
    from lecture_utils.data import load_mnist1d, array_checksum
    ds = load_mnist1d(cache_dir=sys.argv[1])
    print(array_checksum(ds.x_train, ds.y_train, ds.x_test, ds.y_test))
""")


def _start_together(script, args_per_process, tmp_path):
    go = tmp_path / "go"
    procs, ready = [], []
    for i, args in enumerate(args_per_process):
        r = tmp_path / f"ready{i}"
        ready.append(r)
        procs.append(subprocess.Popen([sys.executable, "-c", script, *args, str(go), str(r)], cwd=ROOT,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        while not all(r.exists() for r in ready):
            if any(p.poll() is not None for p in procs):
                break
            time.sleep(0.01)
        go.touch()
        return [p.communicate(timeout=600) + (p.returncode,) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


def test_two_kernels_building_the_same_mnist1d_cache_at_once(tmp_path):
    cache = tmp_path / "cache"
    results = _start_together(_BUILD, [[str(cache)], [str(cache)]], tmp_path)
    digest = json.loads(data.CHECKSUMS_FILE.read_text())["mnist1d_seed42"]
    for out, err, rc in results:
        assert rc == 0, err
        assert out.strip() == digest
    assert sorted(p.name for p in cache.iterdir()) == ["mnist1d_seed42.npz"], "a temporary file was left"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = data.load_mnist1d(cache_dir=cache)
    assert data.array_checksum(ds.x_train, ds.y_train, ds.x_test, ds.y_test) == digest


_WRITE_OR_READ = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import numpy as np
    from lecture_utils.data import atomic_write
    role, path, n = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    go, ready = Path(sys.argv[4]), Path(sys.argv[5])
    ready.touch()
    while not go.exists():
        time.sleep(0.005)
    big = {"a": np.arange(2_000_000, dtype=np.float64)}
    seen = 0
    for i in range(n):
        if role == "write":
            atomic_write(path, lambda f: np.savez(f, **big))
        else:
            with np.load(path) as f:          # raises on a half-written file
                assert np.array_equal(f["a"], big["a"])
            seen += 1
    print(seen)
""")


def test_atomic_write_never_shows_a_reader_half_a_file(tmp_path):
    path = tmp_path / "c.npz"
    data.atomic_write(path, lambda f: np.savez(f, a=np.arange(2_000_000, dtype=np.float64)))
    results = _start_together(_WRITE_OR_READ, [["write", str(path), "15"], ["write", str(path), "15"],
                                                ["read", str(path), "40"]], tmp_path)
    for _out, err, rc in results:
        assert rc == 0, err
    assert int(results[2][0]) == 40
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("c.")) == ["c.npz"]


def test_atomic_write_leaves_nothing_when_writing_fails(tmp_path):
    path = tmp_path / "x.json"

    def boom(f):
        f.write(b"{")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        data.atomic_write(path, boom)
    assert list(tmp_path.iterdir()) == []
