"""Figure style readable on a projector, consistent colours, and small drawing helpers.

Every notebook calls :func:`use_style` once. Figures are PNG (never SVG: SVG output changes
on every run and would break the stored-output tests).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

#: One colour per role, the same in every notebook. Every line colour of the course has at least 3:1
#: contrast against the white background (WCAG's minimum for graphics; a projector washes colours out),
#: checked by tests/test_plotting.py with :func:`contrast_on_white`.
COLORS = {
    "full": "#d62728",      # full batch / gradient descent: red
    "small": "#1f77b4",     # small batch / SGD: blue
    "medium": "#2ca02c",
    "momentum": "#9467bd",  # momentum: purple
    "gradient": "#d95f02",  # −η·g arrows: dark orange (#ff7f0e had 2.5:1 contrast on white)
    "train": "#1f77b4",
    "test": "#d62728",
    "muted": "#7f7f7f",
}


#: The line colours matplotlib cycles through (tab10 with its pale members — orange, pink, olive, cyan —
#: replaced by darker ones of about the same hue): all at least 3:1 on white.
CYCLE = ["#1f77b4", "#d95f02", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#c51b7d", "#7f7f7f",
         "#7a7a00", "#0e7c86"]

#: Batch sizes on a log scale: blue (B = 1) → purple → magenta → red (B = N). coolwarm's light grey
#: middle made B ≈ 32–128 almost invisible on a projector; every colour here is at least 3:1 on white.
BATCH_COLORS = ("#2166ac", "#7b3294", "#c51b7d", "#b2182b")


def contrast_on_white(color):
    """WCAG contrast ratio (1.05)/(L + 0.05) of ``color`` against white, L its relative luminance
    (sRGB channels linearised: c/12.92 below 0.04045, ((c + 0.055)/1.055)^2.4 above)."""
    import matplotlib.colors as mcolors

    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in mcolors.to_rgb(color)]
    lum = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    return 1.05 / (lum + 0.05)


def use_style(dpi=90):
    """Large fonts and thick lines (projector), PNG inline figures, no SVG.

    Inline figures are "retina" PNGs: drawn at 2 × ``dpi`` and stored with width/height metadata
    of the 1 × size, so a projector or HiDPI screen shows them crisply at their intended size (the
    panels of :mod:`lecture_utils.widgets` do the same with ``Panel.scale``)."""
    import matplotlib as mpl

    mpl.rcParams.update({
        "figure.dpi": dpi,
        "savefig.dpi": dpi,
        "figure.figsize": (9.0, 4.0),
        "font.size": 12,
        "axes.titlesize": 13,
        "axes.labelsize": 12,
        "legend.fontsize": 10,
        "lines.linewidth": 2.0,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "viridis",
        "axes.prop_cycle": mpl.cycler(color=CYCLE),
        "svg.hashsalt": "lecture_utils",
    })
    use_cjk_font()
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats
        set_matplotlib_formats("retina")
    except Exception:  # not in IPython
        pass


#: The course's Chinese font (a subset of Noto Sans CJK SC, SIL OFL 1.1; scripts/make_cjk_font.py makes it).
CJK_FONT = Path(__file__).resolve().parent / "fonts" / "NotoSansSC-course.otf"
CJK_FAMILY = "Course CJK"


def use_cjk_font():
    """In Chinese (:func:`lecture_utils.i18n.language` is ``"zh"``): register the course's CJK font with
    matplotlib and put it first in ``font.family``, before the family already there (``sans-serif``, that is
    DejaVu Sans, the fallback for a glyph it lacks). The course font carries its own digits, Latin, Greek and
    common math symbols, because tick labels are mathtext (``$\\mathdefault{10^{-1}}$``), which uses the first
    font only. Cheap and idempotent; in English it does nothing. True when the font is used."""
    from .i18n import language

    if language() != "zh":
        return False
    import matplotlib as mpl
    from matplotlib import font_manager

    if CJK_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(str(CJK_FONT))
    family = mpl.rcParams["font.family"]
    family = [family] if isinstance(family, str) else list(family)
    mpl.rcParams["font.family"] = [CJK_FAMILY, *[f for f in family if f != CJK_FAMILY]]
    return True


def batch_color(batch_size, n_examples):
    """Colour for a batch size on a log scale, t = log B / log N, from blue (B = 1) through purple to
    red (B = N) (:data:`BATCH_COLORS`; notebooks 01 and 02)."""
    from matplotlib.colors import LinearSegmentedColormap

    t = 0.0 if n_examples <= 1 else np.log(batch_size) / np.log(n_examples)
    cmap = LinearSegmentedColormap.from_list("batch", BATCH_COLORS)
    return cmap(float(np.clip(t, 0, 1)))


def status_text(ax):
    """An empty, centred text artist on ``ax`` for messages such as "diverged" (see :func:`set_status`)."""
    return ax.text(0.5, 0.5, "", transform=ax.transAxes, ha="center", va="center", fontsize=14,
                   color="#b00000", zorder=10,
                   bbox=dict(boxstyle="round", facecolor="white", edgecolor="#b00000", alpha=0.9),
                   visible=False)


def set_status(text_artist, message):
    """Show ``message`` in ``text_artist`` (``None`` or ``""`` hides it)."""
    text_artist.set_text(message or "")
    text_artist.set_visible(bool(message))


def contour(ax, f, xlim, ylim, *, n=120, levels=20, log=True, cmap="Greys"):
    """Contour map of a function ``f`` of points of shape (..., 2) over a rectangle."""
    xs = np.linspace(*xlim, n)
    ys = np.linspace(*ylim, n)
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    z = f(grid)
    if log:
        z = np.log10(z - z.min() + 1e-3)
    cs = ax.contour(xs, ys, z, levels=levels, cmap=cmap, linewidths=0.8, alpha=0.8)
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    return cs


def plot_finite(ax, x, y, *, status=None, what="the run", limit=1e6, **kwargs):
    """``ax.plot(x, y)`` of the finite part of ``y``: from the first value that is NaN, ±inf or
    |y| > ``limit`` on, the curve is cut (NaN, not drawn) instead of stretching the axes, and the axes
    say so in a red box: "<what> diverged after step k" (with ``status`` an existing :func:`status_text`
    artist, else a new one). Never a blank or crashing plot. Returns ``(line, diverged_at)``
    (``diverged_at`` is None when every value is finite). For static figures whose run can diverge
    (a large η, β near 1); the panels use status_text/set_status."""
    y_cut = np.array(y, dtype=float, copy=True)
    bad = ~np.isfinite(y_cut) | (np.abs(y_cut) > limit)
    if y_cut.ndim > 1:
        bad = np.any(bad, axis=tuple(range(1, y_cut.ndim)))
    first = int(np.argmax(bad)) if bad.any() else None
    if first is not None:
        y_cut[first:] = np.nan
    (line,) = ax.plot(x, y_cut, **kwargs)
    if first is not None:
        xs = np.asarray(x)
        where = (f"step {xs[first]:g}" if xs.ndim == 1 and len(xs) > first and np.isscalar(xs[first])
                 else f"point {first}")
        if status is None:
            status = status_text(ax)
        set_status(status, f"{what} diverged after {where} (values became NaN / inf)")
    elif status is not None:
        set_status(status, None)
    return line, first
