"""The closing scorecard (notebook 06): each claim of the lecture beside what the toy problems, the real
network (the MLP on MNIST-1D) and the literature show, with a verdict computed from the numbers.

Every number is read from the caches under ``data/`` (:func:`lecture_utils.sweeps.load`) or computed by
the same cheap, seeded toy functions the notebooks print, through the same helpers the notebooks use
(:mod:`lecture_utils.stats`, :mod:`lecture_utils.tuning`, the panels' table functions). Nothing is typed.

**Verdict rules** (:data:`RULES`), on 95 % intervals:

* *holds*: the real network's interval excludes 0 (or 1 for a ratio) in the lecture's direction;
* *holds under a condition*: it does only under a stated condition (the toy's trap, one fixed η, a
  range of B), or the toy shows it and the real network has nothing to show it on;
* *does not hold here*: the real network's interval excludes 0 in the opposite direction.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from . import stats, sweeps
from ._validate import Options, validate_params
from .sweeps import tuned_lr as _tuned_lr

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"

HOLDS, CONDITION, NOT_HERE = "holds", "holds under a condition", "does not hold here"
RULES = (f"**{HOLDS}**: the real network's 95 % interval excludes no effect in the lecture's direction; "
         f"**{CONDITION}**: only under the condition named (a trap, one fixed η, a range of B); "
         f"**{NOT_HERE}**: the interval excludes no effect in the opposite direction.")

#: Where each row's evidence is: (notebook file, the heading's text without its "(≈ N min)").
#: tests/test_scorecard.py checks that each notebook has a ``#``/``##``/``###`` heading with that text.
LINKS = {
    "speed": ("01_batches_and_epochs.ipynb", "3 · Parallel speed: what one update costs"),
    "noise": ("02_noisy_gradients.ipynb", "6 · Real training: full batch vs small batches"),
    "generalization": ("03_large_batch_generalization.ipynb", "1 · The gap"),
    "have_both": ("04_have_both.ipynb", "2 · Tuned against tuned"),
    "momentum": ("05_momentum.ipynb", "The saddle of a real network: the protocol"),
}

#: The literature each row cites (text, not numbers).
LITERATURE = {
    "speed": "Shallue et al. 2019: time per update flat up to a hardware-set B",
    "noise": "Jin et al. 2017: noise escapes strict saddles; GD is rarely stuck in practice",
    "generalization": ("Keskar et al. 2017 (gap at one η); Goyal et al. 2017, Shallue et al. 2019 "
                       "(closes when η is tuned)"),
    "have_both": "Goyal et al. 2017 (η ∝ B + warm-up); McCandlish et al. 2018 (B_crit)",
    "momentum": "Polyak 1964; Sutskever et al. 2013 (faster on ill-conditioned valleys)",
}

_TIME = re.compile(r"\s*\(≈ \d+ min(?:, optional)?\)\s*$|\s*· \d+ min\s*$")
_HEADING = re.compile(r"^(#{1,3})\s+(.*\S)\s*$")


# ------------------------------------------------------------------------------------------ links
def headings(notebook):
    """The ``#``–``###`` headings of a notebook as written (first line of each markdown cell)."""
    cells = json.loads((NOTEBOOKS / notebook).read_text(encoding="utf-8"))["cells"]
    out = []
    for c in cells:
        if c["cell_type"] != "markdown":
            continue
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        m = _HEADING.match(src.lstrip("\n").split("\n", 1)[0])
        if m:
            out.append(m.group(2))
    return out


def bare(heading):
    """A heading without its stated time: '3 · Parallel speed (≈ 6 min)' → '3 · Parallel speed'."""
    return _TIME.sub("", heading).strip()


def anchor(heading):
    """JupyterLab's anchor of a heading: its text with spaces as '-' (markdown links use it after '#')."""
    return heading.strip().replace(" ", "-")


def link(key):
    """``(label, target)`` for a row: the notebook's heading as it is now (with its time), or the notebook
    alone when no heading has the text of :data:`LINKS` (tests/test_scorecard.py fails then)."""
    nb, text = LINKS[key]
    for h in headings(nb):
        if bare(h) == text:
            return f"{nb[:2]} · {text}", f"{nb}#{anchor(h)}"
    return nb[:2], nb


# ------------------------------------------------------------------------------------------ the numbers
def speed():
    """01: the race's clock per update (mean over its updates, per seed) at the smallest and largest B;
    an epoch's time ⌈N/B⌉·t(B) per seed, its speed-up t_epoch(1)/t_epoch(B_max) and the cost ratio
    t(B_max)/t(1) per update, each a 95 % t-interval over the race's seeds; the largest B whose mean
    t(B) ≤ 2·t(1) ("about the same per update"). Toy: ⌈N/B⌉ on the lecture's 20 examples."""
    from .data import N_TRAIN, updates_per_epoch
    from .race import clock_rows

    timing, race_rec = sweeps.load("timing"), sweeps.load("time_to_accuracy")
    rows = clock_rows(timing, race_rec)
    n = N_TRAIN
    small, large = rows[0], rows[-1]
    seeds = sorted(set(small["race_mean"].values) & set(large["race_mean"].values))
    t1 = np.array([small["race_mean"].values[s] for s in seeds])
    tb = np.array([large["race_mean"].values[s] for s in seeds])
    b1, bmax = small["batch_size"], large["batch_size"]
    epoch_ratio = stats.mean_ci(updates_per_epoch(n, b1) * t1 / (updates_per_epoch(n, bmax) * tb))
    update_ratio = stats.mean_ci(tb / t1)
    flat = max(r["batch_size"] for r in rows if r["race_mean"].mean <= 2 * small["race_mean"].mean)
    if epoch_ratio.low > 1 and update_ratio.high <= 2:
        verdict = HOLDS
    elif epoch_ratio.low > 1:
        verdict = CONDITION
    else:
        verdict = NOT_HERE
    return {"key": "speed", "b_small": b1, "b_large": bmax, "n": n, "epoch_ratio": epoch_ratio,
            "update_ratio": update_ratio, "flat_up_to": flat,
            "toy_updates": (updates_per_epoch(20, 1), updates_per_epoch(20, 20)), "verdict": verdict,
            "condition": f"t(B) ≤ 2·t(1) only up to B = {flat} on the cached race's CPU"}


def noise():
    """02: the toy's escape rate (1000 runs from the local minimum, B = 1 against the full batch, 95 %
    Wilson intervals, as notebook 02 §3); the real MLP's full-batch training loss at the start and after
    the matched number of updates (95 % t over the seeds, :func:`lecture_utils.panels.noisy.training_stats`)
    and the smallest B minus the full batch at that point (paired)."""
    from . import landscapes
    from .panels.noisy import training_stats

    data = landscapes.make_trap_data()
    sizes = [1, None]
    rates = landscapes.escape_probability(sizes, n_runs=1000, seed=0, lr=0.1, epochs=10)
    toy = landscapes.escape_table(sizes, rates, 1000, data.n)
    results = sweeps.load("noisy_training")["results"]
    rows = training_stats(results)
    full = next(r for r in rows if r["full"])
    smallest = min((r for r in rows if not r["full"]), key=lambda r: r["batch_size"])
    toy_holds = toy[0][3] > toy[1][4]                       # B = 1's lower bound above the full batch's upper
    stuck = not full["loss_matched"].high < full["loss_start"].low
    verdict = (HOLDS if toy_holds and stuck else CONDITION if toy_holds else NOT_HERE)
    return {"key": "noise", "toy": toy, "start": full["loss_start"], "full": full["loss_matched"],
            "updates": results["matched_updates"], "small_b": smallest["batch_size"],
            "small_minus_full": smallest["diff_matched"], "n_seeds": full["n_seeds"],
            "full_stuck": stuck, "verdict": verdict,
            "condition": "needs a trap: on the toy yes, the real network's full batch is not stuck"}


def generalization():
    """03: the gap B_sb − B_lb in test accuracy at one fixed η (:func:`panels.generalization.gap_interval`)
    and the top Hessian eigenvalue at both (95 % t); with η tuned for each B (:func:`tuned_gap`)."""
    from .panels.generalization import gap_interval
    from .sweeps import generalization as gap_sweep

    record = sweeps.load("generalization")
    res = record["results"]
    g = res["gap"]
    gap = gap_interval(record)
    lam = {b: stats.mean_ci([r["top_eigenvalue"] for r in res["runs"][gap_sweep.batch_key(b)]])
           for b in (g["sb"], g["lb"])}
    tuned = tuned_gap()
    if gap.low > 0 and tuned["ci"].low > 0:
        verdict = HOLDS
    elif gap.low > 0:
        verdict = CONDITION
    else:
        verdict = NOT_HERE
    return {"key": "generalization", "sb": g["sb"], "lb": g["lb"], "lr": record["params"]["lr"],
            "gap": gap, "lam": lam, "tuned": tuned, "verdict": verdict,
            "condition": f"at one fixed η = {record['params']['lr']:g}; gone with η tuned per B"}


#: The batch sizes :func:`tuned_gap` compares with B₀: the ``tuned_lr`` sweep's, B₀ left out (a cache is
#: loaded only when its parameters are these).
TUNED_GAP_SIZES = tuple(b for b in _tuned_lr.PARAMS["batch_sizes"]
                        if b != _tuned_lr.PARAMS["base"]["batch_size"])


@validate_params(batch_size=Options(TUNED_GAP_SIZES))
def tuned_gap(batch_size=512):
    """04: tuned against tuned, B = ``batch_size`` minus B₀ (:func:`lecture_utils.tuning.tuned_differences`,
    paired per seed): the row of that B, with ``ci`` its MeanCI. ``batch_size``: one of
    :data:`TUNED_GAP_SIZES` whose tuned η (and B₀'s) the cache holds."""
    from .tuning import tuned_differences

    rows = tuned_differences(sweeps.load("tuned_lr"))
    for d in rows:
        if d["batch_size"] == batch_size:
            return d
    raise ValueError(f"batch_size must be one of {[d['batch_size'] for d in rows]} (the batch sizes whose "
                     f"tuned η and B₀'s are in the tuned_lr cache); got {batch_size!r}")


def have_both():
    """04: the tuned gap (large − small, η tuned per B) and B_crit from S(B) = S_min(1 + B_crit/B)
    (:func:`lecture_utils.tuning.critical_fit`, 95 % t over the seeds' fits)."""
    from .tuning import critical_fit

    tuned = tuned_gap()
    fit = critical_fit(sweeps.load("critical_batch"))
    b0 = tuned["base"]
    ci = tuned["ci"]
    # the claim: a large batch need not lose accuracy. Holds when the interval does not exclude 0 on the
    # side of a loss (its upper end ≥ 0); does not hold when it lies wholly below 0.
    verdict = HOLDS if ci.high >= 0 else NOT_HERE
    return {"key": "have_both", "tuned": tuned, "b0": tuned_base_batch(), "lr0": b0["lr"],
            "b_crit": fit["b_crit_ci"], "verdict": verdict, "condition": ""}


def tuned_base_batch():
    return sweeps.load("tuned_lr")["params"]["base"]["batch_size"]


def momentum():
    """05: the toy's smallest β of the grid that rolls past the local minimum from θ = 4 (η = 0.1,
    :func:`lecture_utils.rolling.beta_scan`); the real network's updates to leave a saddle at matched
    η/(1−β), momentum minus SGD paired per seed (:func:`sweeps.momentum_saddle.summary`)."""
    from . import rolling
    from .sweeps import momentum_saddle

    beta_min = float(rolling.beta_scan(0.1).rolled_past().min())
    record = sweeps.load("momentum_saddle")
    summ = momentum_saddle.summary(record)
    eff = max(record["params"]["eff_lrs"])
    row = summ[eff]
    b0, b1 = record["params"]["betas"][0], record["params"]["betas"][-1]
    d = row["diff_ci"]
    verdict = NOT_HERE if d.low > 0 else HOLDS if d.high < 0 else CONDITION
    return {"key": "momentum", "beta_min": beta_min, "theta0": rolling.LOCAL_THETA0, "eff": eff,
            "sgd": row["by_beta"][b0]["ci"], "mom": row["by_beta"][b1]["ci"], "beta": b1, "diff": d,
            "n_seeds": row["n_pairs"], "verdict": verdict,
            "condition": ("on the toy it rolls past once it has speed; at matched η/(1−β) a real "
                          "network's saddle is left later" if verdict == NOT_HERE else "")}


def rows():
    """The five rows, in the lecture's order."""
    return [speed(), noise(), generalization(), have_both(), momentum()]


# ------------------------------------------------------------------------------------------ text
CLAIMS = {
    "speed": "On parallel hardware a bigger batch makes an epoch faster",
    "noise": "The noise of small batches helps escape local minima and saddles",
    "generalization": "Large batches generalize worse (sharp vs flat minima)",
    "have_both": "Have both: η ∝ B with warm-up, up to a critical batch size",
    "momentum": "Momentum rolls past local minima and saddles",
}


def _pm(ci, spec, sign=False):
    """'0.048 ± 0.011' (mean ± 95 % half-width); with ``sign`` '+0.048' / '−0.002' (a difference)."""
    mean = f"{ci.mean:{'+' if sign else ''}{spec}}".replace("-", "−")
    return f"{mean} ± {ci.half:{spec}}"


def _within(ci):
    """'within its interval' when the 95 % interval holds 0, else 'outside its interval'."""
    return "0 is within its interval" if ci.low <= 0 <= ci.high else "0 is outside its interval"


def cells(row):
    """(toy, MLP) text of one row; every number at a precision that other CPUs cannot flip."""
    k = row["key"]
    if k == "speed":
        a, b = row["toy_updates"]
        toy = f"20 examples: {a} updates per epoch at B = 1, {b} at B = 20"
        er, ur = row["epoch_ratio"], row["update_ratio"]
        mlp = (f"an epoch at B = {row['b_large']} is {_pm(er, '.0f')}× faster than at B = {row['b_small']}; "
               f"one update costs {_pm(ur, '.0f')}× more ({er.n} seeds)")
    elif k == "noise":
        (_, _, p1, lo1, hi1), (_, _, pf, lof, hif) = row["toy"]
        toy = (f"escape in 1000 runs: B = 1 {p1:.2f} [{lo1:.2f}, {hi1:.2f}], "
               f"full batch {pf:.2f} [{lof:.2f}, {hif:.2f}] (95 % Wilson)")
        what = "stuck" if row["full_stuck"] else "not stuck"
        mlp = (f"full batch {what}: loss {_pm(row['start'], '.2f')} → {_pm(row['full'], '.2f')} in "
               f"{row['updates']} updates ({row['n_seeds']} seeds)")
    elif k == "generalization":
        lam, gap = row["lam"], row["gap"]
        toy = "picture only (a shift costs more in a sharp valley)"
        mlp = (f"test accuracy B = {row['sb']} − B = {row['lb']} at η = {row['lr']:g}: "
               f"{_pm(gap, '.3f', True)} ({gap.n} seeds); λ_max {lam[row['sb']].mean:.1f} vs "
               f"{lam[row['lb']].mean:.1f}")
    elif k == "have_both":
        t = row["tuned"]
        toy = "—"
        mlp = (f"η tuned per B: B = {t['batch_size']} − B = {row['b0']}: {_pm(t['ci'], '.3f', True)} "
               f"({t['ci'].n} seeds); B_crit ≈ {_pm(row['b_crit'], '.0f')}")
    else:
        toy = f"β ≥ {row['beta_min']:.2f} rolls past the local minimum from θ = {row['theta0']:g}"
        mlp = (f"updates to leave a saddle at η/(1−β) = {row['eff']:g}: β = {row['beta']:g} minus β = 0 "
               f"{_pm(row['diff'], '.0f', True)} ({row['n_seeds']} seeds)")
    return toy, mlp


def markdown_table(rs=None):
    """The scorecard as a Markdown table: claim → toy → MLP → literature → verdict → where."""
    rs = rows() if rs is None else rs
    out = ["| the lecture's claim | toy | MLP on MNIST-1D (mean ± 95 % t) | literature | verdict | where |",
           "|---|---|---|---|---|---|"]
    for r in rs:
        toy, mlp = cells(r)
        label, target = link(r["key"])
        verdict = f"**{r['verdict']}**" + (f": {r['condition']}" if r["condition"] else "")
        out.append(f"| {CLAIMS[r['key']]} | {toy} | {mlp} | {LITERATURE[r['key']]} | {verdict} | "
                   f"[{label}]({target}) |")
    return "\n".join(out)


def key_results(rs=None):
    """Six one-line measured results for the cheat sheet, computed from :func:`rows`."""
    rs = {r["key"]: r for r in (rows() if rs is None else rs)}
    s, n, g, h, m = (rs[k] for k in ("speed", "noise", "generalization", "have_both", "momentum"))
    t = h["tuned"]
    er, ur = s["epoch_ratio"], s["update_ratio"]
    (_, _, p1, _, _), (_, _, pf, _, _) = n["toy"]
    later = "later" if m["diff"].mean > 0 else "sooner"
    return [
        f"An epoch at B = {s['b_large']} is {_pm(er, '.0f')}× faster than at B = {s['b_small']}; one update "
        f"costs {_pm(ur, '.0f')}× more ({er.n} seeds, the cached race's CPU).",
        f"Toy trap: B = 1 escapes in {p1:.2f} of 1000 runs, the full batch in {pf:.2f}.",
        f"Real MLP, full batch: loss {_pm(n['start'], '.2f')} → {_pm(n['full'], '.2f')} in {n['updates']} "
        f"updates ({n['n_seeds']} seeds): {'stuck' if n['full_stuck'] else 'not stuck'}.",
        f"One fixed η = {g['lr']:g}: test accuracy B = {g['sb']} − B = {g['lb']} = "
        f"{_pm(g['gap'], '.3f', True)} ({g['gap'].n} seeds).",
        f"η tuned per B: B = {t['batch_size']} − B = {h['b0']} = {_pm(t['ci'], '.3f', True)} "
        f"({t['ci'].n} seeds): {_within(t['ci'])}.",
        f"A saddle of a real network at η/(1−β) = {m['eff']:g}: β = {m['beta']:g} leaves "
        f"{_pm(m['diff'], '.0f', True)} updates {later} than β = 0 ({m['n_seeds']} seeds).",
    ]


def verdict_table(rs=None):
    """The short table for the slide: claim → verdict (Markdown; the links are in :func:`card`)."""
    rs = rows() if rs is None else rs
    out = ["| the lecture's claim | verdict here |", "|---|---|"]
    out += [f"| {CLAIMS[r['key']]} | **{r['verdict']}** |" for r in rs]
    return "\n".join(out)


def card(row):
    """One claim with its evidence (Markdown): toy, MLP, literature, verdict with its condition, and the
    link to the section with the experiment."""
    toy, mlp = cells(row)
    label, target = link(row["key"])
    verdict = f"**{row['verdict']}**" + (f": {row['condition']}" if row["condition"] else "")
    return (f"**{CLAIMS[row['key']]}** · [{label}]({target})\n\n- toy: {toy}\n"
            f"- MLP on MNIST-1D (mean ± 95 % t): {mlp}\n- literature: {LITERATURE[row['key']]}\n"
            f"- verdict: {verdict}")
