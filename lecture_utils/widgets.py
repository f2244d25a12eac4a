"""Interactive panels: sliders → a plain update function → figure artists → one PNG.

The pattern used by every notebook:

* a panel owns its controls (sliders), a matplotlib figure and an ``update(**values)`` function
  that changes the figure's artists in place (``set_data``, ``set_text``) and returns a caption;
* at construction the panel draws itself once at the default values, so the stored notebook,
  nbval, GitHub and a closed kernel all show the static figure (``image/png`` in the output);
* in JupyterLab/Voila the same output is a live widget: moving a slider calls ``update`` and
  replaces the picture (an ``ipywidgets.Image``) — nothing is printed into an ``Output`` widget,
  so strict nbval sees only a fixed text line and the PNG (which it does not compare);
* tests call ``panel.update(...)`` or ``panel.set(...)`` directly, without a browser.
"""
from __future__ import annotations

import base64
import io
import sys
import time

from ._validate import Interval, Options, check_batch_size, check_int, check_real
from .i18n import _


def slider(name, constraint, value, *, step=None, log=False, description=None, readout_format=None):
    """The slider of a declared constraint: its range is the constraint's (one declaration for the
    check and the control). ``Interval("int", …)`` → an integer slider; ``Interval("real", …)`` → a
    real one (``log=True``: over powers of ten, for η); ``Options`` → a selection slider. The widget
    keeps the constraint (``.constraint``): :meth:`Panel.update` checks values against it.
    """
    if isinstance(constraint, (Interval, Options)):
        value = constraint.check(name, value)   # a default outside the declared range names the parameter
    if isinstance(constraint, Options):
        ctl = selection_slider(name, list(constraint.values), value, description=description)
    elif isinstance(constraint, Interval):
        if constraint.low is None or constraint.high is None or constraint.low_open or constraint.high_open:
            raise ValueError(f"a slider needs a closed, finite range; {name} is declared "
                             f"{constraint.describe()}")
        kw = {} if readout_format is None else {"readout_format": readout_format}
        if constraint.kind == "int":
            ctl = int_slider(name, value, constraint.low, constraint.high, step or 1, description=description)
        elif log:
            ctl = log_slider(name, value, constraint.low, constraint.high, description=description, **kw)
        else:
            if step is None:
                raise ValueError(f"a real slider needs a step; none given for {name}")
            ctl = float_slider(name, value, constraint.low, constraint.high, step, description=description,
                               **kw)
    else:
        raise ValueError(f"constraint must be an Interval or Options; got {type(constraint).__name__}")
    ctl.constraint = constraint
    return ctl


def int_slider(name, value, low, high, step=1, description=None):
    """An integer slider; low ≤ value ≤ high, step ≥ 1 (a ValueError names what is out of range)."""
    import ipywidgets as w

    low = check_int("low", low)
    high = check_int("high", high, low=low)
    value = check_int("value", value, low=low, high=high)
    step = check_int("step", step, low=1)

    return w.IntSlider(value=value, min=low, max=high, step=step, description=description or name,
                       continuous_update=True, style={"description_width": "initial"},
                       layout=w.Layout(width="420px"))


def float_slider(name, value, low, high, step, description=None, readout_format=".3g"):
    """A real-valued slider; low ≤ value ≤ high, step > 0."""
    import ipywidgets as w

    low = check_real("low", low)
    high = check_real("high", high, low=low)
    value = check_real("value", value, low=low, high=high)
    step = check_real("step", step, low=0.0, low_open=True)

    return w.FloatSlider(value=value, min=low, max=high, step=step, description=description or name,
                         continuous_update=True, readout_format=readout_format,
                         style={"description_width": "initial"}, layout=w.Layout(width="420px"))


def log_slider(name, value, low, high, description=None, readout_format=".3g"):
    """A slider over powers of ten (for η); 0 < low ≤ value ≤ high."""
    import ipywidgets as w

    low = check_real("low", low, low=0.0, low_open=True)
    high = check_real("high", high, low=low)
    value = check_real("value", value)
    if low * (1 - 1e-9) <= value < low or high < value <= high * (1 + 1e-9):
        value = min(max(value, low), high)   # rounding of exp(log(...)) at an end, not a wrong value
    value = check_real("value", value, low=low, high=high)

    import numpy as np
    return w.FloatLogSlider(value=value, base=10, min=float(np.log10(low)), max=float(np.log10(high)),
                            step=0.05, description=description or name, continuous_update=True,
                            readout_format=readout_format, style={"description_width": "initial"},
                            layout=w.Layout(width="420px"))


def batch_size_slider(n_examples, value=1, description="batch size B"):
    """Batch size B from 1 to N (the full batch)."""
    n = check_int("n_examples", n_examples, low=1)
    value = check_batch_size(value, n, name="value")
    return int_slider("batch_size", value, 1, n, description=description)


def selection_slider(name, options, value, description=None):
    """A slider over a list of values (e.g. the batch sizes of a cached sweep)."""
    import ipywidgets as w

    options = list(options)
    if not options:
        raise ValueError("options must hold at least one value")
    if value not in options:
        raise ValueError(f"value must be one of the options {options}; got {value!r}")

    return w.SelectionSlider(options=options, value=value, description=description or name,
                             continuous_update=True, style={"description_width": "initial"},
                             layout=w.Layout(width="420px"))


def control_positions(control, k=5):
    """``k`` values spread over a control's range, ends included (log-spaced on a log slider; the
    first/last options of a selection; False/True for a toggle): what the benchmark and the
    robustness tests move a panel's controls to (``k = 2``: its two extremes)."""
    import ipywidgets as w
    import numpy as np

    if isinstance(control, w.FloatLogSlider):
        return [float(v) for v in control.base ** np.linspace(control.min, control.max, k)]
    if isinstance(control, (w.IntSlider, w.BoundedIntText)):
        return sorted(set(int(round(v)) for v in np.linspace(control.min, control.max, k)))
    if isinstance(control, (w.FloatSlider, w.BoundedFloatText)):
        return [float(v) for v in np.linspace(control.min, control.max, k)]
    opts = getattr(control, "_options_values", None)
    if opts:
        idx = sorted(set(int(round(v)) for v in np.linspace(0, len(opts) - 1, k)))
        return [opts[i] for i in idx]
    if isinstance(control.value, bool):
        return [False, True]
    return [control.value]


def every_position(control):
    """Every value a control can take, in order: an integer slider's ``min, min + step, …, max``; a real
    slider's steps from ``min`` (a log slider's exponents ``min + k·step``, as 10**x), its end ``max`` and
    its current value included (where a step does not land on them); a selection's options; False/True for
    a checkbox. What the static site (``scripts/build_site.py``) draws a frame for, when there are at most
    :data:`SITE_MAX_SINGLE` of them."""
    import math

    import ipywidgets as w

    if isinstance(control, (w.IntSlider, w.BoundedIntText)):
        return list(range(control.min, control.max + 1, control.step))
    log = isinstance(control, w.FloatLogSlider)
    if log or isinstance(control, (w.FloatSlider, w.BoundedFloatText)):
        n = int(math.floor((control.max - control.min) / control.step + 1e-9))
        xs = [control.min + k * control.step for k in range(n + 1)]
        if control.max - xs[-1] > 1e-9 * control.step:
            xs.append(control.max)
        vals = [float(control.base ** x) if log else round(x, 10) for x in xs]
        c = getattr(control, "constraint", None)   # 10**log10(0.2) is 0.20000000000000004: keep the ends
        if isinstance(c, Interval):
            vals = [min(max(v, c.low), c.high) for v in vals]
        v = float(control.value)
        near = min(range(len(vals)), key=lambda i: abs(vals[i] - v))
        if math.isclose(vals[near], v, rel_tol=1e-6, abs_tol=1e-12):
            vals[near] = v            # the default exactly (the stored picture is a frame)
        else:
            vals = sorted(vals + [v])
        return vals
    opts = getattr(control, "_options_values", None)
    if opts:
        return list(opts)
    if isinstance(control.value, bool):
        return [False, True]
    return [control.value]


def position_label(control, value):
    """The text a control shows for ``value`` (its readout): an option's label, ``on``/``off``, an integer,
    or a real number to 3 significant digits (the sliders' ``.3g``)."""
    opts = getattr(control, "_options_values", None)
    if opts:
        return str(control._options_labels[list(opts).index(value)])
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    fmt = getattr(control, "readout_format", ".3g") or ".3g"
    return format(value, fmt)


#: A slider with at most this many positions gets a frame at every one of them on the static site.
SITE_MAX_SINGLE = 100
#: A panel with two or more sliders gets a coarse grid of at most this many frames (ends and defaults in).
SITE_MAX_FRAMES = 64


def coarse(values, k, keep):
    """``k`` of ``values`` spread evenly (both ends in), with ``keep`` (the default) added; in order."""
    import numpy as np

    if len(values) <= k:
        return list(values)
    idx = {int(round(i)) for i in np.linspace(0, len(values) - 1, k)}
    idx.add(values.index(keep))
    return [values[i] for i in sorted(idx)]


def site_grid(controls, max_single=SITE_MAX_SINGLE, max_frames=SITE_MAX_FRAMES):
    """The positions the static site draws, per control: ``{name: [values]}``, each list holding the
    control's current (default) value. One slider: every position when it has at most ``max_single``
    (else ``max_single`` spread over the range). Several: checkboxes and options with at most 2 values keep
    every value; the sliders share the rest of ``max_frames`` evenly (``k`` each, ``k`` as large as the
    product allows, at least 2); a control may declare its own list as ``control.site_positions``."""
    import math

    full = {}
    for name, c in controls.items():
        vals = getattr(c, "site_positions", None) or every_position(c)
        if c.value not in vals:
            raise ValueError(f"control {name}'s value {c.value!r} is not one of its positions")
        full[name] = list(vals)
    if len(full) == 1:
        (name, vals), = full.items()
        return {name: coarse(vals, max_single, controls[name].value)}
    fixed = {n: v for n, v in full.items() if len(v) <= 2 or getattr(controls[n], "site_positions", None)}
    free = [n for n in full if n not in fixed]
    budget = max(1, max_frames // math.prod(len(v) for v in fixed.values()))
    k = max(2, int(budget ** (1 / len(free)))) if free else 0
    while free and k > 2 and math.prod(len(coarse(full[n], k, controls[n].value)) for n in free) > budget:
        k -= 1
    return {n: (fixed[n] if n in fixed else coarse(full[n], k, controls[n].value)) for n in full}


#: Pixels per CSS pixel of every panel picture: drawn at 2× the size it is shown at, so that a
#: projector, a HiDPI laptop and a zoomed page show it crisply (issue 12).
SCALE = 2

#: zlib level of the PNG of a slider update (1: fastest; encoding is a large share of an update)
#: and of the picture stored in the notebook at construction (smaller file, drawn once).
LIVE_COMPRESS, STORED_COMPRESS = 1, 6


def _adler32_combine(a1, a2, len2):
    """Adler-32 of two concatenated buffers from theirs (zlib's adler32_combine)."""
    base = 65521
    rem = len2 % base
    s1 = a1 & 0xFFFF
    s2 = (rem * s1) % base
    s1 += (a2 & 0xFFFF) + base - 1
    s2 += ((a1 >> 16) & 0xFFFF) + ((a2 >> 16) & 0xFFFF) + base - rem
    s1 = s1 - base if s1 >= base else s1
    s1 = s1 - base if s1 >= base else s1
    s2 = s2 - 2 * base if s2 >= 2 * base else s2
    s2 = s2 - base if s2 >= base else s2
    return s1 | (s2 << 16)


_PNG_THREADS = None
#: False once threads turned out not to exist here (Pyodide/emscripten, WASI, or a thread that cannot
#: start): from then on the bands are compressed one after the other, into the same bytes.
_THREADS_OK = True


def _png_thread_pool():
    """The encoder's thread pool, or None where threads do not exist (no pool is even tried there)."""
    global _PNG_THREADS
    if not _THREADS_OK or sys.platform in ("emscripten", "wasi"):
        return None
    if _PNG_THREADS is None:
        import os
        from concurrent.futures import ThreadPoolExecutor

        _PNG_THREADS = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)),
                                          thread_name_prefix="lecture-png")
    return _PNG_THREADS


def _map_bands(band, n):
    """``[band(0), …, band(n−1)]``, on the thread pool when there is one; one after the other where
    threads do not exist or do not start (RuntimeError "can't start new thread")."""
    global _THREADS_OK
    pool = _png_thread_pool() if n > 1 else None
    if pool is not None:
        try:
            return list(pool.map(band, range(n)))
        except RuntimeError as exc:
            if "thread" not in str(exc):
                raise
            _THREADS_OK = False
    return [band(i) for i in range(n)]


def rgba_png(rgba, compress_level=LIVE_COMPRESS, strips=4):
    """An (h, w, 4) uint8 RGBA array as RGBA PNG bytes, fast: the rows are copied as they lie (dropping
    the alpha channel costs a strided copy that takes longer than compressing the constant alpha
    bytes), PNG filter "none" (the filters cost more than they save on flat figure colours) and zlib in
    ``strips`` horizontal bands compressed in parallel threads (zlib releases the GIL), joined as one
    zlib stream as pigz does (each band ends on a full flush; the Adler-32 of the whole is combined
    from the bands', :func:`_adler32_combine`). Where threads do not exist (Pyodide, WASI) or cannot
    start, the same bands are compressed one after the other: the same bytes, one core.

    Why not a library (issue 20; ``benchmarks/png_encoders.py``, output in
    ``benchmarks/results/png_encoders.txt``: the panels' real 2× frames, 680–1000 × 1280–2500 px, CPU
    ms, medians of interleaved repeats, Intel Xeon at load 12, Pillow 13.0.0, imagecodecs 2026.3.6,
    OpenCV 5.1.0). One encode: ours 8.3–18.3 ms; Pillow at level 1 20.0–41.3 ms (2.2–2.4×: Pillow
    picks a PNG filter per row for RGBA and has no option to turn that off); libpng with filter "none"
    through imagecodecs 6.3–14.3 ms, OpenCV 7.0–15.9 ms (with an RGBA→BGRA swap). A whole slider
    update: ours 13.4–28.0 ms on the toy panels (budget 30), Pillow 25.0–52.5 ms (10 of 11 toy panels
    over budget); imagecodecs/OpenCV save 1.5–5 ms an update but add 80 MB / 173 MB to the course's
    install. Every encoder's PNG decodes to the same pixels."""
    import struct
    import zlib

    import numpy as np

    rgba = np.ascontiguousarray(rgba, dtype=np.uint8)
    h, w = rgba.shape[:2]
    bounds = np.linspace(0, h, max(1, min(strips, h)) + 1).astype(int)

    def band(i):
        lo, hi = bounds[i], bounds[i + 1]
        rows = np.empty((hi - lo, 1 + 4 * w), np.uint8)
        rows[:, 0] = 0
        rows[:, 1:] = rgba[lo:hi].reshape(hi - lo, 4 * w)
        raw = rows.data
        co = zlib.compressobj(compress_level, zlib.DEFLATED, -15, 9)
        last = i == len(bounds) - 2
        packed = co.compress(raw) + co.flush(zlib.Z_FINISH if last else zlib.Z_FULL_FLUSH)
        return packed, zlib.adler32(raw), raw.nbytes

    parts = _map_bands(band, len(bounds) - 1)
    adler = parts[0][1]
    for _packed, a2, n2 in parts[1:]:
        adler = _adler32_combine(adler, a2, n2)
    idat = b"\x78\x01" + b"".join(p[0] for p in parts) + struct.pack(">I", adler)

    def chunk(tag, data):
        crc = struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        return struct.pack(">I", len(data)) + tag + data + crc

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def figure_png(fig, dpi=None, compress_level=LIVE_COMPRESS):
    """The figure rendered by Agg as PNG bytes (no timestamp metadata, fast compression): at the
    figure's own dpi drawn on an Agg canvas and encoded by :func:`rgba_png`, else by ``savefig``."""
    if dpi is None or dpi == fig.dpi:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        canvas.draw()
        return rgba_png(canvas.buffer_rgba(), compress_level)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi, metadata={"Software": None},
                pil_kwargs={"compress_level": compress_level})
    return buf.getvalue()


class Panel:
    """Controls + figure + ``update(**values) -> caption``; see the module docstring.

    Parameters
    ----------
    fig : a matplotlib Figure created with ``matplotlib.figure.Figure`` (not pyplot, so that it
        is never shown twice by the inline backend).
    update : function of the control values (keyword arguments named like ``controls``) that
        updates the figure's artists and returns a caption (plain text or HTML).
    controls : dict mapping names to ipywidgets value widgets (sliders, toggles, dropdowns).
    title : one line naming the panel (shown as the text form of the output).
    dynamic : optional list of the artists that ``update`` changes; the rest of the figure is then
        drawn once and blitted (see :meth:`_prepare_blit`), which makes a redraw several times faster.
    dpi : CSS pixels per inch of the figure as shown (default: the figure's dpi); the picture is drawn
        with ``scale`` times as many pixels per inch and shown at ``css_width`` × ``css_height`` CSS px.
    """

    def __init__(self, fig, update, controls, *, title="interactive panel", dpi=None, dynamic=None,
                 scale=SCALE):
        self.fig = fig
        self._update = update
        self.controls = dict(controls)
        self.title = title
        self.dpi = float(dpi or fig.dpi)
        self.scale = check_real("scale", scale, low=1.0, high=4.0)
        w_in, h_in = fig.get_size_inches()
        self.css_width, self.css_height = int(round(w_in * self.dpi)), int(round(h_in * self.dpi))
        fig.set_dpi(self.dpi * self.scale)  # points scale with dpi: the same layout, more pixels
        self.last_seconds = 0.0
        self._widget = None
        self._dynamic = sorted(dynamic or [], key=lambda a: a.get_zorder())
        self.caption = self._update(**self.values())
        if self._dynamic:
            self._prepare_blit()
        self._png = self._render(compress_level=STORED_COMPRESS)
        if self.fig.get_layout_engine() is not None:
            # Freeze the layout found at the default values: a layout engine costs a second draw per update.
            self.fig.set_layout_engine("none")

    def _prepare_blit(self):
        """Render the static part once and keep its pixels; later updates draw only ``dynamic`` artists.

        With ``dynamic`` (the artists that ``update`` changes: lines, images, texts, titles), a redraw
        costs a few ms instead of a whole figure draw. Axis limits and other static parts must not change.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self._canvas = FigureCanvasAgg(self.fig)
        for a in self._dynamic:
            a.set_animated(True)
        self._canvas.draw()  # lays the figure out (titles included) and draws the static part
        if self.fig.get_layout_engine() is not None:
            self.fig.set_layout_engine("none")
        self._bg = self._canvas.copy_from_bbox(self.fig.bbox)

    def _render(self, compress_level=LIVE_COMPRESS):
        """The picture at the figure's (scaled) dpi: ``css_width·scale`` pixels wide."""
        if not self._dynamic:
            return figure_png(self.fig, self.fig.dpi, compress_level)

        canvas = self._canvas
        canvas.restore_region(self._bg)
        renderer = canvas.get_renderer()
        for a in self._dynamic:
            if a.get_visible():
                a.draw(renderer)
        return rgba_png(canvas.buffer_rgba(), compress_level)

    def set_scale(self, scale):
        """Draw the picture with ``scale`` pixels per CSS pixel from now on (the static site's frames are
        drawn at a smaller scale than the live panel): the figure keeps its layout, the kept background
        (and a :class:`PrerenderedPanel`'s kept pictures) are drawn again at the new scale."""
        self.scale = check_real("scale", scale, low=0.5, high=4.0)
        self.fig.set_dpi(self.dpi * self.scale)
        if self._dynamic:
            self._prepare_blit()
        self._png = self._render()

    # -- logic (no widgets needed) -------------------------------------------------------
    def values(self):
        return {k: c.value for k, c in self.controls.items()}

    def update(self, **values):
        """Redraw at ``values`` (missing names keep their control's value); returns the caption."""
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"unknown control(s) {sorted(unknown)}; this panel has {sorted(self.controls)}")
        for k, v in values.items():  # the boundary: a value typed in code meets the slider's declared range
            c = getattr(self.controls[k], "constraint", None)
            if c is not None:
                values[k] = c.check(k, v)
        t0 = time.perf_counter()
        merged = {**self.values(), **values}
        self.caption = self._update(**merged)
        self._png = self._render()
        self.last_seconds = time.perf_counter() - t0
        return self.caption

    def set(self, **values):
        """Move the controls themselves (as a learner would); the observers redraw."""
        for k, v in values.items():
            if k not in self.controls:
                raise ValueError(f"unknown control {k!r}; this panel has {sorted(self.controls)}")
            self.controls[k].value = v
        if self._widget is None:
            self.update()
        return self.caption

    def png(self):
        return self._png

    # -- widgets --------------------------------------------------------------------------
    @property
    def widget(self):
        if self._widget is None:
            import ipywidgets as w

            # drawn at scale × the CSS size, shown at the CSS size (max 100 % of the page, aspect kept)
            self._image = w.Image(value=self._png, format="png", width=str(self.css_width),
                                  layout=w.Layout(max_width="100%", height="auto"))
            self._caption = w.HTML(value=self._caption_html())
            box = w.VBox(list(self.controls.values()) + [self._image, self._caption])
            box.add_class("lecture-panel")
            for c in self.controls.values():
                c.observe(self._on_change, names="value")
            self._widget = box
        return self._widget

    #: Shown under a panel only while its widgets are not connected to a kernel: after a kernel restart,
    #: in a notebook opened with its stored outputs (the picture is then a static figure at the
    #: defaults) or when the kernel died. ipywidgets 8 marks such views with the CSS class
    #: ``jupyter-widgets-disconnected``; the ``<style>`` below (an HTML widget's value is inserted as
    #: HTML) reveals the message then, and hides it while the kernel is connected.
    STALE_HINT = ("⚠ restart: run all cells — these sliders need a running kernel and this one is gone "
                  "(Run ▸ Run All Cells, or Kernel ▸ Restart Kernel and Run All Cells)")
    STALE_STYLE = ("<style>.lecture-stale{display:none}"
                   ".jupyter-widgets-disconnected .lecture-stale{display:block}</style>")

    def _caption_html(self):
        return (f'<div class="lecture-caption" style="max-width:820px;font-size:14px">{self.caption}</div>'
                f'{self.STALE_STYLE}<div class="lecture-stale" style="font-size:13px;color:#b00000;'
                f'font-weight:bold">{self.stale_hint()}</div>')

    @classmethod
    def stale_hint(cls):
        """:data:`STALE_HINT` in the output's language (JupyterLab's menu names stay as the English menus
        read, in brackets after the Chinese ones)."""
        return _("⚠ restart: run all cells — these sliders need a running kernel and this one is gone "
                 "(Run ▸ Run All Cells, or Kernel ▸ Restart Kernel and Run All Cells)")

    def _on_change(self, change):
        self.update()
        self._image.value = self._png
        self._caption.value = self._caption_html()

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = self.widget._repr_mimebundle_()
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data = dict(data)
        data["text/plain"] = f"[{self.title}] {self.caption_text()}"
        data["image/png"] = base64.b64encode(self._png).decode("ascii")
        # the static picture (no kernel, GitHub, nbviewer) is shown at its CSS size, not stretched
        return data, {"image/png": {"width": self.css_width, "height": self.css_height}}

    #: The caption as a second, static output under the panel, for readers without a kernel and without
    #: widgets (GitHub, nbviewer, a notebook whose widget state is not loaded): they see the stored picture
    #: (``image/png`` of the first output) and this text under it. Wherever the widget itself renders
    #: (JupyterLab, Voila, connected or not) it carries its own caption, and the ``<style>`` hides this
    #: copy (``:has``: the cell's output area holds a ``.lecture-panel``).
    STATIC_CAPTION_STYLE = ("<style>.jp-OutputArea:has(.lecture-panel) .lecture-static-caption"
                            "{display:none}</style>")

    def static_caption_html(self):
        return (f'{self.STATIC_CAPTION_STYLE}<div class="lecture-static-caption" '
                f'style="max-width:820px"><em>{self.title}:</em> {self.caption}</div>')

    def _ipython_display_(self):
        """Two outputs: the panel (widget view, with the picture as ``image/png`` and the caption as
        ``text/plain`` for viewers without widgets) and the caption as HTML text under it."""
        from IPython.display import display

        data, meta = self._repr_mimebundle_()
        display(data, metadata=meta, raw=True)
        display({"text/html": self.static_caption_html(), "text/plain": ""}, raw=True)

    def caption_text(self):
        """The caption without HTML tags (what nbval compares)."""
        import re

        return re.sub(r"<[^>]+>", "", self.caption)


class PrerenderedPanel(Panel):
    """A :class:`Panel` over one slider with a few positions whose picture depends
    only on the position shown (``shown()``, set by ``update``): each position's picture is drawn once,
    when the panel is built, and kept, so a slider move costs setting the artists and no drawing. The
    stored picture (at the default) is the one :class:`Panel` draws; the kept pictures are the live
    ones (the same pixels)."""

    def __init__(self, *args, shown, positions, **kwargs):
        self._shown, self._frames = shown, {}
        super().__init__(*args, **kwargs)
        (name,) = self.controls
        stored, caption = self._png, self.caption
        for value in positions:
            self._update(**{name: value})
            self._frames[self._shown()] = super()._render()
        self._update(**self.values())           # the artists back at the default, as stored
        self._png, self.caption = stored, caption

    def _render(self, compress_level=LIVE_COMPRESS):
        if compress_level == LIVE_COMPRESS and self._shown() in self._frames:
            return self._frames[self._shown()]
        return super()._render(compress_level)

    def set_scale(self, scale):
        """As :meth:`Panel.set_scale`; the kept pictures (drawn at the old scale) are dropped and drawn anew
        when shown."""
        self._frames = {}
        super().set_scale(scale)
