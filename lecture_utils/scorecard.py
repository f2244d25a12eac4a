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
from .i18n import _
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



def _literature(_=_):
    """The literature each row cites (text, not numbers), in the current language (``_=str``: English)."""
    return {
        "speed": _("Shallue et al. 2019: time per update flat up to a hardware-set B"),
        "noise": _("Jin et al. 2017: noise escapes strict saddles; GD is rarely stuck in practice"),
        "generalization": _("Keskar et al. 2017 (gap at one η); Goyal et al. 2017, Shallue et al. 2019 "
                            "(closes when η is tuned)"),
        "have_both": _("Goyal et al. 2017 (η ∝ B + warm-up); McCandlish et al. 2018 (B_crit)"),
        "momentum": _("Polyak 1964; Sutskever et al. 2013 (faster on ill-conditioned valleys)"),
    }


#: The literature each row cites (text, not numbers; English — shown through :func:`_literature`).
LITERATURE = _literature(str)


def _heading_text(key):
    """The text of a row's link (the heading of :data:`LINKS`) in the current language; the target is
    always the English heading's anchor."""
    return {"speed": _("3 · Parallel speed: what one update costs"),
            "noise": _("6 · Real training: full batch vs small batches"),
            "generalization": _("1 · The gap"),
            "have_both": _("2 · Tuned against tuned"),
            "momentum": _("The saddle of a real network: the protocol")}[key]


def _verdict_text(verdict):
    """A verdict word (:data:`HOLDS`, :data:`CONDITION`, :data:`NOT_HERE`) in the current language."""
    return {HOLDS: _("holds"), CONDITION: _("holds under a condition"),
            NOT_HERE: _("does not hold here")}[verdict]

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
            return f"{nb[:2]} · {_heading_text(key)}", f"{nb}#{anchor(h)}"
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
            "condition": _("t(B) ≤ 2·t(1) only up to B = {flat} on the cached race's CPU").format(flat=flat)}


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
            "condition": _("needs a trap: on the toy yes, the real network's full batch is not stuck")}


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
            "condition": _("at one fixed η = {lr:g}; gone with η tuned per B").format(
                lr=record["params"]["lr"])}


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
            "condition": (_("on the toy it rolls past once it has speed; at matched η/(1−β) a real "
                            "network's saddle is left later") if verdict == NOT_HERE else "")}


def rows():
    """The five rows, in the lecture's order."""
    return [speed(), noise(), generalization(), have_both(), momentum()]


# ------------------------------------------------------------------------------------------ text
def _claims(_=_):
    """The lecture's claims in the current language (``_=str``: English)."""
    return {
        "speed": _("On parallel hardware a bigger batch makes an epoch faster"),
        "noise": _("The noise of small batches helps escape local minima and saddles"),
        "generalization": _("Large batches generalize worse (sharp vs flat minima)"),
        "have_both": _("Have both: η ∝ B with warm-up, up to a critical batch size"),
        "momentum": _("Momentum rolls past local minima and saddles"),
    }


#: The lecture's claims (English; shown through :func:`_claims`).
CLAIMS = _claims(str)


def _pm(ci, spec, sign=False):
    """'0.048 ± 0.011' (mean ± 95 % half-width); with ``sign`` '+0.048' / '−0.002' (a difference)."""
    mean = f"{ci.mean:{'+' if sign else ''}{spec}}".replace("-", "−")
    return f"{mean} ± {ci.half:{spec}}"


def _within(ci):
    """'within its interval' when the 95 % interval holds 0, else 'outside its interval'."""
    return _("0 is within its interval") if ci.low <= 0 <= ci.high else _("0 is outside its interval")


def cells(row):
    """(toy, MLP) text of one row; every number at a precision that other CPUs cannot flip."""
    k = row["key"]
    if k == "speed":
        a, b = row["toy_updates"]
        toy = _("20 examples: {a} updates per epoch at B = 1, {b} at B = 20").format(a=a, b=b)
        er, ur = row["epoch_ratio"], row["update_ratio"]
        mlp = _("an epoch at B = {large} is {er}× faster than at B = {small}; one update costs {ur}× more "
                "({n} seeds)").format(large=row["b_large"], er=_pm(er, ".0f"), small=row["b_small"],
                                      ur=_pm(ur, ".0f"), n=er.n)
    elif k == "noise":
        (_b1, _n1, p1, lo1, hi1), (_bf, _nf, pf, lof, hif) = row["toy"]
        toy = _("escape in 1000 runs: B = 1 {p1:.2f} [{lo1:.2f}, {hi1:.2f}], full batch {pf:.2f} "
                "[{lof:.2f}, {hif:.2f}] (95 % Wilson)").format(p1=p1, lo1=lo1, hi1=hi1, pf=pf, lof=lof,
                                                               hif=hif)
        mlp = (_("full batch stuck: loss {start} → {full} in {updates} updates ({n} seeds)")
               if row["full_stuck"] else
               _("full batch not stuck: loss {start} → {full} in {updates} updates ({n} seeds)")).format(
            start=_pm(row["start"], ".2f"), full=_pm(row["full"], ".2f"), updates=row["updates"],
            n=row["n_seeds"])
    elif k == "generalization":
        lam, gap = row["lam"], row["gap"]
        toy = _("picture only (a shift costs more in a sharp valley)")
        mlp = _("test accuracy B = {sb} − B = {lb} at η = {lr:g}: {gap} ({n} seeds); λ_max {lam_sb:.1f} vs "
                "{lam_lb:.1f}").format(sb=row["sb"], lb=row["lb"], lr=row["lr"], gap=_pm(gap, ".3f", True),
                                       n=gap.n, lam_sb=lam[row["sb"]].mean, lam_lb=lam[row["lb"]].mean)
    elif k == "have_both":
        t = row["tuned"]
        toy = "—"
        mlp = _("η tuned per B: B = {b} − B = {b0}: {diff} ({n} seeds); B_crit ≈ {b_crit}").format(
            b=t["batch_size"], b0=row["b0"], diff=_pm(t["ci"], ".3f", True), n=t["ci"].n,
            b_crit=_pm(row["b_crit"], ".0f"))
    else:
        toy = _("β ≥ {beta_min:.2f} rolls past the local minimum from θ = {theta0:g}").format(
            beta_min=row["beta_min"], theta0=row["theta0"])
        mlp = _("updates to leave a saddle at η/(1−β) = {eff:g}: β = {beta:g} minus β = 0 {diff} ({n} "
                "seeds)").format(eff=row["eff"], beta=row["beta"], diff=_pm(row["diff"], ".0f", True),
                                 n=row["n_seeds"])
    return toy, mlp


def _verdict_line(row):
    """'**holds under a condition**: the condition' (bold verdict, then its condition when there is one)."""
    if row["condition"]:
        return _("**{verdict}**: {condition}").format(verdict=_verdict_text(row["verdict"]),
                                                      condition=row["condition"])
    return "**{verdict}**".format(verdict=_verdict_text(row["verdict"]))


def markdown_table(rs=None):
    """The scorecard as a Markdown table: claim → toy → MLP → literature → verdict → where."""
    rs = rows() if rs is None else rs
    head = (_("the lecture's claim"), _("toy"), _("MLP on MNIST-1D (mean ± 95 % t)"), _("literature"),
            _("verdict"), _("where"))
    out = ["| " + " | ".join(head) + " |", "|---|---|---|---|---|---|"]
    claims, literature = _claims(), _literature()
    for r in rs:
        toy, mlp = cells(r)
        label, target = link(r["key"])
        verdict = _verdict_line(r)
        out.append(f"| {claims[r['key']]} | {toy} | {mlp} | {literature[r['key']]} | {verdict} | "
                   f"[{label}]({target}) |")
    return "\n".join(out)


def key_results(rs=None):
    """Six one-line measured results for the cheat sheet, computed from :func:`rows`."""
    rs = {r["key"]: r for r in (rows() if rs is None else rs)}
    s, n, g, h, m = (rs[k] for k in ("speed", "noise", "generalization", "have_both", "momentum"))
    t = h["tuned"]
    er, ur = s["epoch_ratio"], s["update_ratio"]
    p1, pf = n["toy"][0][2], n["toy"][1][2]
    full = dict(start=_pm(n["start"], ".2f"), full=_pm(n["full"], ".2f"), updates=n["updates"],
                n=n["n_seeds"])
    saddle = dict(eff=m["eff"], beta=m["beta"], diff=_pm(m["diff"], ".0f", True), n=m["n_seeds"])
    return [
        _("An epoch at B = {large} is {er}× faster than at B = {small}; one update costs {ur}× more ({n} "
          "seeds, the cached race's CPU).").format(large=s["b_large"], er=_pm(er, ".0f"), small=s["b_small"],
                                            ur=_pm(ur, ".0f"), n=er.n),
        _("Toy trap: B = 1 escapes in {p1:.2f} of 1000 runs, the full batch in {pf:.2f}.").format(p1=p1,
                                                                                                   pf=pf),
        (_("Real MLP, full batch: loss {start} → {full} in {updates} updates ({n} seeds): stuck.")
         if n["full_stuck"] else
         _("Real MLP, full batch: loss {start} → {full} in {updates} updates ({n} seeds): not "
           "stuck.")).format(**full),
        _("One fixed η = {lr:g}: test accuracy B = {sb} − B = {lb} = {gap} ({n} seeds).").format(
            lr=g["lr"], sb=g["sb"], lb=g["lb"], gap=_pm(g["gap"], ".3f", True), n=g["gap"].n),
        _("η tuned per B: B = {b} − B = {b0} = {diff} ({n} seeds): {within}.").format(
            b=t["batch_size"], b0=h["b0"], diff=_pm(t["ci"], ".3f", True), n=t["ci"].n,
            within=_within(t["ci"])),
        (_("A saddle of a real network at η/(1−β) = {eff:g}: β = {beta:g} leaves {diff} updates later than "
           "β = 0 ({n} seeds).") if m["diff"].mean > 0 else
         _("A saddle of a real network at η/(1−β) = {eff:g}: β = {beta:g} leaves {diff} updates sooner than "
           "β = 0 ({n} seeds).")).format(**saddle),
    ]


def verdict_table(rs=None):
    """The short table for the slide: claim → verdict (Markdown; the links are in :func:`card`)."""
    rs = rows() if rs is None else rs
    claims = _claims()
    out = ["| {claim} | {verdict} |".format(claim=_("the lecture's claim"), verdict=_("verdict here")),
           "|---|---|"]
    out += [f"| {claims[r['key']]} | **{_verdict_text(r['verdict'])}** |" for r in rs]
    return "\n".join(out)


def card(row):
    """One claim with its evidence (Markdown): toy, MLP, literature, verdict with its condition, and the
    link to the section with the experiment."""
    toy, mlp = cells(row)
    label, target = link(row["key"])
    return _("**{claim}** · [{label}]({target})\n\n- toy: {toy}\n- MLP on MNIST-1D (mean ± 95 % t): {mlp}\n"
             "- literature: {literature}\n- verdict: {verdict}").format(
        claim=_claims()[row["key"]], label=label, target=target, toy=toy, mlp=mlp,
        literature=_literature()[row["key"]], verdict=_verdict_line(row))
