"""The static site's frames: a panel's cell run again, its controls' grid, one frame per grid point.

``scripts/build_site.py`` (``make site``) calls :func:`draw_panel` in worker processes, one panel each; the
frames are what :meth:`lecture_utils.widgets.Panel.update` draws at each point of
:func:`lecture_utils.widgets.site_grid`, with the caption it returns (a test checks that). Frames are drawn
at :data:`FRAME_SCALE` pixels per CSS pixel (the notebooks' panels: 2) as :data:`FRAME_COLOURS`-colour PNGs,
to keep the whole site within its 60 MB.
"""
from __future__ import annotations

import ast
import io
import itertools
import os
import time
from pathlib import Path

#: Pixels per CSS pixel of a frame, and the colours of its palette.
FRAME_SCALE = 1.25
FRAME_COLOURS = 64


def run_cell(source):
    """Run a cell's code as a notebook does and return the value of its last expression."""
    tree = ast.parse(source)
    ns = {"__name__": "__main__"}
    body, last = tree.body, None
    if body and isinstance(body[-1], ast.Expr):
        body, last = body[:-1], body[-1]
    exec(compile(ast.Module(body=body, type_ignores=[]), "<cell>", "exec"), ns)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns)


def frame_png(png_bytes, colours=FRAME_COLOURS):
    """A panel picture as a ``colours``-colour PNG (Pillow's fast octree palette)."""
    from PIL import Image

    img = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    out = io.BytesIO()
    img.quantize(colours, method=Image.Quantize.FASTOCTREE).save(out, "PNG", compress_level=9)
    return out.getvalue()


def draw_panel(job):
    """Build one panel from its cell (in the notebook's language) and draw its frames into
    ``job["out"]``. Returns the viewer's manifest (controls, frames with captions) and the seconds taken."""
    before = os.environ.get("LECTURE_LANG")
    os.environ["LECTURE_LANG"] = job["lang"]
    try:
        return _draw_panel(job)
    finally:
        if before is None:
            os.environ.pop("LECTURE_LANG", None)
        else:
            os.environ["LECTURE_LANG"] = before


def _draw_panel(job):
    t0 = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    from lecture_utils import widgets
    from lecture_utils.plotting import use_style
    from lecture_utils.seeding import seed_everything

    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context():
        use_style()
        seed_everything(0)
        panel = run_cell(job["source"])
        if not isinstance(panel, widgets.Panel):
            raise RuntimeError(f"{job['where']}: the cell's last value is a {type(panel).__name__}, "
                               "not a Panel")
        stored = job.get("stored_caption")
        shown = f"[{panel.title}] {panel.caption_text()}"
        if stored is not None and shown != stored:
            raise RuntimeError(f"{job['where']}: the panel built here does not say what the notebook "
                               f"stores:\n  stored: {stored}\n  here:   {shown}")
        grid = widgets.site_grid(panel.controls, **job.get("grid", {}))
        names = list(grid)
        defaults = panel.values()
        panel.set_scale(job.get("scale", FRAME_SCALE))
        frames = {}
        for combo in itertools.product(*(range(len(grid[n])) for n in names)):
            values = {n: grid[n][i] for n, i in zip(names, combo)}
            caption = panel.update(**values)
            key = "-".join(map(str, combo))
            (out / f"{key}.png").write_bytes(frame_png(panel.png(), job.get("colours", FRAME_COLOURS)))
            frames[key] = [f"{key}.png", caption]
        controls = []
        for n in names:
            c = panel.controls[n]
            controls.append({"name": n, "label": str(getattr(c, "description", "") or n),
                             "kind": "check" if isinstance(c.value, bool) else "range",
                             "labels": [widgets.position_label(c, v) for v in grid[n]],
                             "default": grid[n].index(defaults[n])})
    manifest = {"title": panel.title, "width": panel.css_width, "height": panel.css_height,
                "controls": controls, "frames": frames,
                "default": "-".join(str(c["default"]) for c in controls)}
    return {"key": job["key"], "manifest": manifest, "seconds": time.perf_counter() - t0}
