"""Notebook 03 ("Large batches generalize worse"): figures and panels; they only draw.

* :func:`gap_table` / :func:`gap_figure` — train and test accuracy (mean ± standard error over seeds)
  per batch size from the cached sweep ``generalization`` (section 1);
* :func:`batch_size_panel` — a slider over the cached batch sizes (curves, final accuracies,
  sharpness; nothing trains on slide) with a button that reruns the selected B live (section 1);
* :func:`flat_sharp_panel` — the lecture's flat and sharp minimum with a shifted test loss
  (section 2; :func:`lecture_utils.sharpness.flat_sharp_loss`);
* :func:`sharpness_figure` — λ_max and ε-sharpness against B (section 3);
* :func:`interpolation_figure` — Keskar's figure 3 from
  :func:`lecture_utils.sharpness.interpolation_curve` (section 4);
* :func:`matched_table`, :func:`matched_figure`, :func:`stability_figure` — sharpness at one matched
  training loss and against the edge of stability 2/η, from the cached sweep ``sharpness_matched``
  (sections 5-6).

The cached sweeps are read by their declared keys (``sweeps.generalization.batch_key``; the
``key`` of each ``sharpness_matched`` config). The exercises' checks are in :mod:`lecture_utils.checks`.
"""
from __future__ import annotations

import numpy as np

from .. import plotting, sharpness, widgets
from .._validate import Interval, Options, validate_params
from ..data import N_TRAIN
from ..sweeps.generalization import batch_key
from ..sweeps.sharpness_matched import config_key
from ..widgets import Panel
from . import reads_sweep

#: δ of :func:`flat_sharp_panel`: its slider's range.
FLAT_SHARP_SHIFT = Interval("real", 0.0, 1.0)


def _gap_results(record):
    """The results of the sweep ``generalization`` (a record from ``sweeps.load``, or its results)."""
    if not isinstance(record, dict) or "results" not in record and "summary" not in record:
        raise ValueError("record must be the dict returned by sweeps.load('generalization')")
    return record.get("results", record)


def _summary_of(res, b):
    """The summary row (means and stds over the seeds) of batch size ``b`` in the gap sweep."""
    return res["summary"][batch_key(b)]


def _runs_of(res, b):
    """The cached runs (one per seed) of batch size ``b`` in the gap sweep."""
    return res["runs"][batch_key(b)]


def _matched_row(res, config):
    """The summary row (means and standard errors over the seeds) of one ``(B, η)`` configuration of the
    sweep ``sharpness_matched``."""
    return res["summary"][config_key(config["batch_size"], config["lr"])]


def _batch_label(b, n=N_TRAIN):
    return "full batch" if b == n else f"B = {b}"


# ----------------------------------------------------------------------------- section 1
def gap_table(record):
    """The gap protocol as a text table: one row per B with the seeds that reached the criterion, mean
    epochs and updates, training loss and accuracy (means), and the test accuracy, λ_max and
    ε-sharpness as mean ± standard error over the seeds (s/√n, ddof = 1). Section 1."""
    res = _gap_results(record)
    lines = [f"{'B':>5} {'reached':>7} {'epochs':>6} {'updates':>7} {'train loss':>10} {'train acc':>9}"
             f" {'test acc':>15} {'λ_max':>13} {'ε-sharp %':>13}"]
    for b in res["batch_sizes"]:
        s = _summary_of(res, b)
        lines.append(f"{b:>5} {s['reached']:>4}/{s['n_seeds']:<2} {s['epochs_mean']:>6.0f} "
                     f"{s['steps_mean']:>7.0f}"
                     f" {s['train_loss_mean']:>10.3f} {s['train_acc_mean']:>9.3f}"
                     f" {s['test_acc_mean']:>7.3f} ± {_standard_error(s, 'test_acc'):.3f}"
                     f" {s['top_eigenvalue_mean']:>6.2f} ± {_standard_error(s, 'top_eigenvalue'):<4.2f}"
                     f" {s['eps_sharpness_mean']:>5.1f} ± {_standard_error(s, 'eps_sharpness'):<4.1f}")
    return "\n".join(lines)


def gap_figure(record):
    """Train and test accuracy at the end of each run against B (log axis), mean ± standard error over
    seeds."""
    import matplotlib.pyplot as plt

    res = _gap_results(record)
    bs = np.array(res["batch_sizes"])
    fig, ax = plt.subplots(figsize=(8, 4))
    for key, name, color, marker in (("train_acc", "train", plotting.COLORS["train"], "o"),
                                     ("test_acc", "test", plotting.COLORS["test"], "s")):
        m = np.array([_summary_of(res, b)[f"{key}_mean"] for b in bs])
        s = np.array([_standard_error(_summary_of(res, b), key) for b in bs])
        ax.errorbar(bs, m, yerr=s, color=color, marker=marker, capsize=4, label=f"{name} accuracy")
    g = res["gap"]
    ax.axvspan(g["lb"] * 0.8, g["lb"] * 1.25, color=plotting.COLORS["muted"], alpha=0.15)
    ax.set_xscale("log")
    ax.set_xticks(bs, [str(b) for b in bs])
    ax.set_xlabel("batch size B (one learning rate for all)")
    ax.set_ylabel("accuracy at the end of the run")
    ax.set_ylim(0.4, 1.02)
    sb, lb = _summary_of(res, g["sb"]), _summary_of(res, g["lb"])
    se = float(np.hypot(_standard_error(sb, "test_acc"), _standard_error(lb, "test_acc")))
    ax.set_title(f"Same training accuracy, lower test accuracy: gap B={g['sb']} vs B={g['lb']} = "
                 f"{g['test_acc_gap']:.3f} ± {se:.3f} ({sb['n_seeds']} seeds, mean ± s.e.)", fontsize=11)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


class RerunPanel(Panel):
    """A :class:`Panel` with one extra button that reruns the selected batch size live.

    The button is wired only in the live widget; executing the notebook never presses it.
    :meth:`rerun` is what the button calls (tests call it directly).
    """

    def __init__(self, *args, rerun, **kwargs):
        self._rerun_fn = rerun
        self._extra = None
        super().__init__(*args, **kwargs)

    @property
    def widget(self):
        box = super().widget
        if self._extra is None:
            import ipywidgets as w

            button = w.Button(description="rerun this B live", icon="play",
                              tooltip="train the selected batch size again, seed 0, with a progress bar")
            out = w.Output()
            button.on_click(self._on_click)
            self._extra = (button, out)
            box.children = tuple(box.children) + (button, out)
        return box

    def _on_click(self, _button):
        button, out = self._extra
        button.disabled = True
        try:
            out.clear_output()
            with out:                       # only the progress bar goes here, while the run lasts
                self.rerun(progress=True)
            out.clear_output()              # the bar of a run that stopped early must not stay (at 36 %)
            self._image.value = self._png   # the result is in the picture and in the caption
            self._caption.value = self._caption_html()
        finally:
            button.disabled = False

    def rerun(self, progress=False):
        """Train the selected batch size again (seed 0) and draw it over the cached curves.

        The picture is drawn the same way as every slider update (:meth:`Panel._render`): the
        panel's dynamic artists are *animated*, so a plain ``savefig`` would leave them out — the
        left axes, curves included, would come out blank.
        """
        import time

        t0 = time.perf_counter()
        self.caption = self._rerun_fn(progress=progress, **self.values())
        self._png = self._render()
        self.last_seconds = time.perf_counter() - t0
        return self.caption


def _batch_size_figure(res, n_seeds):
    """The static part of the cached-runs picture (right: final accuracies against B) and its dynamic
    artists (left: one train and one test curve per seed, the live rerun, the legends, the marker)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    bs = list(res["batch_sizes"])
    fig = Figure(figsize=(11, 4))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    train_lines = [ax.plot([], [], color=plotting.COLORS["train"], alpha=0.8, lw=1.5,
                           label="train" if i == 0 else None)[0] for i in range(n_seeds)]
    test_lines = [ax.plot([], [], color=plotting.COLORS["test"], alpha=0.8, lw=1.5, ls="--",
                          label="test" if i == 0 else None)[0] for i in range(n_seeds)]
    live = [ax.plot([], [], color="k", lw=2.5, ls=ls, label=lab)[0]
            for ls, lab in (("-", "live rerun (seed 0)"), ("--", None))]
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.set_yticks([0.0, 0.25, 0.5, 0.75, 1.0])
    # two legends made once; the update shows the one with "live rerun" only when a rerun is drawn
    legends = {True: ax.legend(handles=[train_lines[0], test_lines[0], live[0]], loc="lower right",
                               fontsize=9),
               False: ax.legend(handles=[train_lines[0], test_lines[0]], loc="lower right", fontsize=9)}
    status = plotting.status_text(ax)
    means = np.array([_summary_of(res, b)["test_acc_mean"] for b in bs])
    ses = np.array([_standard_error(_summary_of(res, b), "test_acc") for b in bs])
    ax2.errorbar(bs, means, yerr=ses, color=plotting.COLORS["test"], marker="s", capsize=4, label="test")
    ax2.plot(bs, [_summary_of(res, b)["train_acc_mean"] for b in bs], color=plotting.COLORS["train"],
             marker="o", label="train")
    sel = ax2.plot([], [], "o", ms=16, mfc="none", mec="k", mew=2)[0]
    ax2.set_xscale("log")
    ax2.set_xticks(bs, [str(b) for b in bs])
    ax2.set_xlabel("batch size B")
    ax2.set_ylabel("final accuracy (mean ± s.e.)")
    ax2.set_ylim(0.4, 1.02)
    ax2.minorticks_off()
    ax2.set_yticks([0.4, 0.6, 0.8, 1.0])
    ax.xaxis.set_major_locator(MaxNLocator(5, integer=True))     # few tick labels: text is what costs
    ax2.text(0.03, 0.04, "blue: train   red: test", transform=ax2.transAxes, fontsize=9)
    ax.set_title("B")
    fig.tight_layout()              # once: a layout engine would cost time at every redraw
    return fig, ax, {"train": train_lines, "test": test_lines, "live": live, "legends": legends,
                     "status": status, "sel": sel}


def _describe_batch_size(res, b, n, lr):
    """The caption of one cached batch size: seeds that reached 100 % training accuracy, epochs and
    updates, test accuracy (mean ± s.e.) beside the small batch's, λ_max and ε-sharpness."""
    s = _summary_of(res, b)
    sb = _summary_of(res, res["gap"]["sb"])
    reached = (f"all {s['n_seeds']} seeds reached 100 % training accuracy" if s["reached"] == s["n_seeds"]
               else f"{s['reached']} of {s['n_seeds']} seeds reached 100 % training accuracy "
                    f"(training accuracy {s['train_acc_mean']:.3f} at the budget)")
    ref = "" if b == res["gap"]["sb"] else f" (B = {res['gap']['sb']}: {sb['test_acc_mean']:.3f})"
    return (f"{_batch_label(b, n)}: {reached} after {s['epochs_mean']:.0f} epochs ({s['steps_mean']:.0f} "
            "updates) "
            f"at η = {lr:g}; test accuracy {s['test_acc_mean']:.3f} ± {_standard_error(s, 'test_acc'):.3f}"
            f" (mean ± s.e.){ref}; top Hessian eigenvalue "
            f"{s['top_eigenvalue_mean']:.1f} ± {_standard_error(s, 'top_eigenvalue'):.1f}, ε-sharpness "
            f"{s['eps_sharpness_mean']:.1f} ± {_standard_error(s, 'eps_sharpness'):.1f} % at the stop "
            f"(training loss {s['train_loss_mean']:.3f}).")


def _draw_seed_curves(art, runs):
    """Training and test accuracy against epochs, one pair of curves per cached seed; the last epoch."""
    xmax = 1.0
    for i, (train, test) in enumerate(zip(art["train"], art["test"])):
        if i < len(runs):
            h = runs[i]["history"]
            train.set_data(h["epoch"], h["train_acc"])
            test.set_data(h["epoch"], h["test_acc"])
            xmax = max(xmax, h["epoch"][-1])
        else:
            train.set_data([], [])
            test.set_data([], [])
    return xmax


@reads_sweep("generalization")
def batch_size_panel(record, params=None):
    """Slider over the cached batch sizes: training/test accuracy against epochs for every seed,
    final test accuracy and λ_max against B; the caption states the numbers of the selected B.

    Moving the slider only switches among cached runs. The button "rerun this B live" calls
    ``train_classifier(progress=True)`` with the sweep's settings (seed 0) and overlays the new run.
    ``params`` defaults to ``record["params"]``. Notebook 03, section 1.
    """
    from ..sweeps import generalization as sweep

    res = _gap_results(record)
    params = record.get("params", sweep.PARAMS) if params is None else params
    bs = list(res["batch_sizes"])
    n = bs[-1]
    fig, ax, art = _batch_size_figure(res, max(len(_runs_of(res, b)) for b in bs))
    state = {"live": None}

    def update(batch_size):
        b = int(batch_size)
        runs = _runs_of(res, b)
        xmax = _draw_seed_curves(art, runs)
        lv = state["live"]
        show_live = lv is not None and lv["batch_size"] == b
        for line, key in zip(art["live"], ("train_acc", "test_acc")):
            line.set_data((lv["history"]["epoch"], lv["history"][key]) if show_live else ([], []))
        ax.legend_ = art["legends"][show_live]
        if show_live:
            xmax = max(xmax, lv["history"]["epoch"][-1])
        ax.set_xlim(0, xmax * 1.02)
        ax.set_title(f"{_batch_label(b, n)}, η = {params['lr']:g}: {len(runs)} seeds")
        art["sel"].set_data([b], [_summary_of(res, b)["test_acc_mean"]])
        diverged = any(r["status"] == "diverged" for r in runs)
        plotting.set_status(art["status"], "diverged" if diverged else None)
        text = _describe_batch_size(res, b, n, params["lr"])
        if show_live:
            text += (f" Live rerun (seed 0): {lv['status']}, test accuracy {lv['test_acc']:.3f} "
                     f"in {lv['seconds']:.1f} s.")
        return text

    def rerun(batch_size, progress=False):
        b = int(batch_size)
        r = sweep.train_point(params, b, 0, progress=progress)
        state["live"] = {"batch_size": b, "history": r.history, "status": r.status, "test_acc": r.test_acc,
                         "train_acc": r.train_acc, "steps": r.steps, "seconds": r.seconds}
        return update(b)

    slider = widgets.slider("batch_size", Options(tuple(bs)), params["lb"], description="batch size B")
    panel = RerunPanel(fig, update, {"batch_size": slider}, rerun=rerun,
                       title="cached runs, one per seed", dynamic=[ax, art["sel"]])  # ax2 is drawn once
    panel.live = state
    return panel


# ----------------------------------------------------------------------------- section 2
@validate_params(shift=FLAT_SHARP_SHIFT)
def flat_sharp_panel(shift=0.3):
    """The lecture's picture: a training loss with a flat and a sharp minimum, and a test loss
    shifted by δ; a slider moves δ and the caption states how much the loss rises at each minimum.
    δ ∈ [0, 1] (:data:`FLAT_SHARP_SHIFT`). Notebook 03, section 2
    (:func:`lecture_utils.sharpness.flat_sharp_loss`)."""
    from matplotlib.figure import Figure

    w = np.linspace(-5.5, 4.0, 950)
    fig = Figure(figsize=(9, 4))
    ax = fig.subplots()
    ax.plot(w, sharpness.flat_sharp_loss(w), color=plotting.COLORS["train"], label="training loss L(w)")
    test = ax.plot([], [], color=plotting.COLORS["test"], ls="--", label="test loss L(w − δ)")[0]
    wells = (sharpness.FLAT["center"], sharpness.SHARP["center"])
    bars = [ax.plot([], [], color="k", lw=3)[0] for _ in wells]
    notes = [ax.text(c - 0.12, 0.0, "", fontsize=11, ha="right", va="center",
                     bbox=dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none", alpha=0.8))
             for c in wells]
    for c, name in zip(wells, ("flat minimum", "sharp minimum")):
        ax.annotate(name, (c, 0.0), xytext=(c, -0.17), ha="center", fontsize=11)
    ax.set_xlim(w[0], w[-1])
    ax.set_ylim(-0.22, 1.1)
    ax.set_yticks([0.0, 0.5, 1.0])          # few tick labels: text is what a redraw costs
    ax.set_xticks([-4, -2, 0, 2, 4])
    ax.set_xlabel("parameter w")
    ax.set_ylabel("loss")
    ax.legend(loc="upper left", fontsize=10)
    ax.set_title("δ")
    fig.tight_layout()

    def update(shift):
        d = float(shift)
        test.set_data(w, sharpness.flat_sharp_loss(w, d))
        rise = sharpness.flat_sharp_rise(d)
        for bar, note, c, key in zip(bars, notes, wells, ("flat", "sharp")):
            base = float(sharpness.flat_sharp_loss(np.array([c]))[0])
            bar.set_data([c, c], [base, base + rise[key]])
            note.set_position((c - 0.12, base + max(rise[key], 0.06) / 2))
            note.set_text(f"+{rise[key]:.2f}")
        ax.set_title(f"test loss shifted by δ = {d:.2f}")
        ratio = rise["sharp"] / rise["flat"] if rise["flat"] > 1e-12 else float("inf")
        if d == 0:
            return ("δ = 0.00: test loss equals training loss; both minima are equally good.")
        return (f"δ = {d:.2f}: at the flat minimum the test loss is {rise['flat']:.3f} above the training "
                "loss, "
                f"at the sharp minimum {rise['sharp']:.3f} — {ratio:.0f}× more, though both minima have "
                f"the same training loss.")

    slider = widgets.slider("shift", FLAT_SHARP_SHIFT, shift, step=0.05, description="shift δ",
                            readout_format=".2f")
    return Panel(fig, update, {"shift": slider}, title="flat vs sharp minimum",
                 dynamic=[test, *bars, *notes, ax.title])


# ----------------------------------------------------------------------------- section 3
def sharpness_figure(record):
    """λ_max and ε-sharpness against B, one point per seed and the mean (log axes). Section 3."""
    import matplotlib.pyplot as plt

    res = _gap_results(record)
    bs = res["batch_sizes"]
    # runs that met the matched criterion sit at a minimum (100 % training accuracy); the others
    # (the full batch at its budget) are still descending: drawn hollow, not joined, and labelled
    at_min = [b for b in bs if _summary_of(res, b)["reached"] == _summary_of(res, b)["n_seeds"]]
    not_min = [b for b in bs if b not in at_min]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, key, title in zip(axes, ("top_eigenvalue", "eps_sharpness"),
                              ("top Hessian eigenvalue λ_max", "ε-sharpness (%)")):
        for b in bs:
            vals = [r[key] for r in _runs_of(res, b)]
            ax.plot([b] * len(vals), vals, "o", color=plotting.COLORS["muted"], alpha=0.6,
                    mfc=plotting.COLORS["muted"] if b in at_min else "none",
                    label=("one seed" if b == at_min[0] else None))
        ax.plot(at_min, [_summary_of(res, b)[f"{key}_mean"] for b in at_min], "-s",
                color=plotting.COLORS["full"],
                label="mean, stopped at 100 % train acc.")
        for b in not_min:
            s = _summary_of(res, b)
            ax.plot([b], [s[f"{key}_mean"]], "s", mfc="none", mec=plotting.COLORS["full"], mew=1.5,
                    label=f"{_batch_label(b, bs[-1])}: not at a minimum")
            ax.annotate(f"not at a minimum\n(train acc {s['train_acc_mean']:.2f})", (b, s[f"{key}_mean"]),
                        xytext=(-8, -26), textcoords="offset points", ha="right", fontsize=8.5,
                        color=plotting.COLORS["full"])
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(bs, [str(b) for b in bs])
        ax.minorticks_off()
        ax.set_xlabel("batch size B")
        ax.set_title(title)
    axes[0].legend(loc="lower right", fontsize=8.5)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- section 4
def interpolation_figure(curve, *, sb=32, lb=400):
    """Keskar's figure 3: loss (log scale, left) and accuracy (right) along
    ``w(α) = α·w_LB + (1 − α)·w_SB``, training solid, test dashed. Section 4."""
    import matplotlib.pyplot as plt

    keys = ("alpha", "train_loss", "train_acc", "test_loss", "test_acc")
    if not isinstance(curve, dict) or any(k not in curve for k in keys):
        raise ValueError(f"curve must be the dict returned by sharpness.interpolation_curve (keys {keys})")
    a = curve["alpha"]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.plot(a, curve["train_loss"], color=plotting.COLORS["train"], label="train loss")
    ax.plot(a, curve["test_loss"], color=plotting.COLORS["train"], ls="--", label="test loss")
    ax.set_yscale("log")
    ax.set_xlabel(f"α   (0: small batch B={sb},  1: large batch B={lb})")
    ax.set_ylabel("cross-entropy loss", color=plotting.COLORS["train"])
    ax2 = ax.twinx()
    ax2.plot(a, curve["train_acc"], color=plotting.COLORS["test"], label="train accuracy")
    ax2.plot(a, curve["test_acc"], color=plotting.COLORS["test"], ls="--", label="test accuracy")
    ax2.set_ylabel("accuracy", color=plotting.COLORS["test"])
    ax2.set_ylim(0, 1.02)
    ax2.grid(False)
    for x0 in (0.0, 1.0):
        ax.axvline(x0, color=plotting.COLORS["muted"], lw=1)
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, loc="upper center", bbox_to_anchor=(0.5, -0.2), fontsize=9, ncol=4)
    ax.set_title("1-D slice through the two solutions (Keskar et al. 2017, fig. 3)")
    fig.tight_layout()
    return fig




# ---------------------------------------------------------------- sections 5-6: matched training loss
def _standard_error(summary_row, key):
    """Standard error s/√n of the gap sweep's per-seed values (its summary stores the std, ddof = 1)."""
    return summary_row[f"{key}_std"] / np.sqrt(summary_row["n_seeds"])


def _matched_results(record):
    """The results of the sweep ``sharpness_matched`` (a record from ``sweeps.load``, or its results)."""
    res = record.get("results", record) if isinstance(record, dict) else None
    if not isinstance(res, dict) or "configs" not in res or "summary" not in res:
        raise ValueError("record must be the dict returned by sweeps.load('sharpness_matched')")
    return res


def matched_table(record):
    """One row per ``(B, η)`` of the sweep ``sharpness_matched``: seeds that reached the matched training
    loss L*, updates, training loss and accuracy at the stop, test accuracy, λ_max, λ_max·η/2 and
    ε-sharpness, each mean ± standard error over the seeds (notebook 03, sections 5-6)."""
    res = _matched_results(record)
    lines = [f"{'B':>5} {'η':>5} {'reached':>7} {'updates':>8} {'train loss':>10} {'train acc':>9}"
             f" {'test acc':>15} {'λ_max':>13} {'λ_max·η/2':>13} {'ε-sharp %':>13}"]
    for c in res["configs"]:
        s = _matched_row(res, c)
        lines.append(f"{c['batch_size']:>5} {c['lr']:>5g} {s['reached']:>4}/{s['n']:<2} "
                     f"{s['steps_mean']:>8.0f}"
                     f" {s['train_loss_mean']:>10.3f} {s['train_acc_mean']:>9.3f}"
                     f" {s['test_acc_mean']:>7.3f} ± {s['test_acc_se']:.3f}"
                     f" {s['top_eigenvalue_mean']:>6.2f} ± {s['top_eigenvalue_se']:<4.2f}"
                     f" {s['stability_mean']:>5.2f} ± {s['stability_se']:.2f}"
                     f" {s['eps_sharpness_mean']:>5.1f} ± {s['eps_sharpness_se']:<4.1f}")
    return "\n".join(lines)


def matched_figure(matched, gap):
    """λ_max and ε-sharpness against B, mean ± standard error over seeds, measured two ways: where each
    run of the gap protocol stopped (100 % training accuracy, sweep ``generalization``; the training loss
    there differs with B) and at one matched training loss L* (sweep ``sharpness_matched``, η = its
    ``lr``). Notebook 03, section 5."""
    import matplotlib.pyplot as plt

    m, g = _matched_results(matched), _gap_results(gap)
    lr = (matched.get("params") or {}).get("lr", 0.1)
    cs = [c for c in m["configs"] if c["lr"] == lr]
    bs_m = [c["batch_size"] for c in cs]
    bs_g = [b for b in g["batch_sizes"] if _summary_of(g, b)["reached"] == _summary_of(g, b)["n_seeds"]]
    lstar = (matched.get("params") or {}).get("target_train_loss")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
    for ax, key, title in zip(axes, ("top_eigenvalue", "eps_sharpness"),
                              ("top Hessian eigenvalue λ_max", "ε-sharpness (%)")):
        ax.errorbar(bs_g, [_summary_of(g, b)[f"{key}_mean"] for b in bs_g],
                    yerr=[_standard_error(_summary_of(g, b), key) for b in bs_g],
                    color=plotting.COLORS["muted"],
                    marker="o", capsize=4, ls="--", label="at 100 % train acc. (loss differs with B)")
        ax.errorbar(bs_m, [_matched_row(m, c)[f"{key}_mean"] for c in cs],
                    yerr=[_matched_row(m, c)[f"{key}_se"] for c in cs], color=plotting.COLORS["full"],
                    marker="s", capsize=4, label=f"at matched train loss L* = {lstar:g}")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xticks(bs_m, [str(b) for b in bs_m])
        ax.minorticks_off()
        ax.set_xlabel(f"batch size B (η = {lr:g})")
        ax.set_title(title)
    axes[0].legend(loc="lower right", fontsize=8.5)
    fig.suptitle("mean ± standard error over seeds", fontsize=10, y=0.995)
    fig.tight_layout()
    return fig


def stability_figure(record):
    """The edge of stability (Cohen et al. 2021): λ_max at the matched training loss against η for each B
    (mean ± standard error over seeds), with the stability limit 2/η of gradient descent on a quadratic
    (left); test accuracy against λ_max for every ``(B, η)`` (right; colour: B, marker: η).
    Notebook 03, section 6."""
    import matplotlib.pyplot as plt

    res = _matched_results(record)
    bs = sorted({c["batch_size"] for c in res["configs"]})
    multi = [b for b in bs if sum(c["batch_size"] == b for c in res["configs"]) > 1]
    colors = dict(zip(bs, ("#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")))
    lrs = sorted({c["lr"] for c in res["configs"]})
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10.5, 4.2), gridspec_kw={"width_ratios": [1.1, 1]})
    grid = np.geomspace(min(lrs) / 1.3, max(lrs) * 1.3, 50)
    ax.plot(grid, 2 / grid, color="k", lw=1.5, ls="--", label="2/η (stability limit of GD)")
    for b in multi:
        cs = sorted([c for c in res["configs"] if c["batch_size"] == b], key=lambda c: c["lr"])
        s = [_matched_row(res, c) for c in cs]
        ax.errorbar([c["lr"] for c in cs], [r["top_eigenvalue_mean"] for r in s],
                    yerr=[r["top_eigenvalue_se"] for r in s], color=colors[b], marker="o", capsize=4,
                    label=f"B = {b}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(lrs, [f"{v:g}" for v in lrs])
    ax.minorticks_off()
    ax.set_xlabel("learning rate η")
    ax.set_ylabel("λ_max at the matched training loss")
    ax.legend(loc="lower left", fontsize=8.5)
    ax.set_title("sharpness against the limit 2/η")
    markers = dict(zip(lrs, ("o", "s", "^", "D", "v")))
    for c in res["configs"]:
        s = _matched_row(res, c)
        ax2.errorbar(s["top_eigenvalue_mean"], s["test_acc_mean"], xerr=s["top_eigenvalue_se"],
                     yerr=s["test_acc_se"],
                     color=colors[c["batch_size"]], marker=markers[c["lr"]], ms=9, mec="white", capsize=0,
                     elinewidth=1.5, ls="none")
    from matplotlib.lines import Line2D
    handles = ([Line2D([], [], color=colors[b], marker="o", ls="none", label=f"B = {b}") for b in bs]
               + [Line2D([], [], color="0.3", marker=markers[v], ls="none", label=f"η = {v:g}") for v in lrs])
    ax2.legend(handles=handles, loc="best", fontsize=8, ncol=2)
    ax2.set_xscale("log")
    ax2.minorticks_off()
    ax2.set_xlabel("λ_max at the matched training loss")
    ax2.set_ylabel("test accuracy")
    ax2.set_title("test accuracy against sharpness")
    fig.tight_layout()
    return fig
