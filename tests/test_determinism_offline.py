"""Determinism, offline use and the data cache (issue 20 §5: each notebook is executed by the suite's
stages, not again here).

(a) Offline, from an empty cache, and deterministic: ``make nbval`` (``scripts/nbval_offline.py``) runs
    strict nbval over every notebook in a copy of the repository without ``data/mnist1d_seed*.npz``,
    inside ``unshare -n``: an execution independent of the one that stored the outputs (nbclient, in
    ``make notebooks``) must give the same checked outputs, offline, rebuilding MNIST-1D; ``make
    portability`` executes every notebook twice more, on two other CPU code paths, against the same
    stored outputs. Here, cheaply: the copy those stages use really imports its own ``lecture_utils``
    with an empty cache, ``make test`` runs both stages, and the stored outputs hold no error and no
    stderr in a checked cell (nbval would otherwise expect them again).
(c) Data cache: a truncated, altered or foreign ``mnist1d_seed42.npz`` is detected by its
    checksum (or as unreadable), rebuilt with a warning, and the rebuilt data match the checksum.

"Checked outputs" are what strict nbval compares: text/plain, text/html, text/latex,
image/svg+xml, stream text by stream name, error name and value; not PNG images, widget views,
metadata, execution counts, cells marked NBVAL_IGNORE_OUTPUT or NBVAL_SKIP. Every stored figure
also has a text/plain form (``<Figure size …>``), so a figure that is not drawn fails nbval too.
"""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
from course_files import NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent


def _stage_script(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ----------------------------------------------------------------------------- (a) offline, determinism
def test_offline_copy_imports_its_own_lecture_utils_with_an_empty_cache(tmp_path):
    stage = _stage_script("nbval_offline")
    repo, env = stage.make_copy(tmp_path)
    assert (repo / "notebooks").is_dir() and (repo / "lecture_utils").is_dir()
    assert list((ROOT / "data").glob("mnist1d_seed*.npz")), "the checkout should hold the MNIST-1D cache"
    assert not list((repo / "data").glob("mnist1d_seed*.npz")), "the copy must start with an empty cache"
    assert env["LECTURE_UTILS_CACHE"].startswith(str(tmp_path))
    assert stage.check_copy(repo, env) is None
    (repo / "data" / "mnist1d_seed42.npz").write_bytes(b"")  # the check sees a cache that is not empty
    assert "empty" in stage.check_copy(repo, env)


def test_make_test_runs_the_offline_nbval_and_the_portability_stages():
    make = (ROOT / "Makefile").read_text()
    line = re.search(r"^test:.*\n\t@scripts/test_stages\.sh \"\$\(MAKE\)\" (.*)$", make, re.M)
    stages = line.group(1).replace("+", " ").split()   # a+b: two stages at the same time
    assert {"setup", "lint", "unit", "nbval", "portability", "browser"} <= set(stages), stages
    assert re.search(r"^nbval:.*\n\t.*scripts/nbval_offline\.py", make, re.M)
    assert re.search(r"^portability:.*\n\t.*scripts/portability\.py", make, re.M)
    paths = _stage_script("portability").PATHS
    assert paths == {"avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
                     "sse4_2": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"}}


def _ignored(cell):
    tags = cell.get("metadata", {}).get("tags", [])
    return (re.search(r"^\s*#\s*NBVAL_(IGNORE_OUTPUT|SKIP)", _text(cell.get("source", "")), re.M) is not None
            or "nbval-ignore-output" in tags or "nbval-skip" in tags)


def _text(v):
    return "".join(v) if isinstance(v, list) else str(v)


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_outputs_hold_no_error_and_no_stderr_in_a_checked_cell(nb_path):
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    bad = [(i, o.get("ename") or _text(o.get("text", ""))[:200]) for i, c in enumerate(nb["cells"])
           if c["cell_type"] == "code" and not _ignored(c) for o in c.get("outputs", [])
           if o.get("output_type") == "error"
           or (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    assert not bad, f"{nb_path.name}: error or stderr output in a checked cell: {bad[:3]}"
    unexecuted = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and c["source"]
                  and c.get("execution_count") is None and not _ignored(c)]
    assert not unexecuted, (f"{nb_path.name}: code cells {unexecuted} have no stored execution (nbval would "
                            "not compare them): make notebooks NB=...")


def _png_width(b64):
    import base64
    import struct

    head = base64.b64decode("".join(b64)[:64])
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">I", head[16:20])[0]


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_stored_pictures_are_sharp_and_every_widget_is_a_lecture_panel(nb_path):
    """What the browser test no longer sees notebook by notebook (it runs the panels only): every stored
    picture has 2× the pixels of the width it is shown at (crisp on a projector), and every stored widget
    view that holds a slider is a lecture panel (``[title] caption``), whose sliders the browser test
    moves (a progress bar may stand alone). A notebook with widget views stores their state (``make
    notebooks``), one without (the scorecard) needs none."""
    nb = json.loads(nb_path.read_text(encoding="utf-8"))
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    models = state.get("state", {})

    def has_slider(model_id, seen=()):
        m = models.get(model_id, {})
        if "Slider" in m.get("model_name", ""):
            return True
        kids = re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(m.get("state", {}).get("children", [])))
        return any(k not in seen and has_slider(k, seen + (model_id,)) for k in kids)

    blurry, strays, unstored = [], [], []
    for i, c in enumerate(nb["cells"]):
        for o in c.get("outputs", []) if c["cell_type"] == "code" else []:
            data = o.get("data", {})
            if "image/png" in data:
                shown = o.get("metadata", {}).get("image/png", {}).get("width")
                px = _png_width(data["image/png"])
                if shown is None or px < 1.9 * shown:
                    blurry.append(f"cell {i}: {px} px shown {shown} px wide")
            view = data.get("application/vnd.jupyter.widget-view+json")
            panel = _text(data.get("text/plain", "")).startswith("[")
            if view and view["model_id"] not in models:
                unstored.append(f"cell {i}: {_text(data.get('text/plain', ''))[:80]}")
            if view and not panel and has_slider(view["model_id"]):
                strays.append(f"cell {i}: {_text(data.get('text/plain', ''))[:80]}")
    assert not blurry, f"{nb_path.name}: pictures with fewer than 2 pixels per shown pixel: {blurry}"
    assert not unstored, (f"{nb_path.name}: widget views without stored widget state (make notebooks "
                          f"stores it): {unstored}")
    assert not strays, (f"{nb_path.name}: sliders outside a lecture panel (use lecture_utils.widgets."
                        f"Panel, whose figure the browser test checks): {strays}")


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
