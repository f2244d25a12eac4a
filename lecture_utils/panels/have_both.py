"""Notebook 04 ("Having both"): tables, figures, the batch-size panel and exercise checks.

Everything reads the cached sweep ``have_both`` (``sweeps.load("have_both")``); the summary table
also reads the caches of notebooks 01 and 03. Nothing here trains.

* :func:`protocol_table` / :func:`protocol_figure` — small batch, large batch at η, at 16·η with
  and without warm-up, and trained longer (sections 1–2);
* :func:`scaling_panel` — batch size × (η fixed or scaled) × (warm-up off/on) among cached runs;
* :func:`critical_figure` — steps to a target against B, the fit S = S_min(1 + B_crit/B) and the
  noise scale B_simple (section 3);
* :func:`lars_figure` — trust ratios ‖w‖/‖∇w‖ per layer and LARS against SGD (section 4);
* :func:`parallel_report` — data-parallel weights against the single-process run (section 5);
* :func:`summary_table` — the lecture's small-vs-large table from the caches of notebooks 01–04;
* ``check_*`` — the exercises' self-checks (print, never raise).
"""
from __future__ import annotations

import math

import numpy as np

from .. import plotting
from ..widgets import Panel, selection_slider

N_TRAIN = 4000
MODES = ("fixed", "scaled")


def _results(record):
    if not isinstance(record, dict) or "results" not in record:
        raise ValueError("record must be the dict returned by sweeps.load('have_both')")
    return record["results"], record["params"]


def _fmt(v, spec=".3f", none="—"):
    return none if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


# ----------------------------------------------------------------------------- sections 1–2
def protocol_rows(record):
    """The rows of :func:`protocol_table` as dicts (name, B, η, W, epochs, steps, seconds, test acc ± std)."""
    res, p = _results(record)
    s = res["protocol"]["summary"]
    b0, lr0, b = p["base"]["batch_size"], p["base"]["lr"], p["large_batch"]
    w = p["warmup_epochs"] * (-(-N_TRAIN // b))
    big = lr0 * b / b0
    rows = [("small batch", b0, lr0, 0, s["small"]),
            ("large batch at η, same epochs", b, lr0, 0, s["large"]["at_same_epochs"]),
            ("large batch at η, to 100 % train", b, lr0, 0, s["large"]["at_target"]),
            ("large batch at η, same updates (train longer)", b, lr0, 0, s["large"]["at_same_steps"]),
            ("large batch at scaled η, no warm-up", b, big, 0, s["large_scaled"]),
            ("large batch at scaled η + warm-up", b, big, w, s["large_scaled_warmup"])]
    return [{"name": n, "batch_size": bb, "lr": lr, "warmup_steps": ww, "epochs": d.get("epochs_mean"),
             "steps": d.get("steps_mean"), "seconds": d.get("seconds_mean"), "test_acc": d.get("test_acc_mean"),
             "test_acc_std": d.get("test_acc_std"), "n": d.get("n", d.get("n_seeds"))} for n, bb, lr, ww, d in rows]


def protocol_table(record):
    """Sections 1–2 as text: one row per setting, means over the seeds (wall time of the cache's machine)."""
    lines = [f"{'setting':<46} {'B':>5} {'η':>5} {'W':>4} {'epochs':>7} {'updates':>8} {'time s':>7} {'test acc':>14}"]
    for r in protocol_rows(record):
        acc = "not reached" if r["test_acc"] is None else f"{r['test_acc']:.2f} ± {_fmt(r['test_acc_std'], '.2f')}"
        lines.append(f"{r['name']:<46} {r['batch_size']:>5} {r['lr']:>5.2g} {r['warmup_steps']:>4} "
                     f"{_fmt(r['epochs'], '.0f'):>7} {_fmt(r['steps'], '.0f'):>8} {_fmt(r['seconds'], '.1f'):>7} {acc:>14}")
    return "\n".join(lines)


def protocol_numbers(record):
    """The means the notebook's text and the tests quote: small, large at η (same epochs, same
    updates) and large at scaled η with warm-up, as test accuracies rounded to 2 digits."""
    rows = {r["name"]: r for r in protocol_rows(record)}
    return {"small": rows["small batch"]["test_acc"],
            "large_same_epochs": rows["large batch at η, same epochs"]["test_acc"],
            "large_train_longer": rows["large batch at η, same updates (train longer)"]["test_acc"],
            "large_scaled": rows["large batch at scaled η, no warm-up"]["test_acc"],
            "large_scaled_warmup": rows["large batch at scaled η + warm-up"]["test_acc"]}


def protocol_figure(record):
    """Test accuracy against epochs and against updates (log) for seed 0: B₀ at η₀, B at η₀
    (trained longer) and B at η₀·B/B₀ with warm-up. The right panel is the lecture's point:
    per update the large batch at scaled η does as much as the small one, so it needs 16× fewer."""
    import matplotlib.pyplot as plt

    res, p = _results(record)
    b0, b = p["base"]["batch_size"], p["large_batch"]
    grid = res["grid"]["runs"]
    curves = [(f"B = {b0}, η = {p['base']['lr']:g}", grid[f"{b0}|fixed|0"]["history"], plotting.COLORS["small"], "-"),
              (f"B = {b}, η = {p['base']['lr']:g} (trained longer)",
               res["protocol"]["per_seed"][str(p["seeds"][0])]["large"]["history"], plotting.COLORS["full"], "-"),
              (f"B = {b}, η = {grid[f'{b}|scaled|1']['lr']:g} + warm-up", grid[f"{b}|scaled|1"]["history"],
               plotting.COLORS["medium"], "-")]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for label, h, color, ls in curves:
        ep = np.array(h["epoch"], float)
        st = np.array(h["step"], float)
        acc = np.array([np.nan if v is None else v for v in h["test_acc"]], float)
        axes[0].plot(ep, acc, color=color, ls=ls, label=label)
        axes[1].plot(np.maximum(st, 1), acc, color=color, ls=ls)
    axes[0].set_xlabel("epoch")
    axes[0].set_xlim(0, 160)
    axes[1].set_xscale("log")
    axes[1].set_xlabel("updates (log scale)")
    for ax in axes:
        ax.set_ylabel("test accuracy")
        ax.set_ylim(0, 0.8)
    axes[0].legend(loc="lower right", fontsize=9)
    axes[0].set_title("per epoch")
    axes[1].set_title("per update")
    fig.tight_layout()
    return fig


def rule_limits(record):
    """Where the linear rule breaks, read off the cached grid: for each B ≥ the large batch, the
    scaled η with and without warm-up and what happened (diverged / test accuracy)."""
    res, p = _results(record)
    runs = res["grid"]["runs"]
    lines = []
    for b in res["grid"]["batch_sizes"]:
        if b < p["large_batch"]:
            continue
        parts = []
        for warm in (0, 1):
            r = runs[f"{b}|scaled|{warm}"]
            what = "diverged" if r["status"] == "diverged" else f"test acc {r['test_acc']:.2f}"
            if r["status"] not in ("diverged", "target_reached"):
                what += f" (train acc {r['train_acc']:.2f}, not 100 %)"
            parts.append(f"{'with' if warm else 'no'} warm-up: {what}")
        lines.append(f"B = {b:>4}, η = {runs[f'{b}|scaled|0']['lr']:>5.3g}: " + "; ".join(parts))
    return "\n".join(lines)


# ----------------------------------------------------------------------------- the panel
def _describe(run, b, mode, warm, base_run, b0):
    acc = run["test_acc"]
    if run["status"] == "diverged":
        what = f"diverged after {run['steps']} updates (loss became inf/NaN)"
    elif run["status"] == "target_reached":
        what = (f"100 % training accuracy after {run['epochs']:.0f} epochs ({run['steps']} updates); "
                f"test accuracy {acc:.2f}")
    else:
        what = (f"no 100 % training accuracy within {run['epochs']:.0f} epochs ({run['steps']} updates): "
                f"training accuracy {run['train_acc']:.2f}, test accuracy {acc:.2f}")
    ref = "" if b == b0 else f" (B = {b0} at η = {base_run['lr']:g}: {base_run['test_acc']:.2f})"
    w = f"warm-up over {run['warmup_steps']} updates" if warm else "no warm-up"
    return f"B = {b}, η = {run['lr']:g} ({mode}), {w}: {what}{ref}."


def scaling_panel(record):
    """Batch size × η (fixed or scaled linearly) × warm-up (off/on), all cached (notebook 04, section 1).

    Left: test accuracy against epochs of the selected run and of the base B₀ run; right: the
    final test accuracy of every cached run against B, the selected one ringed. The caption
    states the selected run's numbers. A slider move only switches cached curves.
    """
    import ipywidgets as w
    from matplotlib.figure import Figure

    res, p = _results(record)
    grid = res["grid"]
    runs = grid["runs"]
    bs = list(grid["batch_sizes"])
    b0 = p["base"]["batch_size"]
    base = runs[f"{b0}|fixed|0"]
    fig = Figure(figsize=(10, 3.6))
    ax, ax2 = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    hb = base["history"]
    ax.plot(hb["epoch"], hb["test_acc"], color=plotting.COLORS["small"], lw=1.5)
    line = ax.plot([], [], color="k", lw=2.5)[0]
    ax.set_xlim(0, p.get("grid_max_epochs", p["max_epochs"]))
    ax.set_ylim(0, 0.8)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8])
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.text(0.98, 0.04, f"blue: B = {b0}, η = {base['lr']:g}    black: selected", transform=ax.transAxes,
            ha="right", fontsize=9)
    status = plotting.status_text(ax)
    styles = {("fixed", 0): ("o", plotting.COLORS["full"], "η fixed"),
              ("fixed", 1): ("o", "#f2a0a0", "η fixed + warm-up"),
              ("scaled", 0): ("s", plotting.COLORS["medium"], "η scaled"),
              ("scaled", 1): ("s", "#1b5e20", "η scaled + warm-up")}
    for (mode, warm), (mk, color, label) in styles.items():
        acc = [runs[f"{b}|{mode}|{warm}"]["test_acc"] for b in bs]
        acc = [np.nan if a is None else a for a in acc]
        ax2.plot(bs, acc, marker=mk, color=color, lw=1.5, ms=6, label=label)
    sel = ax2.plot([], [], "o", ms=16, mfc="none", mec="k", mew=2)[0]
    ax2.set_xscale("log")
    ax2.set_xticks(bs, [str(b) for b in bs], fontsize=9)
    ax2.minorticks_off()
    ax2.set_ylim(0, 0.8)
    ax2.set_yticks([0, 0.2, 0.4, 0.6, 0.8])
    ax2.set_xlabel("batch size B")
    ax2.set_ylabel("final test accuracy")
    ax2.legend(loc="lower left", fontsize=8, title="diverged: no point", title_fontsize=8)
    ax2.grid(False)
    title = ax.set_title("")
    fig.tight_layout()  # once: layout at every redraw would cost time

    def update(batch_size, eta, warmup):
        b, warm = int(batch_size), int(bool(warmup))
        run = runs[f"{b}|{eta}|{warm}"]
        h = run["history"]
        acc = np.array([np.nan if v is None else v for v in h["test_acc"]], float)
        line.set_data(h["epoch"], acc)
        title.set_text(f"B = {b}, η = {run['lr']:g}" + (" + warm-up" if warm else ""))
        sel.set_data([b], [np.nan if run["test_acc"] is None else run["test_acc"]])
        plotting.set_status(status, "diverged" if run["status"] == "diverged" else None)
        return _describe(run, b, eta, warm, base, b0)

    controls = {"batch_size": selection_slider("batch_size", bs, p["large_batch"], description="batch size B"),
                "eta": w.ToggleButtons(options=list(MODES), value="scaled", description="η",
                                       style={"button_width": "80px"}),
                "warmup": w.Checkbox(value=True, description="warm-up (5 epochs)")}
    return Panel(fig, update, controls, title="batch size, η scaled or not, warm-up",
                 dynamic=[line, sel, title, status])


# ----------------------------------------------------------------------------- section 3
def critical_numbers(record):
    """Fitted S_min, E_min, B_crit and the measured B_simple at the target loss (None if missing)."""
    res, _ = _results(record)
    fit = res["critical"]["fit"] or {}
    at = res["noise"]["at_target"] or {}
    return {"target_loss": res["critical"]["target_loss"], "s_min": fit.get("s_min"), "e_min": fit.get("e_min"),
            "b_crit": fit.get("b_crit"), "b_simple": at.get("b_simple"),
            "b_simple_range": [min(q["b_simple"] for q in res["noise"]["points"]),
                               max(q["b_simple"] for q in res["noise"]["points"])] if res["noise"]["points"] else None}


def critical_table(record):
    """Steps to the target training loss per B with the best η of the grid, and the fitted curve."""
    from ..scaling import critical_curve

    res, _ = _results(record)
    c = res["critical"]
    fit = c["fit"]
    lines = [f"{'B':>5} {'best η':>7} {'updates':>8} {'examples':>9} {'fit S(B)':>9}"]
    for r in c["rows"]:
        pred = critical_curve([r["batch_size"]], fit["s_min"], fit["b_crit"])[0] if fit else None
        lines.append(f"{r['batch_size']:>5} {_fmt(r['lr'], '.2g'):>7} {_fmt(r['steps'], 'd'):>8} "
                     f"{_fmt(None if r['steps'] is None else r['steps'] * r['batch_size'], 'd'):>9} {_fmt(pred, '.0f'):>9}")
    return "\n".join(lines)


def critical_figure(record):
    """Left: updates to the target loss against B (log-log) with perfect scaling S ∝ 1/B, the fit
    S_min(1 + B_crit/B), B_crit and B_simple; middle: examples E = B·S against updates S with the
    hyperbola (S/S_min − 1)(E/E_min − 1) = 1; right: B_simple (two-batch estimate) at several
    training losses along the small-batch run."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullFormatter

    from ..scaling import critical_curve

    res, _ = _results(record)
    c, nz = res["critical"], res["noise"]
    ok = [r for r in c["rows"] if r["steps"] is not None]
    b = np.array([r["batch_size"] for r in ok], float)
    s = np.array([r["steps"] for r in ok], float)
    fit = c["fit"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    ax = axes[0]
    ax.plot(b, s, "o", color="k", label="measured (best η)")
    bb = np.geomspace(b.min(), b.max(), 100)
    ax.plot(bb, s[0] * b[0] / bb, ":", color=plotting.COLORS["muted"], label="perfect scaling S ∝ 1/B")
    if fit:
        ax.plot(bb, critical_curve(bb, fit["s_min"], fit["b_crit"]), color=plotting.COLORS["medium"],
                label=f"fit: B_crit = {fit['b_crit']:.0f}")
        ax.axvline(fit["b_crit"], color=plotting.COLORS["medium"], ls="--", lw=1)
    at = nz["at_target"]
    if at:
        ax.axvline(at["b_simple"], color=plotting.COLORS["gradient"], ls="--", lw=1,
                   label=f"B_simple = {at['b_simple']:.0f}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_ylabel(f"updates to train loss {c['target_loss']:g}")
    ax.legend(fontsize=8, loc="lower left")
    ax = axes[1]
    ax.plot(s, s * b, "o", color="k")
    if fit:
        ss = critical_curve(bb, fit["s_min"], fit["b_crit"])
        ax.plot(ss, ss * bb, color=plotting.COLORS["medium"])
        ax.axvline(fit["s_min"], color=plotting.COLORS["muted"], ls=":", lw=1)
        ax.axhline(fit["e_min"], color=plotting.COLORS["muted"], ls=":", lw=1)
        ax.text(fit["s_min"] * 1.1, fit["e_min"] * 1.15, "S_min, E_min", fontsize=9, color=plotting.COLORS["muted"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("updates S")
    ax.set_ylabel("examples processed E = B·S")
    ax.set_title("time (S) against compute (E)")
    ax = axes[2]
    pts = nz["points"]
    ax.plot([q["train_loss"] for q in pts], [q["b_simple"] for q in pts], "o-", color=plotting.COLORS["gradient"])
    ax.set_xlabel(f"training loss (run B = {nz['batch_size']}, η = {nz['lr']:g})")
    ax.set_ylabel("B_simple = tr Σ / |G|²")
    ax.invert_xaxis()
    ax.set_ylim(0, None)
    ax.set_title("B_simple along the run")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- section 4
def lars_table(record):
    """SGD and LARS at the large batch: final training loss and accuracies per η."""
    res, _ = _results(record)
    L = res["lars"]
    lines = [f"B = {L['batch_size']}, {L['steps']} updates, warm-up {L['warmup_steps']}",
             f"{'method':<6} {'η':>5} {'τ':>6} {'train loss':>11} {'train acc':>10} {'test acc':>9}"]
    for name in ("sgd", "lars"):
        for r in L[name]:
            if r["status"] == "diverged":
                lines.append(f"{name.upper():<6} {r['lr']:>5.2g} {_fmt(r['trust'], '.2g'):>6} {'diverged':>11}")
            else:
                lines.append(f"{name.upper():<6} {r['lr']:>5.2g} {_fmt(r['trust'], '.2g'):>6} {r['train_loss']:>11.2f} "
                             f"{r['train_acc']:>10.2f} {r['test_acc']:>9.2f}")
    return "\n".join(lines)


def lars_figure(record):
    """Trust ratios ‖w_l‖/‖∇w_l‖ of the three layers along the best SGD run (log scale): one global
    η is a different relative step for every layer, which LARS equalises."""
    import matplotlib.pyplot as plt

    res, _ = _results(record)
    L = res["lars"]
    r = L["ratios"]
    fig, ax = plt.subplots(figsize=(7, 3.8))
    names = [k for k in r if k != "step"]
    for i, k in enumerate(names):
        ax.plot(r["step"], r[k], label=f"layer {i + 1} weights", lw=2)
    ax.set_yscale("log")
    ax.set_xlabel("update")
    ax.set_ylabel("‖w‖ / ‖∇w‖")
    ax.set_title(f"trust ratios, SGD at B = {L['batch_size']}, η = {L['best_sgd']['lr']:g}")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def trust_ratio_line(record):
    """The trust ratios at the first recorded update and at the last, per layer (2 significant digits)."""
    res, _ = _results(record)
    r = res["lars"]["ratios"]
    names = [k for k in r if k != "step"]
    first = ", ".join(f"layer {i + 1} {_sig(r[k][0])}" for i, k in enumerate(names))
    last = ", ".join(f"layer {i + 1} {_sig(r[k][-1])}" for i, k in enumerate(names))
    return f"‖w‖/‖∇w‖ at update {int(r['step'][0])}: {first}; at update {int(r['step'][-1])}: {last}"


# ----------------------------------------------------------------------------- section 5
def parallel_report(result, reference, *, threshold=1e-5):
    """Lines comparing a :func:`lecture_utils.parallel.data_parallel_train` result with the
    single-process ``train_classifier`` run (stable text: a boolean against the threshold)."""
    from ..train import flat_params

    diff = float(np.abs(flat_params(result.model) - flat_params(reference.model)).max())
    return (f"{result.world_size} workers × {result.per_worker_batch} examples = global batch {result.global_batch}, "
            f"{result.steps} updates, status {result.status}\n"
            f"max |Δθ| against train_classifier(batch_size={result.global_batch}) < {threshold:g}: {diff < threshold}")


def parallel_table(record):
    """The cached 1- vs 2-worker timing (wall-clock of the machine that built the cache)."""
    res, _ = _results(record)
    P = res["parallel"]
    lines = [f"global batch {P['global_batch']}, {P['steps']} updates (cached run; 1 vs 2 workers weights "
             f"agree < 1e-5: {P['max_abs_diff'] < 1e-5})",
             f"{'workers':>7} {'per worker':>10} {'ms/update':>10} {'examples/s':>11}"]
    for r in P["rows"]:
        lines.append(f"{r['world_size']:>7} {r['per_worker_batch']:>10} {1000 * r['seconds_per_update']:>10.2f} "
                     f"{r['examples_per_second']:>11.0f}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- summary table
def _load(name):
    from .. import sweeps

    try:
        return sweeps.load(name)
    except Exception as exc:  # missing cache, other parameters, or not (yet) a sweep of this package
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _at(res, key, b):
    bs = list(res["batch_sizes"])
    return res[key][bs.index(b)] if b in bs else None


def summary_rows(records=None):
    """The lecture's small-vs-large table, every cell read from a cache (notebooks 01–04).

    ``records`` maps cache names (``timing``, ``batch_accuracy``, ``generalization``, ``have_both``)
    to loaded records (default: ``sweeps.load`` each). A missing cache gives cells ``None`` and
    a note naming it. Returns ``(rows, notes)``; a row is (quantity, small, large, source).
    """
    names = ("timing", "batch_accuracy", "generalization", "have_both")
    recs = {n: (records or {}).get(n) or _load(n) for n in names}
    notes = [f"{n}: {r}" for n, r in recs.items() if isinstance(r, str)]
    ok = {n: r["results"] for n, r in recs.items() if not isinstance(r, str)}
    hb = ok.get("have_both")
    sb, lb = 32, 512
    rows = []
    t = ok.get("timing")
    ba = ok.get("batch_accuracy")
    if t:
        rows.append(("time per update, 1 process (ms)", _ms(_at(t, "per_update_s", sb)), _ms(_at(t, "per_update_s", lb)),
                     "01 timing"))
        rows.append(("time per epoch (s)", _at(t, "per_epoch_s", sb), _at(t, "per_epoch_s", lb), "01 timing"))
    elif ba:
        spe, upe = ba["seconds_per_epoch"], ba["updates_per_epoch"]
        per = [s / u for s, u in zip(spe, upe)]
        rows.append(("time per update, 1 process (ms)", _ms(_at({**ba, "p": per}, "p", sb)),
                     _ms(_at({**ba, "p": per}, "p", lb)), "01 batch_accuracy"))
        rows.append(("time per epoch (s)", _at(ba, "seconds_per_epoch", sb), _at(ba, "seconds_per_epoch", lb),
                     "01 batch_accuracy"))
    else:
        rows.append(("time per update, 1 process (ms)", None, None, "01 (cache missing)"))
        rows.append(("time per epoch (s)", None, None, "01 (cache missing)"))
    if hb:
        P = hb["parallel"]
        two = [r for r in P["rows"] if r["world_size"] == 2]
        rows.append((f"time per update, 2 workers, B = {P['global_batch']} (ms)", None,
                     _ms(two[0]["seconds_per_update"]) if two else None, "04 parallel"))
        nz = hb["noise"]["at_target"]
        if nz:
            rel = [nz["trace"] * (N_TRAIN - b) / (b * (N_TRAIN - 1)) / nz["g2"] for b in (sb, lb)]
            rows.append((f"gradient noise E|g_B − g|²/|g|² at loss {hb['critical']['target_loss']:g}", rel[0], rel[1],
                         "04 noise scale"))
        crit = {r["batch_size"]: r["steps"] for r in hb["critical"]["rows"]}
        rows.append((f"optimization: updates to loss {hb['critical']['target_loss']:g} (tuned η)", crit.get(sb),
                     crit.get(lb), "04 critical"))
    else:
        rows += [("gradient noise", None, None, "04 (cache missing)"),
                 ("optimization: updates to target", None, None, "04 (cache missing)")]
    if ba:
        rows.append((f"test acc after {recs['batch_accuracy']['params']['epochs']} epochs, same η",
                     _at(ba, "mean_test_acc", sb), _at(ba, "mean_test_acc", lb), "01 batch_accuracy"))
    else:
        rows.append(("test acc after a fixed epoch budget", None, None, "01 (cache missing)"))
    g = ok.get("generalization")
    if g:
        gap = g["gap"]
        rows.append((f"generalization: test acc at 100 % train, same η (B = {gap['sb']} vs {gap['lb']})",
                     g["summary"][str(gap["sb"])]["test_acc_mean"], g["summary"][str(gap["lb"])]["test_acc_mean"],
                     "03 generalization"))
    else:
        rows.append(("generalization: test acc at 100 % train, same η", None, None, "03 (cache missing)"))
    if hb:
        s = hb["protocol"]["summary"]
        rows.append(("having both: test acc, large batch at scaled η + warm-up", s["small"]["test_acc_mean"],
                     s["large_scaled_warmup"]["test_acc_mean"], "04 protocol"))
    return rows, notes


def _ms(v):
    return None if v is None else 1000 * v


def summary_table(records=None):
    """:func:`summary_rows` as text (numbers at 2 significant digits: stable across machines
    only for the accuracies; the timing rows are wall-clock of the machine that built each cache)."""
    rows, notes = summary_rows(records)
    lines = [f"{'quantity':<66} {'B = 32':>8} {'B = 512':>8}  source"]
    for q, a, b, src in rows:
        lines.append(f"{q:<66} {_sig(a):>8} {_sig(b):>8}  {src}")
    for n in notes:
        lines.append(f"missing: {n}")
    return "\n".join(lines)


def _sig(v):
    if v is None:
        return "—"
    if isinstance(v, int):
        return str(v)
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2g}" if a < 1 else f"{v:.2f}"
