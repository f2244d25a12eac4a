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
from . import reads_sweep

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
    """Sections 1–2 as text: one row per setting, means over the seeds with the test accuracy's
    standard error s/√n (wall time of the cache's machine)."""
    _, p = _results(record)
    lines = [f"seeds {p['seeds']}: mean ± standard error",
             f"{'setting':<46} {'B':>5} {'η':>5} {'W':>4} {'epochs':>7} {'updates':>8} {'time s':>7} {'test acc':>14}"]
    for r in protocol_rows(record):
        se = None if r["test_acc_std"] is None or not r["n"] else r["test_acc_std"] / math.sqrt(r["n"])
        acc = "not reached" if r["test_acc"] is None else f"{r['test_acc']:.3f} ± {_fmt(se, '.3f')}"
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


@reads_sweep("have_both")
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
    """The ``have_both`` cache's own one-seed fit (S_min, E_min, B_crit) and B_simple (None if missing);
    notebook 04 shows the seeded sweeps ``critical_batch`` and ``noise_scale`` instead (:func:`critical_fit`)."""
    res, _ = _results(record)
    fit = res["critical"]["fit"] or {}
    at = res["noise"]["at_target"] or {}
    return {"target_loss": res["critical"]["target_loss"], "s_min": fit.get("s_min"), "e_min": fit.get("e_min"),
            "b_crit": fit.get("b_crit"), "b_simple": at.get("b_simple"),
            "b_simple_range": [min(q["b_simple"] for q in res["noise"]["points"]),
                               max(q["b_simple"] for q in res["noise"]["points"])] if res["noise"]["points"] else None}


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

    ``records`` maps cache names (``timing``, ``batch_accuracy``, ``generalization``, ``have_both``,
    ``tuned_lr``, ``critical_batch``, ``noise_scale``) to loaded records (default: ``sweeps.load`` each). A missing cache gives cells ``None`` and
    a note naming it. Returns ``(rows, notes)``; a row is (quantity, small, large, source).
    """
    names = ("timing", "batch_accuracy", "generalization", "have_both", "tuned_lr", "critical_batch", "noise_scale")
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
                     _ms(two[0]["seconds_per_update"]) if two else None, "04 parallel (1 run)"))
    else:
        rows.append(("time per update, 2 workers (ms)", None, None, "04 have_both (cache missing)"))
    nz, cb = ok.get("noise_scale"), ok.get("critical_batch")
    if nz and cb:
        level = recs["critical_batch"]["params"]["target_loss"]
        seeds = recs["noise_scale"]["params"]["seeds"]
        pts = [q for sd in seeds for q in nz["per_seed"][str(sd)] if q["loss_level"] == level]
        # E|g_B − g|²/|g|² = tr Σ·(N − B)/(B(N − 1))/|G|² per seed (sampling without replacement)
        rel = [mean_se([q["trace"] * (N_TRAIN - b) / (b * (N_TRAIN - 1)) / q["g2"] for q in pts])[:2] for b in (sb, lb)]
        rows.append((f"gradient noise E|g_B − g|²/|g|² at loss {level:g}", rel[0], rel[1],
                     f"04 noise_scale ({len(pts)} seeds)"))
    else:
        rows.append(("gradient noise", None, None, "04 noise_scale (cache missing)"))
    if cb:
        crit = {r["batch_size"]: (r["s_mean"], r["s_se"]) for r in critical_rows(recs["critical_batch"])}
        rows.append((f"optimization: updates to loss {recs['critical_batch']['params']['target_loss']:g} (η tuned)",
                     crit.get(sb), crit.get(lb), f"04 critical_batch ({len(recs['critical_batch']['params']['seeds'])} seeds)"))
    else:
        rows.append(("optimization: updates to target", None, None, "04 critical_batch (cache missing)"))
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
    if ok.get("tuned_lr"):
        tn = tuned_numbers(recs["tuned_lr"])
        cell = {b: (tn[b]["tuned"][1], tn[b]["tuned"][2]) if b in tn and tn[b]["tuned"] else None for b in (sb, lb)}
        rows.append(("having both: test acc at 100 % train, η tuned for each B", cell[sb], cell[lb],
                     f"04 tuned_lr ({len(recs['tuned_lr']['params']['seeds'])} seeds)"))
    else:
        rows.append(("having both: test acc, η tuned for each B", None, None, "04 tuned_lr (cache missing)"))
    return rows, notes


def _ms(v):
    return None if v is None else 1000 * v


def summary_table(records=None):
    """:func:`summary_rows` as text (numbers at 2 significant digits: stable across machines
    only for the accuracies; the timing rows are wall-clock of the machine that built each cache)."""
    rows, notes = summary_rows(records)
    lines = [f"{'quantity (mean ± s.e. where seeded)':<64} {'B = 32':>12} {'B = 512':>12}  source"]
    for q, a, b, src in rows:
        lines.append(f"{q:<64} {_sig(a):>12} {_sig(b):>12}  {src}")
    for n in notes:
        lines.append(f"missing: {n}")
    return "\n".join(lines)


def _sig(v):
    if isinstance(v, tuple):  # (mean, standard error)
        m, se = v
        if m is None:
            return "—"
        nd = 0 if abs(m) >= 100 else 1 if abs(m) >= 10 else 2
        return _sig(m) if se is None else f"{m:.{nd}f}±{se:.{nd}f}"
    if v is None:
        return "—"
    if isinstance(v, int):
        return str(v)
    a = abs(v)
    return f"{v:.0f}" if a >= 100 else f"{v:.1f}" if a >= 10 else f"{v:.2g}" if a < 1 else f"{v:.2f}"


# ----------------------------------------------------------------------------- seeds and intervals
def mean_se(values):
    """(mean, standard error s/√n, n) of the finite values (None where there are none; se None for n < 2)."""
    v = np.array([x for x in values if x is not None and math.isfinite(float(x))], float)
    n = len(v)
    if n == 0:
        return None, None, 0
    return float(v.mean()), (float(v.std(ddof=1) / math.sqrt(n)) if n > 1 else None), n


def _pm(m, se, spec=".3f"):
    return "—" if m is None else f"{m:{spec}} ± {_fmt(se, spec)}"


# ----------------------------------------------------------------------------- section 1: η tuned for every B
def tuned_cells(record):
    """Every (B, η) cell of the sweep ``tuned_lr``: ``n`` seeds, ``reached`` (100 % training
    accuracy), ``diverged``, test accuracy mean ± standard error over the seeds that reached it,
    mean updates and epochs (notebook 04, section 1)."""
    res, p = _results(record)
    out = {}
    for b in p["batch_sizes"]:
        for lr in p["lrs"]:
            rs = [res["runs"][f"{b}|{lr:g}|{s}"] for s in p["seeds"]]
            ok = [r for r in rs if r["status"] == "target_reached"]
            m, se, _ = mean_se([r["test_acc"] for r in ok])
            out[(b, lr)] = {"n": len(rs), "reached": len(ok), "diverged": sum(r["status"] == "diverged" for r in rs),
                            "test_acc": m, "se": se, "steps": mean_se([r["steps"] for r in ok])[0],
                            "epochs": mean_se([r["epochs"] for r in ok])[0]}
    return out


def tuned_rows(record):
    """Per B the cells of the three rules and the tuned one: ``fixed`` (η₀), ``sqrt`` (η₀·√(B/B₀),
    None when not on the grid), ``linear`` (η₀·B/B₀) and ``tuned`` (the η of the grid with the best
    mean test accuracy among those where every seed reached 100 % training accuracy)."""
    _, p = _results(record)
    cells = tuned_cells(record)
    b0, lr0 = p["base"]["batch_size"], p["base"]["lr"]

    def on_grid(lr):
        hit = [g for g in p["lrs"] if abs(g - lr) <= 1e-9 * lr]
        return hit[0] if hit else None

    rows = []
    for b in p["batch_sizes"]:
        full = [lr for lr in p["lrs"] if cells[(b, lr)]["reached"] == cells[(b, lr)]["n"]]
        best = max(full, key=lambda lr: cells[(b, lr)]["test_acc"]) if full else None
        row = {"batch_size": b}
        for name, lr in (("fixed", lr0), ("sqrt", on_grid(lr0 * math.sqrt(b / b0))), ("linear", on_grid(lr0 * b / b0)),
                         ("tuned", best)):
            row[name] = None if lr is None else {"lr": lr, **cells[(b, lr)]}
        rows.append(row)
    return rows


def _cell_text(c):
    if c is None:
        return "not on grid"
    if c["reached"] < c["n"]:
        what = f"{c['diverged']}/{c['n']} diverged" if c["diverged"] else f"{c['reached']}/{c['n']} reach 100 %"
        return f"η {c['lr']:<4g} {what}"
    return f"η {c['lr']:<4g} {c['test_acc']:.3f} ± {_fmt(c['se'], '.3f')}"


def tuned_table(record):
    """The grid of ``tuned_lr`` as text: mean test accuracy at 100 % training accuracy per (B, η);
    ``div`` = every seed diverged, ``k/n`` = only k of n seeds reached 100 % training accuracy."""
    _, p = _results(record)
    cells = tuned_cells(record)
    lines = [f"test accuracy at 100 % training accuracy, mean of seeds {p['seeds']} (± standard error below)",
             f"{'B':>5} | " + " ".join(f"{'η=' + format(lr, 'g'):>7}" for lr in p["lrs"])]
    for b in p["batch_sizes"]:
        parts = []
        for lr in p["lrs"]:
            c = cells[(b, lr)]
            parts.append(f"{'div':>7}" if c["diverged"] == c["n"] else f"{str(c['reached']) + '/' + str(c['n']):>7}"
                         if c["reached"] < c["n"] else f"{c['test_acc']:>7.3f}")
        lines.append(f"{b:>5} | " + " ".join(parts))
    lines.append("")
    lines.append(f"{'B':>5}  {'η fixed (η₀)':<22} {'η ∝ √B (Hoffer)':<22} {'η ∝ B (η/B fixed)':<22} {'η tuned (best of grid)':<22}")
    for r in tuned_rows(record):
        lines.append(f"{r['batch_size']:>5}  " + " ".join(f"{_cell_text(r[k]):<22}" for k in ("fixed", "sqrt", "linear", "tuned")))
    return "\n".join(lines)


def tuned_numbers(record):
    """Test accuracy (mean, se) of the rules and of the tuned η per B, for the text and the tests."""
    out = {}
    for r in tuned_rows(record):
        out[r["batch_size"]] = {k: (None if r[k] is None else (r[k]["lr"], r[k]["test_acc"], r[k]["se"], r[k]["reached"]))
                                for k in ("fixed", "sqrt", "linear", "tuned")}
    return out


def tuned_figure(record):
    """Test accuracy (mean ± standard error over the seeds) against η for every B (log x); a cell
    where a seed did not reach 100 % training accuracy is drawn hollow at the mean of those that did,
    a cell where all diverged is missing. Rings: the linear rule η₀·B/B₀; stars: the tuned η."""
    import matplotlib.pyplot as plt

    _, p = _results(record)
    cells = tuned_cells(record)
    rows = {r["batch_size"]: r for r in tuned_rows(record)}
    fig, ax = plt.subplots(figsize=(8, 4.2))
    cmap = plt.get_cmap("viridis")
    bs = p["batch_sizes"]
    for i, b in enumerate(bs):
        color = cmap(i / max(len(bs) - 1, 1) * 0.85)
        lrs = [lr for lr in p["lrs"] if cells[(b, lr)]["test_acc"] is not None]
        m = np.array([cells[(b, lr)]["test_acc"] for lr in lrs])
        se = np.array([cells[(b, lr)]["se"] or 0.0 for lr in lrs])
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
    ax.set_xlabel("learning rate η (log scale)")
    ax.set_ylabel("test accuracy at 100 % train")
    ax.set_title(f"{len(p['seeds'])} seeds (mean ± s.e.); ring: η ∝ B, star: best; hollow: not every seed reached "
                 f"100 %; missing: none did", fontsize=9)
    ax.legend(fontsize=9, loc="lower right")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- section 1: warm-up, divergence rate
def warmup_rows(record):
    """Per (B, W) of the sweep ``warmup``: diverged k of n seeds with a 95 % Wilson interval, the
    updates at which they diverged, and test accuracy (mean ± se) of the seeds that reached 100 %."""
    from ..landscapes import wilson_interval

    res, p = _results(record)
    rows = []
    for b in p["settings"]:
        for warm in (0, 1):
            rs = [res["runs"][f"{b}|{warm}|{s}"] for s in p["seeds"]]
            div = [r for r in rs if r["status"] == "diverged"]
            ok = [r for r in rs if r["status"] == "target_reached"]
            lo, hi = wilson_interval(len(div), len(rs))
            m, se, _ = mean_se([r["test_acc"] for r in ok])
            rows.append({"batch_size": b, "lr": rs[0]["lr"], "warmup_steps": rs[0]["warmup_steps"], "n": len(rs),
                         "diverged": len(div), "wilson": (float(lo), float(hi)),
                         "diverged_at": sorted(r["steps"] for r in div), "reached": len(ok),
                         "test_acc": m, "se": se})
    return rows


def warmup_table(record):
    """:func:`warmup_rows` as text."""
    _, p = _results(record)
    lines = [f"seeds {p['seeds'][0]}–{p['seeds'][-1]} (n = {len(p['seeds'])}), protocol: to 100 % training accuracy",
             f"{'B':>5} {'η':>5} {'warm-up W':>10} {'diverged':>9} {'95 % Wilson':>13} {'at update':>14} "
             f"{'reached':>8} {'test acc (reached)':>19}"]
    for r in warmup_rows(record):
        at = ", ".join(map(str, r["diverged_at"])) or "—"
        lines.append(f"{r['batch_size']:>5} {r['lr']:>5.2g} {r['warmup_steps']:>10} {r['diverged']:>5}/{r['n']:<3} "
                     f"{r['wilson'][0]:>6.2f}–{r['wilson'][1]:.2f} {at:>14} {r['reached']:>5}/{r['n']:<2} "
                     f"{_pm(r['test_acc'], r['se']):>19}")
    return "\n".join(lines)


def stability_numbers(record, b=None):
    """λ_max·η/2 along the tracked runs (η of that update): per warm-up setting the median over
    seeds and updates before step 120, the share of measurements above 1 (beyond the limit
    λ_max = 2/η), and λ_max at the start (update 0, the same for both settings)."""
    res, p = _results(record)
    b = p["track"][0] if b is None else b
    out = {}
    for warm in (0, 1):
        ratios, lam0 = [], []
        for s in p["track_seeds"]:
            t = res["runs"][f"{b}|{warm}|{s}"].get("track")
            if not t:
                continue
            for st, lr, lam in zip(t["step"], t["lr"], t["lam"]):
                if lam is not None and st < 120:
                    ratios.append(lam * lr / 2)
                if st == 0 and lam is not None:
                    lam0.append(lam)
        r = np.array(ratios)
        out[warm] = {"median_ratio": float(np.median(r)) if len(r) else None,
                     "share_above_1": float((r > 1).mean()) if len(r) else None, "n": len(r),
                     "lam0": float(np.median(lam0)) if lam0 else None}
    return out


def warmup_figure(record):
    """λ_max·η/2 along the tracked runs, one line per seed, without (left) and with (right) warm-up;
    the dashed line at 1 is the stability limit λ_max = 2/η of gradient descent on a quadratic;
    seeds that diverged are red, with × at the update where the loss became inf/NaN."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    res, p = _results(record)
    b = p["track"][0]
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, warm in zip(axes, (0, 1)):
        nd = 0
        for s in p["track_seeds"]:
            r = res["runs"][f"{b}|{warm}|{s}"]
            t = r.get("track")
            if not t:
                continue
            st = np.array(t["step"], float)
            ratio = np.array([np.nan if lam is None else lam * lr / 2 for lam, lr in zip(t["lam"], t["lr"])])
            bad = r["status"] == "diverged"
            nd += bad
            ax.plot(st, ratio, "-", color=plotting.COLORS["full"] if bad else plotting.COLORS["small"],
                    lw=1.6 if bad else 1.0, alpha=0.9 if bad else 0.6)
            if bad:  # × at the update where the loss became inf/NaN (after the last measurement)
                ax.plot([st[-1], r["steps"]], [ratio[-1], ratio[-1]], ":", color=plotting.COLORS["full"], lw=1.2)
                ax.plot([r["steps"]], [ratio[-1]], "x", color=plotting.COLORS["full"], ms=9, mew=2)
        ax.axhline(1.0, color="k", ls="--", lw=1)
        if warm:
            ax.axvline(r["warmup_steps"], color=plotting.COLORS["muted"], ls=":", lw=1)
            ax.text(r["warmup_steps"] + 3, 0.03, "end of warm-up", fontsize=9, color=plotting.COLORS["muted"],
                    transform=ax.get_xaxis_transform())
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("update")
        n = len(p["track_seeds"])
        alln = [res["runs"][f"{b}|{warm}|{s}"]["status"] == "diverged" for s in p["seeds"]]
        ax.set_title(f"B = {b}, η = {r['lr']:g}, " + (f"warm-up W = {r['warmup_steps']}" if warm else "no warm-up")
                     + f"\nseeds {p['track_seeds'][0]}–{p['track_seeds'][-1]} drawn, {nd}/{n} diverged (red, × where); "
                     f"all seeds: {sum(alln)}/{len(alln)}", fontsize=10)
    axes[0].set_ylabel("λ_max · η / 2   (stable below 1)")
    axes[0].text(0.02, 0.92, "above the dashed line: λ_max > 2/η", transform=axes[0].transAxes, fontsize=9)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------- section 3: critical batch, noise scale
def critical_rows(record):
    """Per B of the sweep ``critical_batch``: each seed's best η and updates S to the target loss,
    S mean ± se, E = B·S̄, and how many η of the grid were tried."""
    res, p = _results(record)
    rows = []
    for b in p["batch_sizes"]:
        rs = [res["runs"][f"{b}|{s}"] for s in p["seeds"]]
        m, se, n = mean_se([r["steps"] for r in rs])
        rows.append({"batch_size": b, "best_lrs": [r["best_lr"] for r in rs], "steps": [r["steps"] for r in rs],
                     "s_mean": m, "s_se": se, "n": n, "n_seeds": len(rs), "n_lrs": len(rs[0]["tried"]),
                     "e_mean": None if m is None else m * b})
    return rows


def critical_fit(record):
    """S(B) = S_min(1 + B_crit/B) fitted to the seed means, and to each seed alone (B_crit mean ± se)."""
    from ..scaling import fit_critical_batch

    res, p = _results(record)
    rows = [r for r in critical_rows(record) if r["n"] == r["n_seeds"]]
    fit = fit_critical_batch([r["batch_size"] for r in rows], [r["s_mean"] for r in rows])
    per_seed = []
    for s in p["seeds"]:
        rr = [res["runs"][f"{b}|{s}"] for b in p["batch_sizes"]]
        ok = [(b, r["steps"]) for b, r in zip(p["batch_sizes"], rr) if r["steps"] is not None]
        per_seed.append(fit_critical_batch([b for b, _ in ok], [st for _, st in ok])["b_crit"])
    m, se, n = mean_se(per_seed)
    return {**fit, "b_crit_per_seed": per_seed, "b_crit_mean": m, "b_crit_se": se, "target_loss": p["target_loss"]}


def noise_rows(record):
    """B_simple at each training-loss level of the sweep ``noise_scale``: mean ± se over the seeds,
    with the mean update at which the level was reached."""
    res, p = _results(record)
    rows = []
    for level in sorted(p["at_losses"], reverse=True):
        pts = [q for s in p["seeds"] for q in res["per_seed"][str(s)] if q["loss_level"] == level]
        m, se, n = mean_se([q["b_simple"] for q in pts])
        rows.append({"loss_level": level, "b_simple": m, "se": se, "n": n,
                     "step": mean_se([q["step"] for q in pts])[0], "g2": mean_se([q["g2"] for q in pts])[0],
                     "trace": mean_se([q["trace"] for q in pts])[0],
                     "values": [q["b_simple"] for q in pts]})
    return rows


def critical_table(record, noise_record=None):
    """Steps to the target loss per B with each seed's best η, the fit, and B_simple at the target."""
    from ..scaling import critical_curve

    res, p = _results(record)
    fit = critical_fit(record)
    lines = [f"updates S to training loss {p['target_loss']:g}, η tuned per seed on the grid "
             f"{p['lrs'][0]:g} … {p['lrs'][-1]:g} (×2 steps, {len(p['lrs'])} values), seeds {p['seeds']}",
             f"{'B':>5} {'best η per seed':>17} {'updates S (± s.e.)':>19} {'examples E':>11} {'fit S(B)':>9}"]
    for r in critical_rows(record):
        pred = critical_curve([r["batch_size"]], fit["s_min"], fit["b_crit"])[0]
        etas = " ".join(_fmt(v, "g") for v in r["best_lrs"])
        lines.append(f"{r['batch_size']:>5} {etas:>17} {_pm(r['s_mean'], r['s_se'], '.0f'):>19} "
                     f"{_fmt(r['e_mean'], '.0f'):>11} {pred:>9.0f}")
    lines.append(f"fit to the means: S_min = {fit['s_min']:.0f} updates, E_min = {fit['e_min']:.3g} examples, "
                 f"B_crit = E_min/S_min = {fit['b_crit']:.0f}")
    per = ", ".join(f"{v:.0f}" for v in fit["b_crit_per_seed"])
    lines.append(f"fit to each seed alone: B_crit = {per}  (mean {fit['b_crit_mean']:.0f} ± {fit['b_crit_se']:.0f})")
    if noise_record is not None:
        at = [r for r in noise_rows(noise_record) if r["loss_level"] == p["target_loss"]]
        if at:
            a = at[0]
            lines.append(f"noise scale at training loss {p['target_loss']:g}: B_simple = {a['b_simple']:.0f} ± "
                         f"{_fmt(a['se'], '.0f')} ({a['n']} seeds)")
    return "\n".join(lines)


def noise_table(record):
    """B_simple along the small-batch run: one row per training-loss level (mean ± se over seeds)."""
    _, p = _results(record)
    lines = [f"B = {p['batch_size']}, η = {p['lr']:g}; two-batch estimate ({p['n_pairs']} batches of {p['b_small']} "
             f"and of {p['b_big']}) at each level; seeds {p['seeds']}",
             f"{'train loss':>10} {'update':>7} {'|G|²':>8} {'tr Σ':>8} {'B_simple (± s.e.)':>18}  each seed"]
    for r in noise_rows(record):
        each = " ".join(f"{v:.0f}" for v in r["values"])
        lines.append(f"{r['loss_level']:>10g} {r['step']:>7.0f} {r['g2']:>8.3f} {r['trace']:>8.1f} "
                     f"{_pm(r['b_simple'], r['se'], '.0f'):>18}  {each}")
    return "\n".join(lines)


def critical_figure(record, noise_record):
    """Left: updates S to the target loss against B (log-log, mean ± se over seeds), perfect scaling
    S ∝ 1/B through the smallest B, the fit S_min(1 + B_crit/B) and B_crit; middle: the best η of
    each seed against B (the grid's values; η ∝ B dotted); right: B_simple (mean ± se over seeds)
    against the training loss along the small-batch run, with B_crit ± se as a band."""
    import matplotlib.pyplot as plt

    from ..scaling import critical_curve

    _, p = _results(record)
    rows = critical_rows(record)
    fit = critical_fit(record)
    ok = [r for r in rows if r["n"] == r["n_seeds"]]
    b = np.array([r["batch_size"] for r in ok], float)
    s = np.array([r["s_mean"] for r in ok], float)
    se = np.array([r["s_se"] or 0.0 for r in ok], float)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    ax = axes[0]
    ax.errorbar(b, s, yerr=se, fmt="o", color="k", capsize=3, label=f"measured ({len(p['seeds'])} seeds, best η)")
    bb = np.geomspace(b.min(), b.max(), 100)
    ax.plot(bb, s[0] * b[0] / bb, ":", color=plotting.COLORS["muted"], label="perfect scaling S ∝ 1/B")
    ax.plot(bb, critical_curve(bb, fit["s_min"], fit["b_crit"]), color=plotting.COLORS["medium"],
            label=f"fit, B_crit = {fit['b_crit']:.0f}")
    ax.axvline(fit["b_crit"], color=plotting.COLORS["medium"], ls="--", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("batch size B")
    ax.set_ylabel(f"updates S to train loss {p['target_loss']:g}")
    ax.set_title("updates to the target", fontsize=11)
    ax.legend(fontsize=8, loc="lower left")
    ax = axes[1]
    rng = np.random.default_rng(0)
    for r in rows:
        lrs = np.array([np.nan if v is None else v for v in r["best_lrs"]], float)
        jitter = np.exp(rng.uniform(-0.08, 0.08, len(lrs)))
        ax.plot(r["batch_size"] * jitter, lrs, "o", color="k", alpha=0.6, ms=6)
    bs_all = np.array([r["batch_size"] for r in rows], float)
    first = [r for r in rows if r["best_lrs"][0] is not None][0]
    ax.plot(bs_all, np.median([v for v in first["best_lrs"] if v is not None]) * bs_all / first["batch_size"], ":",
            color=plotting.COLORS["muted"], label="η ∝ B")
    ax.axvline(fit["b_crit"], color=plotting.COLORS["medium"], ls="--", lw=1, label="B_crit")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_yticks(p["lrs"], [format(v, "g") for v in p["lrs"]])
    ax.minorticks_off()
    ax.set_ylim(p["lrs"][0] / 1.5, p["lrs"][-1] * 1.5)
    ax.set_xlabel("batch size B")
    ax.set_ylabel("best η of the grid (each seed)")
    ax.set_title("the best η of the grid, per seed", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    ax = axes[2]
    nr = noise_rows(noise_record)
    _, pn = _results(noise_record)
    ax.axhspan(fit["b_crit_mean"] - (fit["b_crit_se"] or 0), fit["b_crit_mean"] + (fit["b_crit_se"] or 0),
               color=plotting.COLORS["medium"], alpha=0.2, label="B_crit (mean ± s.e. of the seeds' fits)")
    ax.errorbar([r["loss_level"] for r in nr], [r["b_simple"] for r in nr], yerr=[r["se"] or 0 for r in nr], fmt="o:",
                color=plotting.COLORS["gradient"], capsize=3, label=f"B_simple ({len(pn['seeds'])} seeds, mean ± s.e.)")
    ax.set_xlabel(f"training loss along the run (B = {pn['batch_size']}, η = {pn['lr']:g})")
    ax.set_ylabel("B_simple = tr Σ / |G|²")
    ax.invert_xaxis()
    ax.set_ylim(0, None)
    ax.set_title("noise scale along training", fontsize=11)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def tuned_verdict(record):
    """Two computed sentences: tuned against tuned (B₀ against the largest B that every seed
    trained), and test accuracy along η/B fixed (the linear rule's cells), each mean ± se."""
    _, p = _results(record)
    rows = {r["batch_size"]: r for r in tuned_rows(record)}
    b0 = p["base"]["batch_size"]
    lines = []
    t0 = rows[b0]["tuned"]
    for b in p["batch_sizes"]:
        if b == b0 or not rows[b]["tuned"] or not t0:
            continue
        t = rows[b]["tuned"]
        d = t["test_acc"] - t0["test_acc"]
        se = math.hypot(t["se"] or 0.0, t0["se"] or 0.0)
        lines.append(f"tuned against tuned: B = {b} (η = {t['lr']:g}) − B = {b0} (η = {t0['lr']:g}): "
                     f"{t['test_acc']:.3f} − {t0['test_acc']:.3f} = {d:+.3f} ± {se:.3f}")
    lin = [(b, rows[b]["linear"]) for b in p["batch_sizes"] if rows[b]["linear"]]
    lines.append("η/B fixed (η ∝ B): " + ", ".join(
        f"B = {b}: {_cell_text(c).split(' ', 2)[2]}" for b, c in lin))
    return "\n".join(lines)


def stability_line(record):
    """λ_max·η/2 along the tracked runs before update 120 (median and share above 1), and λ_max at the start."""
    _, p = _results(record)
    s = stability_numbers(record)
    parts = [f"{'with' if w else 'no'} warm-up: median λ_max·η/2 = {s[w]['median_ratio']:.2f}, "
             f"{s[w]['share_above_1']:.0%} of {s[w]['n']} measurements above 1" for w in (0, 1)]
    return (f"B = {p['track'][0]}, updates 0–119, seeds {p['track_seeds'][0]}–{p['track_seeds'][-1]}: " + "; ".join(parts)
            + f"\nλ_max at the start (update 0, median over the seeds): {s[0]['lam0']:.2f}")


def train_longer_rows(record, tuned_record):
    """Section 2: B₀ at η₀ against B = large batch at η₀ (same epochs, to 100 % train, same updates)
    from ``have_both``, and at η₀·√(B/B₀), η₀·B/B₀ and the tuned η from ``tuned_lr`` (mean ± se)."""
    names = {r["name"]: r for r in protocol_rows(record)}
    _, p = _results(record)
    b0, b = p["base"]["batch_size"], p["large_batch"]
    rows = []
    for label, key in ((f"B = {b0}, η = η₀ (to 100 % train)", "small batch"),
                       (f"B = {b}, η = η₀, same epochs as B = {b0}", "large batch at η, same epochs"),
                       (f"B = {b}, η = η₀, to 100 % train", "large batch at η, to 100 % train"),
                       (f"B = {b}, η = η₀, same updates as B = {b0}", "large batch at η, same updates (train longer)")):
        r = names[key]
        se = None if r["test_acc_std"] is None or not r["n"] else r["test_acc_std"] / math.sqrt(r["n"])
        rows.append({"name": label, "lr": r["lr"], "epochs": r["epochs"], "steps": r["steps"],
                     "train_acc": None, "test_acc": r["test_acc"], "se": se, "n": r["n"], "source": "have_both"})
    tr = {x["batch_size"]: x for x in tuned_rows(tuned_record)}
    if b in tr:
        for label, k in ((f"B = {b}, η ∝ √B (Hoffer), to 100 % train", "sqrt"),
                         (f"B = {b}, η ∝ B (Goyal, no warm-up), to 100 % train", "linear"),
                         (f"B = {b}, η tuned, to 100 % train", "tuned"), (f"B = {b0}, η tuned, to 100 % train", None)):
            c = tr[b][k] if k else tr[b0]["tuned"]
            if c is None:
                continue
            rows.append({"name": label, "lr": c["lr"], "epochs": c["epochs"], "steps": c["steps"], "test_acc": c["test_acc"],
                         "se": c["se"], "n": c["reached"], "source": "tuned_lr"})
    return rows


def train_longer_table(record, tuned_record):
    """:func:`train_longer_rows` as text."""
    lines = [f"{'run':<48} {'η':>5} {'epochs':>7} {'updates':>8} {'test acc ± s.e.':>16} {'seeds':>5}  source"]
    for r in train_longer_rows(record, tuned_record):
        lines.append(f"{r['name']:<48} {r['lr']:>5.2g} {_fmt(r['epochs'], '.0f'):>7} {_fmt(r['steps'], '.0f'):>8} "
                     f"{_pm(r['test_acc'], r['se']):>16} {r['n']:>5}  {r['source']}")
    return "\n".join(lines)
