"""PNG encoders for the slider panels, on the panels' real 2× frames (issue 20: why
``lecture_utils.widgets.rgba_png`` is ours and not a library's).

1. encode only: every panel is built at its defaults and moved three times; the RGBA frame its last
   update encoded is kept; each encoder encodes each frame ``--reps`` times, the encoders in a
   shuffled order every round (interleaved), and must decode (Pillow) to the frame's own pixels;
2. whole updates (``--updates``): every panel's slider plan (``control_positions``, as ``make bench``)
   with each encoder swapped into ``widgets.rgba_png`` in turn at every position.

Times are CPU seconds of this process (``time.process_time``: all its threads), median per panel, so
they hold on a busy machine; wall times are printed beside them. Encoders: ours (4 bands on threads,
and 1 band), Pillow (``Image.save(format="PNG")``; it picks a PNG filter per row for RGBA, no option
turns that off), and where installed imagecodecs (libpng, filter "none") and OpenCV (filter "none",
after an RGBA→BGRA swap): ``pip install imagecodecs opencv-python-headless`` (not course dependencies).

    python benchmarks/png_encoders.py --reps 15 --updates 12
"""
from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lecture_utils import widgets  # noqa: E402
from lecture_utils.panels import build_default, panel_functions  # noqa: E402
from lecture_utils.widgets import control_positions  # noqa: E402

OURS = widgets.rgba_png


def encoders():
    """name -> fn(rgba, compress_level) -> PNG bytes."""
    from PIL import Image

    def pillow(a, level=1):
        h, w = a.shape[:2]
        buf = io.BytesIO()
        Image.frombuffer("RGBA", (w, h), np.ascontiguousarray(a), "raw", "RGBA", 0, 1).save(
            buf, format="PNG", compress_level=level)
        return buf.getvalue()

    enc = {"ours (4 bands, threads)": lambda a, level=1: OURS(a, level),
           "ours (1 band)": lambda a, level=1: OURS(a, level, strips=1),
           "Pillow": pillow}
    try:
        import imagecodecs

        enc["imagecodecs, filter none"] = lambda a, level=1: imagecodecs.png_encode(
            np.asarray(a), level=level, filter=imagecodecs.PNG.FILTER.NONE)
    except ImportError:
        pass
    try:
        import cv2

        cv2.setNumThreads(1)
        enc["OpenCV, filter none"] = lambda a, level=1: cv2.imencode(
            ".png", cv2.cvtColor(np.asarray(a), cv2.COLOR_RGBA2BGRA),
            [cv2.IMWRITE_PNG_COMPRESSION, level, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_NONE],
        )[1].tobytes()
    except ImportError:
        pass
    return enc


def panels():
    """(label, panel, is a data panel) for every panel that builds now."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import is_data_panel

    out = []
    for mod, name, fn in panel_functions():
        label = f"{mod.__name__.rsplit('.', 1)[-1]}.{name}"
        try:
            panel, _, cached = build_default(fn)
        except Exception as exc:  # noqa: BLE001
            print(f"{label}: not built ({exc})", file=sys.stderr)
            continue
        if isinstance(panel, widgets.PrerenderedPanel):  # shows kept pictures: encodes nothing live
            continue
        out.append((label, panel, is_data_panel(mod, name, fn, cached)))
    return out


def frames_of(built):
    frames = {}
    for label, panel, _ in built:
        plan = [(k, v) for k, c in panel.controls.items() for v in control_positions(c)]

        def keep(rgba, level=widgets.LIVE_COMPRESS, strips=4, label=label):
            frames[label] = np.array(rgba, dtype=np.uint8, copy=True)
            return OURS(rgba, level, strips)

        widgets.rgba_png = keep
        try:
            for i in range(3):
                panel.update(**dict([plan[(i + 1) % len(plan)]]))
        finally:
            widgets.rgba_png = OURS
    return frames


def bench_encode(frames, enc, reps):
    from PIL import Image

    for label, a in frames.items():
        for name, fn in enc.items():
            back = np.asarray(Image.open(io.BytesIO(fn(a))).convert("RGBA"))
            assert np.array_equal(back, a), f"{name} changed the pixels of {label}"
    cpu = {n: {label: [] for label in frames} for n in enc}
    names = list(enc)
    for r in range(reps):
        random.Random(r).shuffle(names)
        for label, a in frames.items():
            for n in names:
                c0 = time.process_time()
                enc[n](a)
                cpu[n][label].append(time.process_time() - c0)
    print(f"\nencode only, CPU ms per frame (median of {reps}, interleaved); frames "
          f"{min(a.shape[0] for a in frames.values())}–{max(a.shape[0] for a in frames.values())} × "
          f"{min(a.shape[1] for a in frames.values())}–{max(a.shape[1] for a in frames.values())} px")
    print(f"{'panel':34s}" + "".join(f"{n[:24]:>26s}" for n in enc))
    for label in frames:
        print(f"{label:34s}" + "".join(f"{1000 * statistics.median(cpu[n][label]):26.1f}" for n in enc))


def bench_updates(built, enc, n_updates):
    print(f"\nwhole slider updates (compute + draw + PNG), CPU ms / wall ms, median of {n_updates}")
    print(f"{'panel':34s} {'kind':4s}" + "".join(f"{n[:24]:>26s}" for n in enc))
    for label, panel, data in built:
        plan = [(k, v) for k, c in panel.controls.items() for v in control_positions(c)]
        cpu, wall = {n: [] for n in enc}, {n: [] for n in enc}
        try:
            for i in range(n_updates + 2):
                k, v = plan[i % len(plan)]
                for n, fn in enc.items():
                    widgets.rgba_png = lambda a, level=widgets.LIVE_COMPRESS, strips=4, fn=fn: fn(a, level)
                    c0 = time.process_time()
                    panel.update(**{k: v})
                    if i >= 2:
                        cpu[n].append(time.process_time() - c0)
                        wall[n].append(panel.last_seconds)
        finally:
            widgets.rgba_png = OURS
        cells = [f"{1000 * statistics.median(cpu[n]):17.1f} / {1000 * statistics.median(wall[n]):<6.1f}"
                 for n in enc]
        print(f"{label:34s} {'data' if data else 'toy':4s}" + "".join(cells))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--updates", type=int, default=12)
    args = ap.parse_args()
    import PIL

    enc = encoders()
    load = open("/proc/loadavg").read().split()[:3]
    print(f"Pillow {PIL.__version__}; encoders: {', '.join(enc)}; load {load}")
    built = panels()
    bench_encode(frames_of(built), enc, args.reps)
    if args.updates:
        bench_updates(built, enc, args.updates)
    print(f"load at the end {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
