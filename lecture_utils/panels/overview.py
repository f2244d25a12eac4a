"""The warm-up panel of notebook 00: gradient descent on L(θ) = θ², one η slider.

Shows how every panel of the course works: move the slider, the figure and the caption follow.
GD on L(θ) = θ² multiplies θ by (1 − 2η) each step, so it converges for 0 < η < 1 and diverges above.
"""
from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from .. import widgets
from .._validate import LR, Interval, check_array, validate_params
from ..i18n import _, language, ngettext
from ..optim import momentum_path
from ..plotting import COLORS, set_status, status_text
from ..timing import pad as _pad


def parabola_path(lr, steps=12, theta0=2.0):
    """θᵗ of gradient descent on L(θ) = θ² (∇L = 2θ): θᵗ = (1 − 2η)ᵗ θ⁰."""
    return momentum_path(lambda th: 2 * th, np.array([theta0]), lr=lr, beta=0.0, steps=steps)[:, 0]


@validate_params(lr=LR)
def theta_line(lr, path):
    """Notebook 00 §3: where gradient descent on θ² with step size ``lr`` ends, ``path`` being its
    :func:`parabola_path` (θ⁰, θ¹, …: a 1-D array of at least two values)."""
    path = check_array("path", path, ndim=1)
    if len(path) < 2:
        raise ValueError(f"path must hold θ⁰ and at least one step (2 or more values); got {len(path)}")
    return _("η = {lr:<4}  θ after {steps} steps = {theta:+.3e}").format(lr=lr, steps=len(path) - 1,
                                                                        theta=path[-1])


def versions_text(modules, threads):
    """Notebook 00 §5: the version of each of ``modules`` and torch's thread count (``threads``: the
    course's THREADS, which seed_everything sets)."""
    import torch

    lines = [f"{m.__name__:<14}{m.__version__.split('+')[0]}" for m in modules]
    lines.append(_("torch threads {n} (fixed by seed_everything; THREADS = {threads})").format(
        n=torch.get_num_threads(), threads=threads))
    return "\n".join(lines)


def machine_text():
    """Notebook 00 §5: this machine's CPU cores, architecture and Python, and its GPU (or that there is
    none: every notebook runs on the CPU)."""
    import os
    import platform

    from ..timing import cuda_available

    lines = [_("CPU cores: {cores} · machine: {machine} · Python {python}").format(
        cores=os.cpu_count(), machine=platform.machine(), python=platform.python_version())]
    if cuda_available():
        import torch

        lines.append(_("GPU: {name}").format(name=torch.cuda.get_device_name(0)))
    else:
        lines.append(_("GPU: none (every notebook runs on the CPU)"))
    return "\n".join(lines)


#: η of the warm-up panel (its slider's range) and the number of steps drawn.
DEMO_LR = Interval("real", 0.02, 1.1)
DEMO_STEPS = Interval("int", 1, 200)


@validate_params(lr=DEMO_LR, steps=DEMO_STEPS)
def demo_panel(lr=0.2, steps=12):
    """The η slider over gradient descent on θ² (η in :data:`DEMO_LR`, steps in :data:`DEMO_STEPS`)."""
    fig = Figure(figsize=(7, 3.6), layout="constrained")
    ax = fig.subplots()
    xs = np.linspace(-3, 3, 200)
    ax.plot(xs, xs**2, color=COLORS["muted"])
    line, = ax.plot([], [], "-o", color=COLORS["small"], ms=5, lw=1)
    ax.set_xlim(-3, 3)
    ax.set_ylim(-0.3, 9.5)
    ax.set_xlabel("θ")
    ax.set_ylabel("L(θ) = θ²")
    msg = status_text(ax)

    n_steps = ngettext("{n} step", "{n} steps", steps).format(n=steps)

    def update(lr):
        path = parabola_path(lr, steps)
        shown = path[np.abs(path) <= 3]
        line.set_data(shown, shown**2)
        factor = 1 - 2 * lr
        ax.set_title(_("gradient descent, η = {lr:.2f}: θ is multiplied by {factor:+.2f} each step")
                     .format(lr=lr, factor=factor))
        if abs(abs(factor) - 1) < 1e-9:
            set_status(msg, _("no progress: |1 − 2η| = 1"))
            return _("η = {lr:.2f}: every step multiplies θ by {factor:+.2f}, so θ jumps between "
                     "{start:g} and {end:g} for ever — it neither converges nor blows up.").format(
                lr=lr, factor=factor, start=path[0], end=-path[0])
        if abs(factor) > 1:
            set_status(msg, _("diverges: |1 − 2η| = {factor:.2f} ≥ 1").format(factor=abs(factor)))
            return _("η = {lr:.2f}: every step multiplies θ by {factor:+.2f}; |1 − 2η| ≥ 1, so θ grows and "
                     "the path <b>diverges</b> (after {n_steps} |θ| = {theta:.3g}).").format(
                lr=lr, factor=factor, n_steps=n_steps, theta=abs(path[-1]))
        set_status(msg, None)
        if abs(factor) < 1e-9:
            return _("η = {lr:.2f}: 1 − 2η = 0, so the first step lands exactly on the minimum θ = 0."
                     ).format(lr=lr)
        if factor < 0:
            return _("η = {lr:.2f}: every step multiplies θ by {factor:+.2f}, so the path zig-zags across "
                     "the minimum and after {n_steps} θ = {theta:.3g}.").format(
                lr=lr, factor=factor, n_steps=n_steps, theta=path[-1])
        return _("η = {lr:.2f}: every step multiplies θ by {factor:+.2f}, so the path slides down one side "
                 "and after {n_steps} θ = {theta:.3g}.").format(
            lr=lr, factor=factor, n_steps=n_steps, theta=path[-1])

    control = widgets.slider("lr", DEMO_LR, lr, step=0.02, description=_("learning rate η"),
                             readout_format=".2f")
    return widgets.Panel(fig, update, {"lr": control},
                         title=_("warm-up: gradient descent on θ²"), dynamic=[line, ax.title, msg])


# ---------------------------------------------------------------------------------------- the route (§1)
def lesson_budget():
    """``scripts/lesson_budget.py`` as a module (the scripts are not a package): the one rule that gives
    every notebook's core and deep-dive minutes."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "lesson_budget.py"
    spec = importlib.util.spec_from_file_location("lesson_budget", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def route(lb=None):
    """Per notebook of the course (course_files.NOTEBOOKS): name, core minutes, deep-dive minutes and the
    core ``##`` sections a class takes, each with its minutes, all by :func:`lesson_budget`'s rule."""
    import nbformat

    lb = lb or lesson_budget()
    out = []
    for path in lb.course_files.NOTEBOOKS:
        if not path.is_file():
            continue
        nb = nbformat.read(str(path), as_version=4)
        b = lb.budget(nb)
        secs = [(lb.SECTION_TIME.sub("", p["title"])[3:].strip(), p["minutes"]) for p in lb.sections(nb)
                if not p["deep"] and p["title"].startswith("## ")]
        secs = _titles_in_language(lb, path, secs)
        out.append({"name": path.stem, "core": b["core"]["minutes"], "deep": b["deep"]["minutes"],
                    "sections": secs})
    return out


def _titles_in_language(lb, path, secs):
    """``secs`` (English titles, minutes by the rule on the English notebook) with the titles of the Chinese
    edition (``notebooks/zh/``) when the output is Chinese and that notebook has the same core sections."""
    import nbformat

    zh = path.parent / "zh" / path.name
    if language() != "zh" or not zh.is_file():
        return secs
    titles = [p["title"][3:].strip() for p in lb.sections(nbformat.read(str(zh), as_version=4))
              if not p["deep"] and p["title"].startswith("## ")]
    if len(titles) != len(secs):
        return secs
    return [(t, m) for t, (_t, m) in zip(titles, secs)]


def route_text(rows=None):
    """:func:`route` as a fixed-width table: one line per notebook with its core and deep-dive minutes, and
    the total of the cores (the class route)."""
    rows = route() if rows is None else rows
    lines = [" ".join((_pad(_("notebook"), 32), _pad(_("core"), 8, right=True),
                       _pad(_("deep dives"), 11, right=True)))]
    lines += [_("{name} {core:>4} min {deep:>7} min").format(name=_pad(r["name"], 32), core=r["core"],
                                                             deep=r["deep"]) for r in rows]
    lines.append(_("{name} {core:>4} min {deep:>7} min").format(
        name=_pad(_("all cores (the class route)"), 32), core=sum(r["core"] for r in rows),
        deep=sum(r["deep"] for r in rows)))
    return "\n".join(lines)


def _short(title):
    """A section title up to its first ':' or ' (' ("5 · The race: small …" → "5 · The race"; in a Chinese
    title also '：' or '（')."""
    for sep in (":", " (", "：", "（"):
        title = title.split(sep, 1)[0]
    return title.strip()


def sections_text(rows=None, width=96):
    """The core sections a class takes in each notebook, each with its minutes (short titles, wrapped)."""
    import textwrap

    rows = route() if rows is None else rows
    width = width if language() != "zh" else width * 2 // 3   # a Chinese character is two columns wide
    lines = []
    for r in rows:
        secs = " | ".join(_("{title} {minutes}\u00a0min").format(title=_short(t), minutes=m)
                          for t, m in r["sections"])   # no break in "N min"
        if language() == "zh":   # nor between a section's number and its title
            secs = secs.replace(" · ", "\u00a0·\u00a0")
        lines += textwrap.wrap(f"{r['name'][:2]}: {secs}", width, subsequent_indent="    ")
    return "\n".join(lines)
