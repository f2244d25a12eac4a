import base64

import pytest
from matplotlib.figure import Figure

from lecture_utils import widgets
from lecture_utils.panels.overview import demo_panel, parabola_path


def _panel():
    fig = Figure(figsize=(3, 2))
    ax = fig.subplots()
    line, = ax.plot([0, 1], [0, 1])

    def update(a):
        line.set_ydata([0, a])
        return f"slope <b>{a:.1f}</b>"

    return widgets.Panel(fig, update, {"a": widgets.float_slider("a", 1.0, -2, 2, 0.5)}, title="t")


def test_panel_draws_at_defaults_and_updates():
    p = _panel()
    assert p.caption == "slope <b>1.0</b>"
    assert p.png().startswith(b"\x89PNG")
    first = p.png()
    assert p.update(a=-2.0) == "slope <b>-2.0</b>"
    assert p.png() != first
    assert p.last_seconds > 0


def test_panel_output_is_a_fixed_text_a_png_and_a_widget():
    p = _panel()
    bundle, meta = p._repr_mimebundle_()
    assert bundle["text/plain"] == "[t] slope 1.0"
    assert base64.b64decode(bundle["image/png"]).startswith(b"\x89PNG")
    assert "application/vnd.jupyter.widget-view+json" in bundle
    # the stored static picture is shown at its CSS size
    assert meta == {"image/png": {"width": p.css_width, "height": p.css_height}}


def test_panel_shows_its_caption_as_text_without_a_kernel(monkeypatch):
    """GitHub, nbviewer and a notebook without widget state show the stored PNG and, under it, the caption
    as HTML text (a second output); where the widget renders, a :has() rule hides that copy."""
    published = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: published.append((obj, kw)))
    p = _panel()
    p._ipython_display_()
    assert len(published) == 2
    first, second = published[0][0], published[1][0]
    assert "application/vnd.jupyter.widget-view+json" in first and "image/png" in first
    html = second["text/html"]
    assert "slope <b>1.0</b>" in html and 'class="lecture-static-caption"' in html
    assert ".jp-OutputArea:has(.lecture-panel) .lecture-static-caption{display:none}" in html
    p.update(a=-2.0)
    assert "slope <b>-2.0</b>" in p.static_caption_html()


def _png_size(png):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(png)).size


@pytest.mark.parametrize("dynamic", [False, True])
def test_panel_pictures_are_drawn_at_twice_the_css_size(dynamic):
    """Crisp on a projector / HiDPI screen: every picture (stored, after an update, in the widget)
    has 2× the pixels of the size it is shown at; the <img> is told its CSS width."""
    fig = Figure(figsize=(4, 2), dpi=90)
    ax = fig.subplots()
    line, = ax.plot([0, 1], [0, 1])

    def update(a):
        line.set_ydata([0, a])
        return f"a = {a}"

    p = widgets.Panel(fig, update, {"a": widgets.float_slider("a", 1.0, -2, 2, 0.5)},
                      dynamic=[line] if dynamic else None)
    assert (p.css_width, p.css_height) == (360, 180)
    assert _png_size(p.png()) == (720, 360)
    p.update(a=-1.0)
    assert _png_size(p.png()) == (720, 360)
    img = p.widget.children[1]
    assert img.width == "360" and img.layout.max_width == "100%" and img.layout.height == "auto"
    p.controls["a"].value = 0.5
    assert _png_size(bytes(img.value)) == (720, 360)
    # what a stale widget says (shown by CSS only while the widget is disconnected from its kernel)
    stale = p.widget.children[-1].value
    assert "restart: run all cells" in stale and "jupyter-widgets-disconnected" in stale
    with pytest.raises(ValueError, match="scale"):
        widgets.Panel(Figure(), lambda: "", {}, scale=0)


def test_every_panel_draws_at_twice_its_css_size():
    from lecture_utils.panels import build_default, panel_functions

    for _, name, fn in panel_functions():
        p, _, _ = build_default(fn)   # a panel whose cached sweep is missing fails here (the cache is in git)
        w, h = _png_size(p.png())
        assert (w, h) == (2 * p.css_width, 2 * p.css_height), name
        k, c = next(iter(p.controls.items()))
        p.update(**{k: widgets.control_positions(c, 2)[-1]})
        assert _png_size(p.png()) == (w, h), f"{name}: an update changed the picture size"


def test_use_style_makes_inline_figures_retina():
    from IPython.core.interactiveshell import InteractiveShell

    from lecture_utils import plotting

    shell = InteractiveShell.instance()
    try:
        plotting.use_style()
        formatter = shell.display_formatter.formatters["image/png"]
        from matplotlib.figure import Figure as F

        fig = F(figsize=(4, 2), dpi=90)
        fig.subplots().plot([0, 1])
        data, meta = formatter(fig) if isinstance(formatter(fig), tuple) else (formatter(fig), None)
        png = data if isinstance(data, bytes) else base64.b64decode(data)
        w, _ = _png_size(png)
        assert meta and abs(w - 2 * meta["width"]) <= 1, (w, meta)   # bbox "tight" may round
    finally:
        InteractiveShell.clear_instance()


def test_moving_a_slider_redraws_the_image_widget():
    p = _panel()
    w = p.widget
    image = w.children[-2]
    before = image.value
    p.controls["a"].value = 0.5
    assert image.value != before
    assert "0.5" in w.children[-1].value


def test_unknown_control_is_a_value_error():
    p = _panel()
    with pytest.raises(ValueError, match="unknown control"):
        p.update(b=1)
    with pytest.raises(ValueError, match="unknown control"):
        p.set(b=1)


def test_slider_factories_validate():
    with pytest.raises(ValueError, match="n_examples"):
        widgets.batch_size_slider(0)
    s = widgets.batch_size_slider(20, 5)
    assert (s.min, s.max, s.value) == (1, 20, 5)
    lr = widgets.log_slider("lr", 0.1, 0.01, 1.0)
    assert lr.min == pytest.approx(-2) and lr.max == pytest.approx(0)


def test_demo_panel_numbers():
    assert parabola_path(0.25, steps=3).tolist() == [2.0, 1.0, 0.5, 0.25]
    p = demo_panel()
    diverging = p.update(lr=1.1)   # θ_t = (1 − 2η)^t θ_0 = (−1.2)^t · 2: |θ_12| = 17.8
    assert "diverges" in diverging and "converge" not in diverging
    assert "multiplies θ by -1.20" in diverging and f"|θ| = {2 * 1.2 ** 12:.3g}" in diverging
    assert "lands exactly on the minimum" in p.update(lr=0.5)
    assert "for ever" in p.update(lr=1.0)
    assert "zig-zags" in p.update(lr=0.7)


def test_control_positions_spread_over_each_range():
    import ipywidgets as w

    from lecture_utils.widgets import control_positions

    assert control_positions(w.IntSlider(min=1, max=9), 5) == [1, 3, 5, 7, 9]
    assert control_positions(w.IntSlider(min=1, max=9), 2) == [1, 9]
    assert control_positions(w.FloatSlider(min=0.0, max=1.0), 3) == [0.0, 0.5, 1.0]
    log = w.FloatLogSlider(min=-3, max=0, base=10)
    assert control_positions(log, 4) == pytest.approx([1e-3, 1e-2, 1e-1, 1.0])
    sel = w.SelectionSlider(options=[("a", 8), ("b", 32), ("c", 128)], value=32)
    assert control_positions(sel, 2) == [8, 128] and control_positions(sel, 5) == [8, 32, 128]
    assert control_positions(w.Checkbox(value=True), 5) == [False, True]


def test_every_panel_function_is_found_and_builds_at_its_defaults():
    from lecture_utils.panels import build_default, panel_functions

    names = {f"{m.__name__.rsplit('.', 1)[-1]}.{n}" for m, n, _ in panel_functions()}
    assert {"batches.index_map_panel", "momentum.vector_addition_panel", "overview.demo_panel"} <= names
    fns = {n: f for _, n, f in panel_functions()}
    panel, how, cached = build_default(fns["index_map_panel"])
    assert (how, cached) == ("defaults", False) and panel.png()[:4] == b"\x89PNG"
    with pytest.raises(LookupError, match="needs"):
        build_default(lambda n_examples, batch_size: None)


def test_stored_pictures_are_twice_their_display_size():
    """Every PNG stored in a notebook (panels and static figures) carries its display size in the
    output metadata and has 2× as many pixels: crisp on a projector. A notebook stored before the
    change fails here until it is re-executed (make notebooks NB=...)."""
    import glob
    import io
    from pathlib import Path

    import nbformat
    from PIL import Image

    root = Path(__file__).resolve().parent.parent
    bad = []
    for path in sorted(glob.glob(str(root / "notebooks" / "*.ipynb"))):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                png = out.get("data", {}).get("image/png")
                if not png:
                    continue
                w, _ = Image.open(io.BytesIO(base64.b64decode(png))).size
                shown = out.get("metadata", {}).get("image/png", {}).get("width")
                if not shown or abs(w - 2 * shown) > 1:
                    bad.append(f"{Path(path).name} cell {i}: {w} px stored, shown at {shown or 'full'} px")
    assert not bad, "pictures not stored at 2x (re-execute these notebooks):\n" + "\n".join(bad)


# ----------------------------------------------------------------------------- slider from a constraint
def test_slider_spans_its_declared_constraint():
    import ipywidgets as w

    from lecture_utils._validate import BETA, Interval, Options

    steps = widgets.slider("steps", Interval("int", 10, 500), 100, step=10)
    assert isinstance(steps, w.IntSlider)
    assert (steps.min, steps.max, steps.step, steps.value) == (10, 500, 10, 100)
    beta = widgets.slider("beta", Interval("real", 0.0, 0.99), 0.9, step=0.01, readout_format=".2f")
    assert isinstance(beta, w.FloatSlider) and (beta.min, beta.max, beta.value) == (0.0, 0.99, 0.9)
    lr = widgets.slider("lr", Interval("real", 1e-3, 1.0), 0.1, log=True)
    assert isinstance(lr, w.FloatLogSlider) and (lr.min, lr.max) == pytest.approx((-3.0, 0.0))
    b = widgets.slider("batch_size", Options((8, 32, 128)), 32)
    assert isinstance(b, w.SelectionSlider) and b.options == (8, 32, 128)
    for ctl, c in [(steps, Interval("int", 10, 500)), (b, Options((8, 32, 128)))]:
        assert ctl.constraint == c
    # a default outside the declared range names the parameter; an open or unbounded range has no slider
    with pytest.raises(ValueError, match=r"^steps must be an integer in \[10, 500\]; got 5$"):
        widgets.slider("steps", Interval("int", 10, 500), 5)
    with pytest.raises(ValueError, match="^batch_size must be one of"):
        widgets.slider("batch_size", Options((8, 32)), 16)
    for open_range in (BETA, Interval("int", 1, None)):
        with pytest.raises(ValueError, match="closed, finite range"):
            widgets.slider("x", open_range, 0 if open_range.kind == "real" else 1, step=0.1)
    with pytest.raises(ValueError, match="needs a step"):
        widgets.slider("x", Interval("real", 0.0, 1.0), 0.5)
    with pytest.raises(ValueError, match="Interval or Options"):
        widgets.slider("x", (0, 1), 0)


def test_panel_update_checks_values_against_the_declared_range():
    """The boundary: a value typed in code meets the slider's constraint (coerced: 3.0 → 3, 1 → 1.0)."""
    from lecture_utils._validate import Interval, Options

    fig = Figure(figsize=(3, 2))
    line, = fig.subplots().plot([0, 1], [0, 1])
    seen = {}

    def update(steps, beta, mode):
        seen.update(steps=steps, beta=beta, mode=mode)
        line.set_ydata([0, beta])
        return f"{steps} {beta:.2f} {mode}"

    p = widgets.Panel(fig, update, {"steps": widgets.slider("steps", Interval("int", 1, 50), 5),
                                    "beta": widgets.slider("beta", Interval("real", 0.0, 0.99), 0.5,
                                                           step=0.01),
                                    "mode": widgets.slider("mode", Options(("sgd", "momentum")), "sgd")})
    assert p.update(steps=3.0, beta=0) == "3 0.00 sgd"
    assert type(seen["steps"]) is int and type(seen["beta"]) is float
    for kwargs, msg in [(dict(steps=0), r"^steps must be an integer in \[1, 50\]; got 0$"),
                        (dict(steps=2.5), "^steps must be an integer"),
                        (dict(beta=0.995), r"^beta must be a real number in \[0.0, 0.99\]; got 0.995$"),
                        (dict(beta=float("nan")), "^beta must be"),
                        (dict(mode="adam"), "^mode must be one of")]:
        with pytest.raises(ValueError, match=msg):
            p.update(**kwargs)
    assert p.caption == "3 0.00 sgd", "a refused value must not redraw the panel"
    assert p.update(steps=50, beta=0.99, mode="momentum") == "50 0.99 momentum"   # both ends are inside


# ----------------------------------------------------------------------------- the PNG encoder
def _png_parts(png):
    """(IHDR fields, the zlib stream of the IDAT chunks) of a PNG, each chunk's CRC checked."""
    import struct
    import zlib

    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, ihdr = 8, b"", None
    while pos < len(png):
        n = struct.unpack(">I", png[pos:pos + 4])[0]
        tag, data = png[pos + 4:pos + 8], png[pos + 8:pos + 8 + n]
        assert struct.unpack(">I", png[pos + 8 + n:pos + 12 + n])[0] == zlib.crc32(tag + data) & 0xFFFFFFFF
        if tag == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", data)
        idat += data if tag == b"IDAT" else b""
        pos += 12 + n
    return ihdr, idat


def _frames():
    import numpy as np

    rng = np.random.default_rng(0)
    flat = np.full((721, 1403, 4), 255, np.uint8)          # a figure: flat colours, a few lines
    flat[100:600, 200:1300, :3] = (31, 119, 180)
    flat[::37, :, :3] = 0
    noisy = rng.integers(0, 256, (97, 131, 4), dtype=np.uint8)
    return [flat, noisy, rng.integers(0, 256, (1, 1, 4), dtype=np.uint8),
            rng.integers(0, 256, (3, 5, 4), dtype=np.uint8)]   # fewer rows than bands


@pytest.mark.parametrize("level", [widgets.LIVE_COMPRESS, widgets.STORED_COMPRESS])
def test_rgba_png_decodes_to_its_pixels(level):
    """Lossless: Pillow and zlib (which checks the combined Adler-32) read back every pixel."""
    import io
    import zlib

    import numpy as np
    from PIL import Image

    for a in _frames():
        png = widgets.rgba_png(a, level)
        ihdr, idat = _png_parts(png)
        assert ihdr == (a.shape[1], a.shape[0], 8, 6, 0, 0, 0)
        raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(a.shape[0], 1 + 4 * a.shape[1])
        assert (raw[:, 0] == 0).all() and np.array_equal(raw[:, 1:].reshape(a.shape), a)  # filter "none"
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), a)


def test_adler32_combine_is_zlibs():
    import zlib

    import numpy as np

    data = np.random.default_rng(1).integers(0, 256, 200_000, dtype=np.uint8).tobytes()
    for cut in (0, 1, 65521, 65522, 131042, 199_999, 200_000):
        a, b = data[:cut], data[cut:]
        assert widgets._adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(data)


@pytest.fixture
def fresh_encoder(monkeypatch):
    """The encoder as on a first call: no pool yet, threads assumed to work (restored afterwards)."""
    monkeypatch.setattr(widgets, "_PNG_THREADS", None)
    monkeypatch.setattr(widgets, "_THREADS_OK", True)


def test_rgba_png_where_threads_cannot_start(fresh_encoder, monkeypatch):
    """A thread that cannot start (RuntimeError "can't start new thread") costs nothing but speed: the
    same bands are compressed one after the other, into the same bytes, and no pool is tried again."""
    import threading

    want = [widgets.rgba_png(a) for a in _frames()]
    monkeypatch.setattr(widgets, "_PNG_THREADS", None)

    def no_thread(self):
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", no_thread)
    assert [widgets.rgba_png(a) for a in _frames()] == want
    assert widgets._THREADS_OK is False and widgets._png_thread_pool() is None


def test_rgba_png_where_threads_do_not_exist(fresh_encoder, monkeypatch):
    """Pyodide (sys.platform "emscripten") and WASI have no threads: no pool is made, same bytes."""
    want = [widgets.rgba_png(a) for a in _frames()]
    for platform in ("emscripten", "wasi"):
        monkeypatch.setattr(widgets, "_PNG_THREADS", None)
        monkeypatch.setattr(widgets.sys, "platform", platform)
        assert widgets._png_thread_pool() is None
        assert [widgets.rgba_png(a) for a in _frames()] == want
        assert widgets._PNG_THREADS is None


def test_an_error_that_is_not_about_threads_is_not_hidden(fresh_encoder, monkeypatch):
    class Pool:
        def map(self, fn, it):
            raise RuntimeError("disk full")

    monkeypatch.setattr(widgets, "_PNG_THREADS", Pool())
    with pytest.raises(RuntimeError, match="disk full"):
        widgets.rgba_png(_frames()[0])
