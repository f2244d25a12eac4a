"""Is this machine ready for class? (``make check-class``; the teacher's kit, ``teaching/README.md``)

Runs in well under 30 s on a 2-core laptop and prints one line per check, ✓ or × with what to do:

1. environment — Python 3.11/3.12 and the pinned versions of the packages the notebooks print
   (``constraints.txt``);
2. notebooks — every course notebook is present and is valid JSON with stored outputs;
3. data — MNIST-1D loads and matches its checksum (``data/checksums.json``; built locally if missing);
4. caches — every cached sweep under ``data/`` loads with the parameters and schema of the code
   (``lecture_utils.sweeps.load``); a missing or stale one names the command that rebuilds it;
5. panels — every panel of the course builds at its default values and draws a non-blank picture
   with a caption (``lecture_utils.panels.build_default``);
6. one slider round trip — a panel is moved to another value: the caption and the picture change, and
   moving it back restores both (the same plain update function a slider calls).

Exit status 0 when every check passed, 1 otherwise. ``--quick`` skips the per-panel check (5).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PINNED = ("numpy", "scipy", "torch", "matplotlib", "ipywidgets", "jupyterlab", "mnist1d")


def _pins():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[name.strip().lower()] = version.strip()
    return pins


def check_environment():
    from importlib import metadata

    problems = []
    if sys.version_info[:2] not in ((3, 11), (3, 12)):
        problems.append(f"Python {sys.version.split()[0]} (the course needs 3.11 or 3.12)")
    pins = _pins()
    for name in PINNED:
        try:
            have = metadata.version(name).split("+")[0]
        except metadata.PackageNotFoundError:
            problems.append(f"{name} is not installed")
            continue
        want = pins.get(name)
        if want and have != want:
            problems.append(f"{name} {have} (pinned {want})")
    if problems:
        raise RuntimeError("; ".join(problems) + " — run `make lab` (or `make setup`) in the repository")
    return f"Python {sys.version.split()[0]}, " + ", ".join(f"{n} {pins.get(n, '?')}" for n in PINNED[:3])


def check_notebooks():
    sys.path.insert(0, str(ROOT / "tests"))
    from course_files import NOTEBOOKS

    missing, empty = [], []
    for path in NOTEBOOKS:
        name = path.name
        if not path.is_file():
            missing.append(name)
            continue
        nb = json.loads(path.read_text())
        if not any(c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code"):
            empty.append(name)
    if missing or empty:
        raise RuntimeError(f"missing: {missing or 'none'}; without stored outputs: {empty or 'none'} — "
                           "restore them with `git checkout -- notebooks/`")
    return f"{len(NOTEBOOKS)} notebooks with stored outputs"


def check_data():
    from lecture_utils.data import load_mnist1d

    data = load_mnist1d()
    return f"MNIST-1D: {data.n_train} training and {len(data.y_test)} test examples, checksum ok"


def check_caches():
    from lecture_utils import sweeps

    bad = []
    for name in sweeps.names():
        try:
            sweeps.load(name)
        except (sweeps.CacheMismatch, FileNotFoundError, OSError, ValueError) as exc:
            bad.append(f"{name}: {str(exc).splitlines()[0][:160]}")
    if bad:
        raise RuntimeError("stale or missing caches — " + " | ".join(bad)
                           + " — rebuild one with `.venv/bin/python -m lecture_utils.sweeps NAME`")
    return f"{len(sweeps.names())} cached sweeps load with the code's parameters"


def _pixels(png):
    import io

    import matplotlib.image as mpimg

    return mpimg.imread(io.BytesIO(png), format="png")[..., :3]


def _png_is_drawn(png):
    import numpy as np

    return float(np.ptp(_pixels(png))) > 0.1


def check_panels():
    from lecture_utils.panels import build_default, panel_functions

    bad, n = [], 0
    for mod, name, fn in panel_functions():
        try:
            panel, _, _ = build_default(fn)
        except LookupError:
            continue  # needs arguments a notebook supplies; the round trip below covers the mechanism
        except Exception as exc:  # noqa: BLE001 — reported to the teacher, not hidden
            bad.append(f"{mod.__name__.rsplit('.', 1)[-1]}.{name}: {type(exc).__name__}: {exc}")
            continue
        n += 1
        if not _png_is_drawn(panel.png()) or not panel.caption_text():
            bad.append(f"{name}: blank picture or no caption")
    if bad:
        raise RuntimeError("; ".join(bad))
    return f"{n} panels draw a picture and a caption at their defaults"


def check_round_trip():
    import numpy as np

    from lecture_utils.panels.overview import demo_panel

    panel = demo_panel()
    png0, cap0 = _pixels(panel.png()), panel.caption_text()
    t0 = time.perf_counter()
    panel.set(lr=0.9)
    ms = (time.perf_counter() - t0) * 1e3
    png1, cap1 = _pixels(panel.png()), panel.caption_text()
    panel.set(lr=0.2)
    if np.array_equal(png1, png0) or cap1 == cap0:
        raise RuntimeError("moving η did not change the picture or the caption")
    if not np.array_equal(_pixels(panel.png()), png0) or panel.caption_text() != cap0:
        raise RuntimeError("moving η back did not restore the picture and the caption")
    return f"η 0.2 → 0.9 → 0.2 changed and restored picture and caption ({ms:.0f} ms for one move)"


CHECKS = [("environment", check_environment), ("notebooks", check_notebooks), ("data", check_data),
          ("caches", check_caches), ("panels", check_panels), ("slider round trip", check_round_trip)]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="skip building every panel")
    args = ap.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    t_start = time.perf_counter()
    failed = 0
    for label, fn in CHECKS:
        if args.quick and fn is check_panels:
            continue
        t0 = time.perf_counter()
        try:
            msg = fn()
            print(f"✓ {label:<18} {msg}  ({time.perf_counter() - t0:.1f} s)", flush=True)
        except Exception as exc:  # noqa: BLE001 — every failure becomes a line for the teacher
            failed += 1
            detail = str(exc) if isinstance(exc, RuntimeError) else traceback.format_exception_only(exc)[-1]
            print(f"× {label:<18} {detail.strip()}", flush=True)
    total = time.perf_counter() - t_start
    print(f"{'ready for class' if not failed else f'NOT ready: {failed} check(s) failed'} "
          f"({total:.1f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
