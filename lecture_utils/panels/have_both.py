"""Notebook 04 ("Having both"): tables, figures and the batch-size panel, drawn from cached sweeps.

The numbers come from :mod:`lecture_utils.tuning` (η tuned per B, warm-up counts and divergences,
the critical batch, statistics over seeds) and :mod:`lecture_utils.small_vs_large` (the summary
table's cells); this module only turns them into text, figures and a caption. Nothing here trains.

* :func:`protocol_table` / :func:`protocol_figure` — small batch, large batch at η, at 16·η with
  and without warm-up, and trained longer (sections 1–2); :func:`train_longer_table`;
* :func:`tuned_table` / :func:`tuned_figure` / :func:`tuned_verdict` — η tuned for every B (section 1);
* :func:`warmup_table` / :func:`warmup_figure` / :func:`stability_line` — divergences per warm-up
  length W (0, 20, 100, 400 updates), λ_max·η/2 along the runs (section 1);
* :func:`scaling_panel` — batch size × (η fixed or scaled) × (warm-up off/on) among cached runs;
* :func:`critical_table` / :func:`noise_table` / :func:`critical_figure` — steps to a target
  against B, the fit S = S_min(1 + B_crit/B) and the noise scale B_simple (section 3);
* :func:`lars_table` / :func:`lars_figure` / :func:`trust_ratio_line` — trust ratios ‖w‖/‖∇w‖ per
  layer and LARS against SGD (section 4);
* :func:`parallel_report` / :func:`parallel_table` — data-parallel weights against the
  single-process run (section 5);
* :func:`summary_table` — the lecture's small-vs-large table from the caches of notebooks 01–04.

Every "±" printed or drawn here is a 95 % t-interval over the seeds (n − 1 degrees of freedom,
:func:`lecture_utils.stats.mean_ci`; a tuned-against-tuned difference the paired interval
:func:`lecture_utils.stats.paired_diff_ci`), and the text says so. The test set's own sampling
error (1,000 examples: √(p(1−p)/1000) ≈ 0.015 per accuracy, :func:`lecture_utils.stats.binomial_se`)
is not in a seed interval; the tables name it.

The exercises' self-checks live in :mod:`lecture_utils.checks`. The row functions of
:mod:`lecture_utils.tuning` (``protocol_rows``, ``tuned_rows``, ``stability_numbers``, …) and
``summary_rows`` stay importable from here for the notebook and older code.
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting, stats
from .._validate import Options
from ..data import N_TRAIN, updates_per_epoch
from ..i18n import _
from ..small_vs_large import LARGE, SMALL, summary_rows
from ..sweeps.have_both import MODES, grid_key, seed_key
from ..sweeps.warmup import run_key as warmup_key
from ..timing import pad
from ..tuning import (
    critical_fit,
    critical_numbers,
    critical_rows,
    noise_rows,
    protocol_differences,
    protocol_numbers,
    protocol_rows,
    record_parts,
    stability_at,
    stability_numbers,
    train_longer_rows,
    tuned_cells,
    tuned_differences,
    tuned_numbers,
    tuned_rows,
    warmup_acc_differences,
    warmup_contrast,
    warmup_rows,
)
from ..widgets import Panel, slider
from . import reads_sweep

__all__ = [
    # drawn here
    "protocol_table", "protocol_figure", "rule_limits", "scaling_panel", "lars_table", "lars_figure",
    "trust_ratio_line", "parallel_report", "parallel_table", "summary_table", "tuned_table", "tuned_figure",
    "tuned_verdict", "warmup_verdict", "warmup_table", "warmup_figure", "stability_line", "critical_table",
    "noise_table", "critical_figure", "train_longer_table",
    # the numbers, from lecture_utils.tuning and lecture_utils.small_vs_large
    "critical_fit", "critical_numbers", "critical_rows", "noise_rows", "protocol_differences",
    "protocol_numbers", "protocol_rows", "stability_at", "stability_numbers", "summary_rows",
    "train_longer_rows", "tuned_cells", "tuned_numbers", "tuned_rows",
    "warmup_acc_differences", "warmup_contrast", "warmup_rows",
]


def _fmt_or_dash(v, spec=".3f", none="—"):
    """``v`` formatted with ``spec``; ``none`` for None, NaN and ±inf."""
    return none if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def _ci_text(ci, spec=".3f"):
    """A :class:`lecture_utils.stats.MeanCI` as "0.721 ± 0.009" at ``spec`` (its 95 % t-interval;
    one seed: "0.721 (1 seed, no interval)"); "—" for None."""
    return "—" if ci is None else ci.short(spec)


#: The test set's own sampling error of one accuracy near 0.7 (1,000 examples), named under tables
#: (English; :func:`_test_se_note` gives it in the notebook's language).
TEST_SE_NOTE = (f"one test set of 1,000 examples: its own sampling error, s.e. √(p(1−p)/1000) ≈ "
                f"{stats.binomial_se(0.7, 1000):.3f} per accuracy, is not in a seed interval")


def _test_se_note():
    """:data:`TEST_SE_NOTE` in the notebook's language."""
    return _("one test set of 1,000 examples: its own sampling error, s.e. √(p(1−p)/1000) ≈ {se:.3f} per "
             "accuracy, is not in a seed interval").format(se=stats.binomial_se(0.7, 1000))


def _fit(text, spec):
    """``format(text, spec)`` (e.g. ``"<46"``) with the width counted in columns: a Chinese character
    takes two, so the padding is shortened by one per wide character (English: plain ``format``)."""
    align, width = (spec[0], spec[1:]) if spec[:1] in "<>" else ("<", spec)
    return pad(text, int(width), right=align == ">")


def _columns(*cols):
    """A table header: ``(text, spec)`` pairs, each :func:`_fit` to its width, joined by single spaces."""
    return " ".join(_fit(text, spec) for text, spec in cols)


def _protocol_name(name):
    """A row name of :func:`lecture_utils.tuning.protocol_rows` in the notebook's language."""
    return {"small batch": _("small batch"),
            "large batch at η, same epochs": _("large batch at η, same epochs"),
            "large batch at η, to 100 % train": _("large batch at η, to 100 % train"),
            "large batch at η, same updates (train longer)":
                _("large batch at η, same updates (train longer)"),
            "large batch at scaled η, no warm-up": _("large batch at scaled η, no warm-up"),
            "large batch at scaled η + warm-up": _("large batch at scaled η + warm-up")}.get(name, name)


def _mode_word(mode):
    """η mode ``fixed``/``scaled`` of the grid in the notebook's language."""
    return {"fixed": _("fixed"), "scaled": _("scaled")}.get(mode, mode)


def _two_digits(v):
    """A summary cell: a number at 2 significant digits, an int, or a MeanCI as "m ± half" (95 %
    t-interval) at the mean's digits (3 decimals below 1, 1 below 100, none above)."""
    if isinstance(v, stats.MeanCI):
        a = abs(v.mean)
        return v.short(".0f" if a >= 100 else ".1f" if a >= 10 else ".2f" if a >= 1 else ".3f")
    if v is None:
        return "—"
    if isinstance(v, int):
        return str(v)
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2g}" if a < 1 else f"{v:.2f}"


def _nan_for_none(values):
    """``values`` as a float array, None as NaN (a diverged run's accuracy)."""
    return np.array([np.nan if v is None else v for v in values], float)


# ----------------------------------------------------------------------------- sections 1–2
def protocol_line(record):
    """The set-up cell's line: the protocol of the sweep ``have_both`` (train to the target training
    accuracy within an epoch budget), its seeds, and the base batch size B₀ with its η₀."""
    p = record_parts(record, "have_both")[1]
    return _("protocol: train to {acc:.0%} training accuracy (at most {epochs} epochs), seeds {seeds}, "
             "base B0 = {b0} at η0 = {lr0}").format(acc=p["target_train_acc"], epochs=p["max_epochs"],
                                                    seeds=p["seeds"], b0=p["base"]["batch_size"],
                                                    lr0=p["base"]["lr"])


def protocol_table(record):
    """Sections 1–2 as text: one row per setting, means over the seeds and the test accuracy with its
    95 % t-interval (wall time of the cache's machine)."""
    p = record_parts(record, "have_both")[1]
    lines = [_("seeds {seeds}: means; test acc ± 95 % t-interval ({n} seeds)").format(
                 seeds=p['seeds'], n=len(p['seeds'])), _test_se_note(),
             _columns((_("setting"), "<46"), ("B", ">5"), ("η", ">5"), ("W", ">4"), (_("epochs"), ">7"),
                      (_("updates"), ">8"), (_("time s"), ">7"), (_("test acc"), ">14"))]
    for r in protocol_rows(record):
        acc = _("not reached") if r["ci"] is None else _ci_text(r["ci"])
        lines.append(f"{_fit(_protocol_name(r['name']), '<46')} {r['batch_size']:>5} {r['lr']:>5.2g} "
                     f"{r['warmup_steps']:>4} "
                     f"{_fmt_or_dash(r['epochs'], '.0f'):>7} {_fmt_or_dash(r['steps'], '.0f'):>8} "
                     f"{_fmt_or_dash(r['seconds'], '.1f'):>7} {_fit(acc, '>14')}")
    label, ci = protocol_differences(record)[0]
    lines.append(_("paired per seed: {label}: {mean:+.3f} ± {half:.3f} ({ci})").format(
        label=label, mean=ci.mean, half=ci.half, ci=ci.label))
    return "\n".join(lines)


def baseline_line(record, general_record=None):
    """B₀ at η₀ here and in notebook 03's ``generalization`` cache (the same stopping rule and one
    torch thread): both means with their 95 % t-intervals and the per-seed values, so a reader sees
    what the two printed baselines rest on. A missing 03 cache is named, never filled in."""
    from .. import sweeps

    res, p = record_parts(record, "have_both")
    b0 = p["base"]["batch_size"]
    mine = [res["protocol"]["per_seed"][seed_key(s)]["small"]["test_acc"] for s in p["seeds"]]
    ci = stats.mean_ci(mine)
    line = _("B = {b0} at η = {lr:g}, this cache: {mean:.3f} ± {half:.3f} (seeds {values}; "
             "{threads} torch thread)").format(
        b0=b0, lr=p['base']['lr'], mean=ci.mean, half=ci.half, values=', '.join(f'{a:.3f}' for a in mine),
        threads=p['threads'])
    try:
        g = general_record if general_record is not None else sweeps.load("generalization")
    except LookupError as exc:
        return f"{line}\n" + _("notebook 03's cache: not available ({error})").format(error=exc)
    theirs = [r["test_acc"] for r in sorted(g["results"]["runs"][str(b0)], key=lambda r: r["seed"])]
    cg = stats.mean_ci(theirs)
    return f"{line}\n" + _("notebook 03's cache:  {mean:.3f} ± {half:.3f} (seeds {values}; {threads} torch "
                           "thread, η = {lr:g}); 95 % t-intervals, 3 seeds").format(
        mean=cg.mean, half=cg.half, values=', '.join(f'{a:.3f}' for a in theirs),
        threads=g['params']['threads'], lr=g['params']['lr'])


def protocol_figure(record):
    """Test accuracy against epochs and against updates (log) for seed 0: B₀ at η₀, B at η₀
    (trained longer) and B at η₀·B/B₀ with warm-up. The right panel is the lecture's point:
    per update the large batch at scaled η does as much as the small one, so it needs 16× fewer."""
    import matplotlib.pyplot as plt

    res, p = record_parts(record, "have_both")
    b0, b = p["base"]["batch_size"], p["large_batch"]
    grid = res["grid"]["runs"]
    warm = grid[grid_key(b, "scaled", 1)]
    longer = res["protocol"]["per_seed"][seed_key(p["seeds"][0])]["large"]
    curves = [(f"B = {b0}, η = {p['base']['lr']:g}", grid[grid_key(b0, "fixed", 0)]["history"],
               plotting.COLORS["small"]),
              (_("B = {b}, η = {lr:g} (trained longer)").format(b=b, lr=p['base']['lr']),
               longer["history"], plotting.COLORS["full"]),
              (_("B = {b}, η = {lr:g} + warm-up").format(b=b, lr=warm['lr']), warm["history"],
               plotting.COLORS["medium"])]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for label, h, color in curves:
        acc = _nan_for_none(h["test_acc"])
        axes[0].plot(np.array(h["epoch"], float), acc, color=color, ls="-", label=label)
        axes[1].plot(np.maximum(np.array(h["step"], float), 1), acc, color=color, ls="-")
    axes[0].set_xlabel(_("epoch"))
    axes[0].set_xlim(0, 160)
    axes[1].set_xscale("log")
    axes[1].set_xlabel(_("updates (log scale)"))
    for ax in axes:
        ax.set_ylabel(_("test accuracy"))
        ax.set_ylim(0, 0.8)
    axes[0].legend(loc="lower right", fontsize=9)
    axes[0].set_title(_("per epoch"))
    axes[1].set_title(_("per update"))
    fig.tight_layout()
    return fig


def rule_limits(record):
    """Where the linear rule breaks, read off the cached grid: for each B ≥ the large batch, the
    scaled η with and without warm-up and what happened (diverged / test accuracy)."""
    res, p = record_parts(record, "have_both")
    runs = res["grid"]["runs"]
    lines = []
    for b in res["grid"]["batch_sizes"]:
        if b < p["large_batch"]:
            continue
        parts = []
        for warm in (0, 1):
            r = runs[grid_key(b, "scaled", warm)]
            what = (_("diverged") if r["status"] == "diverged"
                    else _("test acc {acc:.2f}").format(acc=r['test_acc']))
            if r["status"] not in ("diverged", "target_reached"):
                what += _(" (train acc {acc:.2f}, not 100 %)").format(acc=r['train_acc'])
            parts.append((_("with warm-up: {what}") if warm else _("no warm-up: {what}")).format(what=what))
        lines.append(f"B = {b:>4}, η = {runs[grid_key(b, 'scaled', 0)]['lr']:>5.3g}: " + "; ".join(parts))
    return "\n".join(lines)


def train_longer_table(record, tuned_record):
    """:func:`lecture_utils.tuning.train_longer_rows` as text (test accuracy ± its 95 % t-interval)."""
    lines = [_columns((_("run"), "<52"), ("η", ">5"), (_("epochs"), ">7"), (_("updates"), ">8"),
                      (_("test acc ± 95 % t"), ">18"), (_("seeds"), ">5")) + "  " + _("source")]
    for r in train_longer_rows(record, tuned_record):
        lines.append(f"{_fit(r['name'], '<52')} {r['lr']:>5.2g} {_fmt_or_dash(r['epochs'], '.0f'):>7} "
                     f"{_fmt_or_dash(r['steps'], '.0f'):>8} {_fit(_ci_text(r['ci']), '>18')} "
                     f"{r['n']:>5}  {r['source']}")
    lines.append(_("each row is one protocol: trained longer only at η₀; the √B, linear and tuned η only to "
                   "100 % train (not combined)"))
    lines.append(_("paired per seed (same seeds, same test set):"))
    for label, ci in protocol_differences(record, tuned_record)[1:]:
        lines.append(f"  {label}: {ci.mean:+.3f} ± {ci.half:.3f} ({ci.label})")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the panel (section 1)
#: How the panel's right axes draw each (η mode, warm-up) line: marker, colour, legend label.
_GRID_STYLES = {("fixed", 0): ("o", plotting.COLORS["full"], "η fixed"),
                ("fixed", 1): ("o", "#f2a0a0", "η fixed + warm-up"),
                ("scaled", 0): ("s", plotting.COLORS["medium"], "η scaled"),
                ("scaled", 1): ("s", "#1b5e20", "η scaled + warm-up")}
_ACC_TICKS = [0, 0.2, 0.4, 0.6, 0.8]


def _grid_label(mode, warm):
    """The legend label of one (η mode, warm-up) line of the panel, in the notebook's language."""
    return {("fixed", 0): _("η fixed"), ("fixed", 1): _("η fixed + warm-up"),
            ("scaled", 0): _("η scaled"), ("scaled", 1): _("η scaled + warm-up")}[(mode, warm)]


def _run_caption(run, b, mode, warm, base_run, b0):
    """The caption of one cached grid run: what happened, and the base run's accuracy beside it."""
    acc = run["test_acc"]
    if run["status"] == "diverged":
        what = _("diverged after {steps} updates (loss became inf/NaN)").format(steps=run['steps'])
    elif run["status"] == "target_reached":
        what = _("100 % training accuracy after {epochs:.0f} epochs ({steps} updates); "
                 "test accuracy {acc:.2f}").format(epochs=run['epochs'], steps=run['steps'], acc=acc)
    else:
        what = _("no 100 % training accuracy within {epochs:.0f} epochs ({steps} updates): "
                 "training accuracy {train:.2f}, test accuracy {acc:.2f}").format(
            epochs=run['epochs'], steps=run['steps'], train=run['train_acc'], acc=acc)
    ref = "" if b == b0 else _(" (B = {b0} at η = {lr:g}: {acc:.2f})").format(
        b0=b0, lr=base_run['lr'], acc=base_run['test_acc'])
    w = _("warm-up over {steps} updates").format(steps=run['warmup_steps']) if warm else _("no warm-up")
    return _("B = {b}, η = {lr:g} ({mode}), {warmup}: {what}{ref}.").format(
        b=b, lr=run['lr'], mode=_mode_word(mode), warmup=w, what=what, ref=ref)


def _draw_base_curve(ax, base, b0, max_epochs):
    """Left axes: the base run's test accuracy per epoch (blue) and an empty line for the selected run
    (both returned: the panel redraws them when the x range changes)."""
    hb = base["history"]
    base_line = ax.plot(hb["epoch"], hb["test_acc"], color=plotting.COLORS["small"], lw=1.5)[0]
    line = ax.plot([], [], color="k", lw=2.5)[0]
    ax.set_xlim(0, max_epochs)
    ax.set_ylim(0, 0.8)
    ax.set_yticks(_ACC_TICKS)
    ax.set_xlabel(_("epoch"))
    ax.set_ylabel(_("test accuracy"))
    ax.text(0.98, 0.04, _("blue: B = {b0}, η = {lr:g}    black: selected").format(b0=b0, lr=base['lr']),
            transform=ax.transAxes, ha="right", fontsize=9)
    return base_line, line


def _draw_final_accuracies(ax, runs, bs, max_epochs):
    """Right axes: the test accuracy of every cached run when it stopped, against B (log x), one
    line per (η mode, warm-up). Two stopping rules, drawn apart: a filled marker stopped at 100 %
    training accuracy, a hollow one at the epoch limit ``max_epochs`` (or without progress) with
    training accuracy below 100 %; a diverged run has no point. Returns the empty ring that marks
    the selected run."""
    from matplotlib.lines import Line2D

    for (mode, warm), (mk, color, _label) in _GRID_STYLES.items():
        label = _grid_label(mode, warm)
        rs = [runs[grid_key(b, mode, warm)] for b in bs]
        acc = _nan_for_none(r["test_acc"] for r in rs)
        at_target = np.array([r["status"] == "target_reached" for r in rs])
        ax.plot(bs, acc, color=color, lw=1.5, label=label, marker=mk, ms=6, mfc="white", mec=color)
        ax.plot(np.array(bs)[at_target], acc[at_target], ls="none", marker=mk, ms=6, color=color)
    grey = plotting.COLORS["muted"]
    ax.legend(handles=ax.get_legend_handles_labels()[0] + [
        Line2D([], [], ls="none", marker="o", ms=6, color=grey, label=_("filled: at 100 % train")),
        Line2D([], [], ls="none", marker="o", ms=6, color=grey, mfc="white",
               label=_("hollow: at epoch {epochs:g}, train < 100 %").format(epochs=max_epochs))],
        loc="lower left", fontsize=7.5, title=_("diverged: no point"), title_fontsize=7.5)
    ring = ax.plot([], [], "o", ms=16, mfc="none", mec="k", mew=2)[0]
    ax.set_xscale("log")
    ax.set_xticks(bs, [str(b) for b in bs], fontsize=9)
    ax.minorticks_off()
    ax.set_ylim(0, 0.8)
    ax.set_yticks(_ACC_TICKS)
    ax.set_xlabel(_("batch size B"))
    ax.set_ylabel(_("test accuracy when the run stopped"))
    ax.grid(False)
    return ring


def epoch_axis_end(run, base_end, max_epochs):
    """The left axes' x range for one selected run: the last epoch of the run or of the base run,
    whichever is later, rounded up to the next 10 with room for the line's end (at most
    ``max_epochs``, the grid's epoch limit)."""
    last = max([base_end] + [e for e in run["history"]["epoch"] if e is not None])
    return float(min(max_epochs, 10 * math.ceil((last + 1) / 10)))


@reads_sweep("have_both")
def scaling_panel(record):
    """Batch size × η (fixed or scaled linearly) × warm-up (off/on), all cached (notebook 04, section 1).

    Left: test accuracy against epochs of the selected run and of the base B₀ run; right: the
    test accuracy of every cached run when it stopped against B (filled: at 100 % training
    accuracy; hollow: at the epoch limit below 100 %), the selected one ringed. The caption
    states the selected run's numbers. A slider move only switches cached curves; the controls'
    values are checked against their declared options by :meth:`Panel.update`.
    """
    import ipywidgets as w
    from matplotlib.figure import Figure

    res, p = record_parts(record, "have_both")
    runs, bs = res["grid"]["runs"], list(res["grid"]["batch_sizes"])
    b0 = p["base"]["batch_size"]
    base = runs[grid_key(b0, "fixed", 0)]
    fig = Figure(figsize=(10, 3.6))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    max_epochs = p.get("grid_max_epochs", p["max_epochs"])
    base_line, line = _draw_base_curve(ax, base, b0, max_epochs)
    status = plotting.status_text(ax)
    ring = _draw_final_accuracies(ax2, runs, bs, max_epochs)
    title = ax.set_title("")
    fig.tight_layout()  # once: layout at every redraw would cost time
    base_end = max(base["history"]["epoch"] or [0])

    def update(batch_size, eta, warmup):  # values already checked against the controls' options
        b, warm = int(batch_size), int(bool(warmup))
        run = runs[grid_key(b, eta, warm)]
        line.set_data(run["history"]["epoch"], _nan_for_none(run["history"]["test_acc"]))
        ax.set_xlim(0, epoch_axis_end(run, base_end, max_epochs))  # x axis and both curves are redrawn
        title.set_text(f"B = {b}, η = {run['lr']:g}" + (_(" + warm-up") if warm else ""))
        ring.set_data([b], [np.nan if run["test_acc"] is None else run["test_acc"]])
        plotting.set_status(status, _("diverged") if run["status"] == "diverged" else None)
        return _run_caption(run, b, eta, warm, base, b0)

    # the buttons show the mode in the notebook's language; their values stay "fixed"/"scaled"
    eta = w.ToggleButtons(options=[(_mode_word(m), m) for m in MODES], value="scaled", description="η",
                          style={"button_width": "80px"})
    warmup = w.Checkbox(value=True, description=_("warm-up (5 epochs)"))
    eta.constraint = Options(MODES)  # Panel.update refuses any other mode (a checkbox holds a bool already)
    controls = {"batch_size": slider("batch_size", Options(tuple(bs)), p["large_batch"],
                                     description=_("batch size B")),
                "eta": eta, "warmup": warmup}
    # the left x range follows the selected run: its x axis (ticks, grid, label) and both curves are dynamic
    return Panel(fig, update, controls, title=_("batch size, η scaled or not, warm-up"),
                 dynamic=[base_line, line, ax.xaxis, title, status, ring])


# ----------------------------------------------------------------------------- section 4
def lars_table(record):
    """SGD and LARS at the large batch: final training loss and accuracies per η."""
    res = record_parts(record, "have_both")[0]
    lars = res["lars"]
    lines = [_("B = {b}, {steps} updates, warm-up {warmup}").format(
                 b=lars['batch_size'], steps=lars['steps'], warmup=lars['warmup_steps']),
             _columns((_("method"), "<6"), ("η", ">5"), ("τ", ">6"), (_("train loss"), ">11"),
                      (_("train acc"), ">10"), (_("test acc"), ">9"))]
    for name in ("sgd", "lars"):
        for r in lars[name]:
            head = f"{name.upper():<6} {r['lr']:>5.2g} {_fmt_or_dash(r['trust'], '.2g'):>6}"
            if r["status"] == "diverged":
                lines.append(f"{head} " + _fit(_("diverged"), ">11"))
            else:
                lines.append(f"{head} {r['train_loss']:>11.2f} {r['train_acc']:>10.2f} {r['test_acc']:>9.2f}")
    return "\n".join(lines)


def lars_figure(record):
    """Trust ratios ‖w_l‖/‖∇w_l‖ of the three layers along the best SGD run (log scale): one global
    η is a different relative step for every layer, which LARS equalises."""
    import matplotlib.pyplot as plt

    res = record_parts(record, "have_both")[0]
    lars = res["lars"]
    r = lars["ratios"]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    names = [k for k in r if k != "step"]
    for i, k in enumerate(names):
        ax.plot(r["step"], r[k], label=_("layer {i} weights").format(i=i + 1), lw=2)
    ax.set_yscale("log")
    ax.set_xlabel(_("update"))
    ax.set_ylabel("‖w‖ / ‖∇w‖")
    ax.set_title(_("trust ratios, SGD at B = {b}, η = {lr:g}").format(b=lars['batch_size'],
                                                                    lr=lars['best_sgd']['lr']))
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def trust_ratio_line(record):
    """The trust ratios at the first recorded update and at the last, per layer (2 significant digits)."""
    res = record_parts(record, "have_both")[0]
    r = res["lars"]["ratios"]
    names = [k for k in r if k != "step"]
    first = ", ".join(_("layer {i} {value}").format(i=i + 1, value=_two_digits(r[k][0]))
                      for i, k in enumerate(names))
    last = ", ".join(_("layer {i} {value}").format(i=i + 1, value=_two_digits(r[k][-1]))
                     for i, k in enumerate(names))
    return _("‖w‖/‖∇w‖ at update {first_step}: {first}; at update {last_step}: {last}").format(
        first_step=int(r['step'][0]), first=first, last_step=int(r['step'][-1]), last=last)


# ----------------------------------------------------------------------------- section 5
def parallel_report(result, reference, *, threshold=1e-5):
    """Lines comparing a :func:`lecture_utils.parallel.data_parallel_train` result with the
    single-process ``train_classifier`` run (stable text: a boolean against the threshold)."""
    from ..train import flat_params

    diff = float(np.abs(flat_params(result.model) - flat_params(reference.model)).max())
    return (_("{workers} workers × {per_worker} examples = global batch {batch}, {steps} updates, "
              "status {status}").format(workers=result.world_size, per_worker=result.per_worker_batch,
                                        batch=result.global_batch, steps=result.steps, status=result.status)
            + "\n" + _("max |Δθ| against train_classifier(batch_size={batch}) < {threshold:g}: {ok}").format(
                batch=result.global_batch, threshold=threshold, ok=diff < threshold))


def parallel_run_line(result):
    """Section 5, a live rerun of ``data_parallel_train``: its wall-clock time, updates, examples per second
    and the start-up time of the worker processes."""
    return _("this run: {seconds:.2f} s for {steps} updates ({rate:.0f} examples/s), plus {startup:.1f} s to "
             "start them").format(seconds=result.seconds, steps=result.steps, rate=result.examples_per_second,
                                  startup=result.startup_seconds)


def cached_parallel_note():
    """Section 5 without a live rerun: the cached 1- and 2-worker run is printed instead."""
    return _("RERUN_PARALLEL = False: the cached run of 1 and 2 workers is printed below")


def parallel_table(record):
    """The cached 1- vs 2-worker timing (wall-clock of the machine that built the cache)."""
    res = record_parts(record, "have_both")[0]
    par = res["parallel"]
    lines = [_("global batch {batch}, {steps} updates (cached run; 1 vs 2 workers weights agree < 1e-5: "
               "{ok})").format(batch=par['global_batch'], steps=par['steps'], ok=par['max_abs_diff'] < 1e-5),
             _columns((_("workers"), ">7"), (_("per worker"), ">10"), (_("ms/update"), ">10"),
                      (_("examples/s"), ">11"))]
    for r in par["rows"]:
        lines.append(f"{r['world_size']:>7} {r['per_worker_batch']:>10} "
                     f"{1000 * r['seconds_per_update']:>10.2f} {r['examples_per_second']:>11.0f}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- summary table
def summary_table(records=None):
    """:func:`lecture_utils.small_vs_large.summary_rows` as text (numbers at 2 significant digits:
    stable across machines only for the accuracies; the timing rows are wall-clock of the machine
    that built each cache)."""
    rows, notes = summary_rows(records)
    lines = [_columns((_("quantity (mean ± 95 % t-interval where seeded)"), "<64"), (f"B = {SMALL}", ">14"),
                      (f"B = {LARGE}", ">14")) + "  " + _("source")]
    for q, a, b, src in rows:
        lines.append(f"{_fit(q, '<64')} {_two_digits(a):>14} {_two_digits(b):>14}  {src}")
    lines.append(_("test accuracies: {note}").format(note=_test_se_note()))
    for n in notes:
        lines.append(_("missing: {note}").format(note=n))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- section 1: η tuned for every B
def _rule_cell_text(c):
    """One cell of ``tuned_lr``: "η 0.4  0.712 ± 0.014" (95 % t-interval), "η 3.2  2/3 diverged" or
    "not on grid"."""
    if c is None:
        return _("not on grid")
    if c["reached"] < c["n"]:
        what = (_("{diverged}/{n} diverged").format(diverged=c['diverged'], n=c['n']) if c["diverged"]
                else _("{reached}/{n} reach 100 %").format(reached=c['reached'], n=c['n']))
        return f"η {c['lr']:<4g} {what}"
    return f"η {c['lr']:<4g} {_ci_text(c['ci'])}"


def _grid_cell_text(c):
    """One cell of the (B, η) grid: mean test accuracy, "k/n" (not every seed reached 100 %) or "div"."""
    if c["diverged"] == c["n"]:
        return _fit(_("div"), ">7")
    if c["reached"] < c["n"]:
        return f"{str(c['reached']) + '/' + str(c['n']):>7}"
    return f"{c['test_acc']:>7.3f}"


def tuned_table(record):
    """The grid of ``tuned_lr`` as text: mean test accuracy at 100 % training accuracy per (B, η);
    ``div`` = every seed diverged, ``k/n`` = only k of n seeds reached 100 % training accuracy."""
    p = record_parts(record, "tuned_lr")[1]
    cells = tuned_cells(record)
    lines = [_("test accuracy at 100 % training accuracy, mean of seeds {seeds}; k/n: only k of n seeds "
               "reached 100 % (the others diverged or stalled); div: all diverged").format(seeds=p['seeds']),
             f"{'B':>5} | " + " ".join(f"{'η=' + format(lr, 'g'):>7}" for lr in p["lrs"])]
    for b in p["batch_sizes"]:
        lines.append(f"{b:>5} | " + " ".join(_grid_cell_text(cells[(b, lr)]) for lr in p["lrs"]))
    lines.append("")
    lines.append(f"{'B':>5}  " + _columns((_("η fixed (η₀)"), "<22"), ("η ∝ √B (Hoffer)", "<22"),
                                          (_("η ∝ B (η/B fixed)"), "<22"),
                                          (_("η tuned (best of grid)"), "<22")))
    for r in tuned_rows(record):
        lines.append(f"{r['batch_size']:>5}  " + " ".join(_fit(_rule_cell_text(r[k]), "<22")
                                                          for k in ("fixed", "sqrt", "linear", "tuned")))
    lines.append(_("± : 95 % t-interval over {n} seeds; tuned = best mean on the test set among "
                   "the η where every seed reached 100 %").format(n=len(p['seeds'])))
    lines.append(_test_se_note())
    return "\n".join(lines)


def tuned_figure(record):
    """Test accuracy (mean ± 95 % t-interval over the seeds) against η for every B (log x); a cell
    where a seed did not reach 100 % training accuracy is drawn hollow at the mean of those that did,
    a cell where all diverged is missing. Rings: the linear rule η₀·B/B₀; stars: the tuned η."""
    import matplotlib.pyplot as plt

    p = record_parts(record, "tuned_lr")[1]
    cells = tuned_cells(record)
    rows = {r["batch_size"]: r for r in tuned_rows(record)}
    fig, ax = plt.subplots(figsize=(8, 4.2))
    cmap = plt.get_cmap("viridis")
    bs = p["batch_sizes"]
    for i, b in enumerate(bs):
        color = cmap(i / max(len(bs) - 1, 1) * 0.85)
        lrs = [lr for lr in p["lrs"] if cells[(b, lr)]["test_acc"] is not None]
        m = np.array([cells[(b, lr)]["test_acc"] for lr in lrs])
        se = np.nan_to_num([cells[(b, lr)]["ci"].half for lr in lrs])  # one seed: no bar
        full = np.array([cells[(b, lr)]["reached"] == cells[(b, lr)]["n"] for lr in lrs])
        ax.errorbar(lrs, m, yerr=se, color=color, lw=1.5, capsize=3, label=f"B = {b}")
        ax.plot(np.array(lrs)[full], m[full], "o", color=color, ms=6)
        ax.plot(np.array(lrs)[~full], m[~full], "o", mfc="white", mec=color, ms=6)
        lin, tun = rows[b]["linear"], rows[b]["tuned"]
        if lin and lin["test_acc"] is not None:
            ax.plot([lin["lr"]], [lin["test_acc"]], "o", ms=14, mfc="none", mec=color, mew=1.5)
        if tun:
            ax.plot([tun["lr"]], [tun["test_acc"]], "*", ms=15, color=color, mec="k", mew=0.6)
    ax.set_xscale("log")
    ax.set_xticks(p["lrs"], [format(lr, "g") for lr in p["lrs"]])
    ax.minorticks_off()
    ax.set_xlabel(_("learning rate η (log scale)"))
    ax.set_ylabel(_("test accuracy at 100 % train"))
    ax.set_title(_("{n} seeds (mean ± 95 % t-interval); ring: η ∝ B, star: best\n"
                   "hollow: mean of the seeds that reached 100 % (not all did); missing: none did").format(
                     n=len(p['seeds'])), fontsize=9)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


def tuned_verdict(record, batch_sizes=None):
    """Computed sentences: tuned against tuned (B₀ against every other B that every seed trained;
    :func:`lecture_utils.tuning.tuned_differences`: the paired 95 % t-interval of the per-seed
    differences), and test accuracy along η/B fixed (the linear rule's cells, 95 % t-intervals).
    With ``batch_sizes`` only those B's tuned-against-tuned lines, each with the mean updates of
    both runs (the short verdict of the notebook's core)."""
    p = record_parts(record, "tuned_lr")[1]
    b0 = p["base"]["batch_size"]
    lines = [_("tuned against tuned: B = {b} (η = {lr:g}) − B = {b0} (η = {lr0:g}): {acc:.3f} − {acc0:.3f} = "
               "{diff:+.3f} ± {half:.3f} (paired per seed, {ci})").format(
                 b=d['batch_size'], lr=d['tuned']['lr'], b0=b0, lr0=d['base']['lr'],
                 acc=d['tuned']['test_acc'], acc0=d['base']['test_acc'], diff=d['diff'], half=d['ci'].half,
                 ci=d['ci'].label)
             for d in tuned_differences(record)]
    if batch_sizes is not None:
        rows = {r["batch_size"]: r for r in tuned_rows(record)}
        return "\n".join(
            line + _("; updates {steps:.0f} against {steps0:.0f}").format(
                steps=rows[d['batch_size']]['tuned']['steps'], steps0=rows[b0]['tuned']['steps'])
            for d, line in zip(tuned_differences(record), lines) if d["batch_size"] in batch_sizes)
    rows = {r["batch_size"]: r for r in tuned_rows(record)}
    lin = [(b, rows[b]["linear"]) for b in p["batch_sizes"] if rows[b]["linear"]]
    lines.append(_("η/B fixed (η ∝ B): {cells} (95 % t-intervals)").format(
        cells=", ".join(f"B = {b}: {_rule_cell_text(c).split(' ', 2)[2].strip()}" for b, c in lin)))
    return "\n".join(lines)


# ------------------------------------------------------------------------ section 1: warm-up, divergence rate
def warmup_verdict(record):
    """Two lines for the notebook's core: λ_max at the start (update 0, median over the tracked seeds)
    and, for the sweep ``warmup``'s B at the rule's η, the divergences k/n per warm-up length W with
    their 95 % Wilson score intervals (:func:`lecture_utils.tuning.warmup_rows`)."""
    p = record_parts(record, "warmup")[1]
    rows = warmup_rows(record)
    lam0 = stability_numbers(record)[rows[0]["warmup_steps"]]["lam0"]
    seeds = p["track_seeds"]
    each = "   ".join(f"W = {r['warmup_steps']}: {r['diverged']}/{r['n']} "
                       f"({r['wilson'][0]:.2f}–{r['wilson'][1]:.2f})" for r in rows)
    return (_("λ_max at the start (before the first update, median of seeds {first}–{last}): "
              "{lam:.2f}").format(first=seeds[0], last=seeds[-1], lam=lam0) + "\n"
            + _("B = {b} at the rule's η = {lr:g}, {n} seeds per warm-up length W (updates); diverged "
                "(95 % Wilson):").format(b=rows[0]['batch_size'], lr=rows[0]['lr'], n=rows[0]['n'])
            + f"\n  {each}")


def _w_label(w, epochs):
    """"no warm-up" or "W = 100 updates (25 epochs)"."""
    return _("no warm-up") if w == 0 else _("W = {w} updates ({epochs:g} epochs)").format(w=w, epochs=epochs)


def warmup_table(record):
    """:func:`lecture_utils.tuning.warmup_rows` as text, one row per warm-up length W (in updates):
    divergences k/n with the 95 % Wilson score interval and the updates at which they came, the seeds
    that reached 100 % and their test accuracy (95 % t-interval over those seeds); below the table
    each seed's outcome per W, short (W ≤ 20) against long (W ≥ 100) ramps pooled, with Fisher's exact test
    (:func:`lecture_utils.tuning.warmup_contrast`)."""
    p = record_parts(record, "warmup")[1]
    rows = warmup_rows(record)
    b = rows[0]["batch_size"]
    lines = [_("B = {b}, η = {lr:g} (η₀·B/B₀), seeds {first}–{last} (n = {n} per row); to 100 % training "
               "accuracy, at most {max_epochs} epochs").format(
                 b=b, lr=rows[0]['lr'], first=p['seeds'][0], last=p['seeds'][-1], n=len(p['seeds']),
                 max_epochs=p['max_epochs']),
             _("W = warm-up length in updates (1 epoch = ⌈4000/B⌉ = {updates} updates);").format(
                 updates=updates_per_epoch(N_TRAIN, b)),
             _("diverged: k/n with a 95 % Wilson score interval; other: no progress or out of epochs;"),
             _("test acc: mean ± 95 % t-interval over the seeds that reached 100 %"),
             _columns(("W", ">4"), (_("epochs"), ">6"), (_("diverged"), ">8"), ("95 % Wilson", ">12"),
                      (_("at updates"), ">10"), (_("reached"), ">7"), (_("other"), ">5"))
             + "  " + _("test acc (reached)")]
    for r in rows:
        at = r["diverged_at"]
        span = "—" if not at else (f"{at[0]}" if len(at) == 1 else f"{at[0]}–{at[-1]}")
        acc = "—" if r["ci"] is None else r["ci"].short(".3f")
        lines.append(f"{r['warmup_steps']:>4} {r['epochs']:>6g} {r['diverged']:>4}/{r['n']:<3} "
                     f"{r['wilson'][0]:>7.2f}–{r['wilson'][1]:.2f} {span:>10} "
                     f"{r['reached']:>4}/{r['n']:<2} {r['other']:>5}  {acc}")
    res = record["results"]["runs"]
    mark = {"target_reached": "+", "diverged": "x"}
    lines.append(_("outcome by seed {first}–{last} (+ reached 100 %, x diverged, o other):").format(
        first=p['seeds'][0], last=p['seeds'][-1]))
    for r in rows:
        lines.append(f"{r['warmup_steps']:>4}   " + " ".join(
            mark.get(res[warmup_key(b, r['warmup_steps'], s)]["status"], "o") for s in p["seeds"]))
    ws = [r["warmup_steps"] for r in rows]
    if all(w in ws for w in (0, 20, 100, 400)):
        c = warmup_contrast(record)
        lines.append(_("pooled: {parts}").format(parts="; ".join(
            _("W {range}: {diverged}/{n} diverged (Wilson {lo:.2f}–{hi:.2f})").format(
                range='≤ 20' if k == 'short' else '≥ 100', diverged=c[k]['diverged'], n=c[k]['n'],
                lo=c[k]['wilson'][0], hi=c[k]['wilson'][1]) for k in ("short", "long"))))
        lines.append(_("        Fisher's exact test (two-sided) p = {p:.2g}").format(p=c['fisher_p']))
    diffs = [d for d in warmup_acc_differences(record) if d["ci"] is not None]
    if diffs:
        each = [_("W = {w}: {mean:+.3f} ± {half:.3f} ({n} seeds)").format(
                    w=d['warmup_steps'], mean=d['ci'].mean, half=d['ci'].half, n=d['ci'].n)
                for d in diffs]
        lines.append(_("test acc − test acc at W = {ref}, paired per seed over the seeds that "
                       "reached 100 % with both (95 % t):").format(ref=diffs[0]['ref']))
        lines.append("        " + "; ".join(each))
    return "\n".join(lines)


def _draw_stability_runs(ax, runs, b, w, seeds):
    """λ_max·η/2 of each tracked seed on ``ax`` (red with × where it diverged); returns
    (diverged seeds, the last run drawn)."""
    nd, r = 0, None
    for s in seeds:
        r = runs[warmup_key(b, w, s)]
        t = r.get("track")
        if not t:
            continue
        st = np.array(t["step"], float)
        ratio = np.array([np.nan if lam is None else lam * lr / 2 for lam, lr in zip(t["lam"], t["lr"])])
        bad = r["status"] == "diverged"
        nd += bad
        ax.plot(st, ratio, "-", color=plotting.COLORS["full"] if bad else plotting.COLORS["small"],
                lw=1.6 if bad else 1.0, alpha=0.9 if bad else 0.6)
        if bad:  # × on the x axis at the update where the loss became inf/NaN (λ_max was not measured there)
            ax.plot([r["steps"]], [0.0], "x", color=plotting.COLORS["full"], ms=9, mew=2, clip_on=False,
                    transform=ax.get_xaxis_transform())
    return nd, r


def warmup_figure(record):
    """λ_max·η/2 along the tracked runs, one line per seed, one panel per warm-up length W (in
    updates); the dashed line at 1 is the stability limit λ_max = 2/η of gradient descent on a
    quadratic, the dotted line the end of the ramp; seeds that diverged are red, with × on the x axis
    at the update where the loss became inf/NaN (λ_max is measured only up to the track's last
    update). Each title counts the divergences of all seeds of that W."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    res, p = record_parts(record, "warmup")
    b, seeds = p["track"][0], p["track_seeds"]
    rows = {r["warmup_steps"]: r for r in warmup_rows(record) if r["batch_size"] == b}
    ws = p["warmup_updates"]
    ncol = 2 if len(ws) > 2 else len(ws)
    nrow = math.ceil(len(ws) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(11, 3.4 * nrow), sharey=True, sharex=True, squeeze=False)
    axes = axes.ravel()
    for ax, w in zip(axes, ws):
        nd, r = _draw_stability_runs(ax, res["runs"], b, w, seeds)
        ax.axhline(1.0, color="k", ls="--", lw=1)
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        row = rows[w]
        ax.set_title(_("{label}: {diverged}/{n} of all seeds diverged\nseeds {first}–{last} drawn, "
                       "{drawn_diverged}/{drawn} diverged (red, × where)").format(
                         label=_w_label(w, row['epochs']), diverged=row['diverged'], n=row['n'],
                         first=seeds[0], last=seeds[-1], drawn_diverged=nd, drawn=len(seeds)), fontsize=10)
    for ax in axes[len(ws):]:
        ax.set_visible(False)
    x_hi = axes[0].get_xlim()[1]
    for ax, w in zip(axes, ws):  # the end of the ramp, or an arrow when it lies beyond the drawn updates
        if 0 < w <= x_hi:
            ax.axvline(w, color=plotting.COLORS["muted"], ls=":", lw=1)
            right = w > 0.7 * x_hi  # near the right edge: the label goes left of the line
            ax.text(w - 4 if right else w + 4, 0.03, _("end of warm-up"), fontsize=9,
                    ha="right" if right else "left", color=plotting.COLORS["muted"],
                    transform=ax.get_xaxis_transform())
        elif w > x_hi:
            ax.text(0.98, 0.03, _("warm-up ends at update {w} →").format(w=w), fontsize=9, ha="right",
                    color=plotting.COLORS["muted"], transform=ax.transAxes)
    for ax in axes[(nrow - 1) * ncol:]:
        ax.set_xlabel(_("update"))
    for ax in axes[::ncol]:
        ax.set_ylabel(_("λ_max · η / 2   (stable below 1)"))
    axes[0].text(0.02, 0.92, _("above the dashed line: λ_max > 2/η"), transform=axes[0].transAxes, fontsize=9)
    tracked = [st for w in ws for s in seeds
               for st in (res["runs"][warmup_key(b, w, s)].get("track") or {}).get("step", [])[-1:]]
    if tracked:  # the lines end where λ_max stopped being measured; a later × is not a measurement
        fig.text(0.5, 0.005, _("lines: λ_max measured every few updates up to update {last:g}; "
                               "× on the x axis: the update at which a red run's loss became inf/NaN "
                               "(no λ_max there)").format(last=max(tracked)),
                 ha="center", va="bottom", fontsize=9, color=plotting.COLORS["full"])
    fig.suptitle(_("B = {b}, η rising linearly to {lr:g} over the first W updates: "
                   "λ_max·η/2 with the η of each update").format(b=b, lr=rows[ws[0]]['lr']), fontsize=11)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _span(v, spec=".2f"):
    """"a–b" over the values ``v`` (one number when both ends print alike)."""
    lo, hi = f"{min(v):{spec}}", f"{max(v):{spec}}"
    return lo if lo == hi else f"{lo}–{hi}"


def stability_line(record, steps=(0, 10, 60, 200)):
    """Per warm-up length W: λ_max·η/2 of the tracked seeds at the updates ``steps`` (range over the
    seeds, with the η of that update; λ_max itself beside it from update 60 on, and the number of seeds
    when a seed had diverged before), and along updates 0–119 (median and share above 1); λ_max at
    the start. Notebook 04 §1."""
    p = record_parts(record, "warmup")[1]
    s = stability_numbers(record)
    seeds = p["track_seeds"]
    lines = [_("B = {b}, seeds {first}–{last}: λ_max·η/2 with the η of that update "
               "(stable below 1), range over the seeds").format(b=p['track'][0], first=seeds[0],
                                                                 last=seeds[-1])]
    for w in p["warmup_updates"]:
        parts = []
        for step in steps:
            at = stability_at(record, step)[w]
            v = list(at["ratio"].values())
            if v:
                lam = [2 * x / at["lr"] for x in v]
                extra = f", λ_max {_span(lam)}" if step >= 60 else ""
                extra += _(" ({n} seeds)").format(n=len(v)) if len(v) < len(seeds) else ""
                parts.append(_("update {step} (η = {lr:.3g}) {span}{extra}").format(
                    step=step, lr=at['lr'], span=_span(v), extra=extra))
        if s[w]["n"]:
            parts.insert(2, _("updates 0–119: median {median:.2f}, {share:.0%} of {n} above 1").format(
                median=s[w]['median_ratio'], share=s[w]['share_above_1'], n=s[w]['n']))
        lines.append(f"  W = {w:>3}: " + "; ".join(parts[:3]))
        if parts[3:]:
            lines.append("           " + "; ".join(parts[3:]))
    lines.append(_("λ_max at the start (update 0, median over the seeds): {lam:.2f}").format(
        lam=s[0]['lam0']))
    return "\n".join(lines)


# ------------------------------------------------------------------ section 3: critical batch, noise scale
def critical_table(record, noise_record=None):
    """Steps to the target loss per B with each seed's best η (S ± 95 % t-interval), the examples
    E = B·S̄ and E/E_min, the fit, B_crit per seed, and B_simple at the target."""
    from ..scaling import critical_curve

    p = record_parts(record, "critical_batch")[1]
    fit = critical_fit(record)
    lines = [_("updates S to training loss {target:g}, η tuned per seed on the grid "
               "{lo:g} … {hi:g} (×2 steps, {n} values), seeds {seeds}").format(
                 target=p['target_loss'], lo=p['lrs'][0], hi=p['lrs'][-1], n=len(p['lrs']), seeds=p['seeds']),
             _columns(("B", ">5"), (_("best η per seed"), ">17"), (_("updates S ± 95 % t"), ">19"),
                      (_("examples E"), ">11"), ("E/E_min", ">8"), (_("fit S(B)"), ">9"))]
    for r in critical_rows(record):
        pred = critical_curve([r["batch_size"]], fit["s_min"], fit["b_crit"])[0]
        etas = " ".join(_fmt_or_dash(v, "g") for v in r["best_lrs"])
        ratio = None if r["e_mean"] is None else r["e_mean"] / fit["e_min"]
        lines.append(f"{r['batch_size']:>5} {etas:>17} {_ci_text(r['s_ci'], '.0f'):>19} "
                     f"{_fmt_or_dash(r['e_mean'], '.0f'):>11} {_fmt_or_dash(ratio, '.2f'):>8} {pred:>9.0f}")
    lines.append(_("fit to the means: S_min = {s_min:.0f} updates, E_min = {e_min:.3g} "
                   "examples, B_crit = E_min/S_min = {b_crit:.0f}").format(
        s_min=fit['s_min'], e_min=fit['e_min'], b_crit=fit['b_crit']))
    per = ", ".join(f"{v:.0f}" for v in fit["b_crit_per_seed"])
    lines.append(_("fit to each seed alone: B_crit = {per}  (mean {mean}, {ci})").format(
        per=per, mean=_ci_text(fit['b_crit_ci'], '.0f'), ci=fit['b_crit_ci'].label))
    lines.append(_("  that ± is the seeds' spread only, not the ×2 η grid's or the one target loss's; "
                   "E(B_crit) = 2·E_min by the fit"))
    if noise_record is not None:
        at = [r for r in noise_rows(noise_record) if r["loss_level"] == p["target_loss"]]
        if at:
            a = at[0]
            lines.append(_("noise scale at training loss {target:g}: B_simple = {value} ({ci})").format(
                target=p['target_loss'], value=_ci_text(a['ci'], '.0f'), ci=a['ci'].label))
    return "\n".join(lines)


def noise_table(record):
    """B_simple along the small-batch run: one row per training-loss level (mean ± 95 % t-interval
    over the seeds, and each seed's value)."""
    p = record_parts(record, "noise_scale")[1]
    lines = [_("B = {b}, η = {lr:g}; two-batch estimate ({n_pairs} batches of {b_small} and of {b_big}) "
               "at each level; seeds {seeds}").format(
                 b=p['batch_size'], lr=p['lr'], n_pairs=p['n_pairs'], b_small=p['b_small'], b_big=p['b_big'],
                 seeds=p['seeds']),
             _columns((_("train loss"), ">10"), (_("update"), ">7"), ("|G|²", ">8"), ("tr Σ", ">8"),
                      ("B_simple ± 95 % t", ">18")) + "  " + _("each seed")]
    for r in noise_rows(record):
        each = " ".join(f"{v:.0f}" for v in r["values"])
        lines.append(f"{r['loss_level']:>10g} {r['step']:>7.0f} {r['g2']:>8.3f} {r['trace']:>8.1f} "
                     f"{_ci_text(r['ci'], '.0f'):>18}  {each}")
    return "\n".join(lines)


def _draw_updates_to_target(ax, rows, fit, p):
    """Left axes of :func:`critical_figure`: S against B (log-log, mean ± 95 % t), S ∝ 1/B through the
    smallest B, the fit S_min(1 + B_crit/B) and B_crit (dashed)."""
    from ..scaling import critical_curve

    ok = [r for r in rows if r["n"] == r["n_seeds"]]
    b = np.array([r["batch_size"] for r in ok], float)
    s = np.array([r["s_mean"] for r in ok], float)
    half = np.nan_to_num([r["s_ci"].half for r in ok])  # one seed: no bar
    ax.errorbar(b, s, yerr=half, fmt="o", color="k", capsize=3,
                label=_("measured ({n} seeds, best η; 95 % t)").format(n=len(p['seeds'])))
    bb = np.geomspace(b.min(), b.max(), 100)
    ax.plot(bb, s[0] * b[0] / bb, ":", color=plotting.COLORS["muted"], label=_("perfect scaling S ∝ 1/B"))
    ax.plot(bb, critical_curve(bb, fit["s_min"], fit["b_crit"]), color=plotting.COLORS["medium"],
            label=_("fit, B_crit = {b_crit:.0f}").format(b_crit=fit['b_crit']))
    ax.axvline(fit["b_crit"], color=plotting.COLORS["medium"], ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_("batch size B"))
    ax.set_ylabel(_("updates S to train loss {target:g}").format(target=p['target_loss']))
    ax.set_title(_("updates to the target"), fontsize=11)
    ax.legend(fontsize=8, loc="lower left")


def _draw_best_lrs(ax, rows, fit, p):
    """Middle axes of :func:`critical_figure`: each seed's best η against B (jittered in B), η ∝ B
    dotted through the smallest B's median, B_crit dashed."""
    rng = np.random.default_rng(0)
    for r in rows:
        lrs = _nan_for_none(r["best_lrs"])
        jitter = np.exp(rng.uniform(-0.08, 0.08, len(lrs)))
        ax.plot(r["batch_size"] * jitter, lrs, "o", color="k", alpha=0.6, ms=6)
    bs_all = np.array([r["batch_size"] for r in rows], float)
    first = [r for r in rows if r["best_lrs"][0] is not None][0]
    lr_first = np.median([v for v in first["best_lrs"] if v is not None])
    ax.plot(bs_all, lr_first * bs_all / first["batch_size"], ":", color=plotting.COLORS["muted"],
            label="η ∝ B")
    ax.axvline(fit["b_crit"], color=plotting.COLORS["medium"], ls="--", lw=1, label="B_crit")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_yticks(p["lrs"], [format(v, "g") for v in p["lrs"]])
    ax.minorticks_off()
    ax.set_ylim(p["lrs"][0] / 1.5, p["lrs"][-1] * 1.5)
    ax.set_xlabel(_("batch size B"))
    ax.set_ylabel(_("best η of the grid (each seed)"))
    ax.set_title(_("the best η of the grid, per seed"), fontsize=11)
    ax.legend(fontsize=8, loc="upper left")


def _draw_noise_scale(ax, noise_record, fit):
    """Right axes of :func:`critical_figure`: B_simple (mean ± 95 % t-interval) against the training
    loss along the small-batch run, and B_crit (mean ± 95 % t-interval of the seeds' fits) drawn only
    at the one training loss where it was measured (the sweep's target loss)."""
    nr = noise_rows(noise_record)
    pn = record_parts(noise_record, "noise_scale")[1]
    ax.errorbar([r["loss_level"] for r in nr], [r["b_simple"] for r in nr],
                yerr=np.nan_to_num([r["ci"].half for r in nr]),
                fmt="o:", color=plotting.COLORS["gradient"], capsize=3,
                label=_("B_simple ({n} seeds, mean ± 95 % t)").format(n=len(pn['seeds'])))
    ci = fit["b_crit_ci"]
    ax.errorbar([fit["target_loss"]], [ci.mean], yerr=[np.nan_to_num(ci.half)], fmt="D", ms=8,
                color=plotting.COLORS["medium"], capsize=4,
                label=_("B_crit, measured at loss {target:g} only ({n} seeds' fits, 95 % t)").format(
                    target=fit['target_loss'], n=ci.n))
    ax.set_xlabel(_("training loss along the run (B = {b}, η = {lr:g})").format(b=pn['batch_size'],
                                                                                  lr=pn['lr']))
    ax.set_ylabel("B_simple = tr Σ / |G|²")
    ax.invert_xaxis()
    top = max(r["b_simple"] + np.nan_to_num(r["ci"].half) for r in nr)
    ax.set_ylim(0, 1.3 * top)  # headroom: the legend sits above the error bars
    ax.set_title(_("noise scale along training"), fontsize=11)
    ax.legend(fontsize=8, loc="upper left")


def critical_figure(record, noise_record):
    """Left: updates S to the target loss against B (log-log, mean ± 95 % t over seeds), perfect scaling
    S ∝ 1/B through the smallest B, the fit S_min(1 + B_crit/B) and B_crit; middle: the best η of
    each seed against B (the grid's values; η ∝ B dotted); right: B_simple (mean ± 95 % t over seeds)
    against the training loss along the small-batch run, with B_crit at the target loss only."""
    import matplotlib.pyplot as plt

    p = record_parts(record, "critical_batch")[1]
    rows = critical_rows(record)
    fit = critical_fit(record)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    _draw_updates_to_target(axes[0], rows, fit, p)
    _draw_best_lrs(axes[1], rows, fit, p)
    _draw_noise_scale(axes[2], noise_record, fit)
    fig.tight_layout()
    return fig
