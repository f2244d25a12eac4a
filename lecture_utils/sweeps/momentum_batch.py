"""Sweep "momentum_batch" — does momentum pay at every batch size? (notebook 05, deep dive
"Momentum × batch size").

Notebook 04's critical-batch protocol (sweep ``critical_batch``,
:func:`lecture_utils.scaling.steps_to_target`) run twice: plain SGD (β = 0) and momentum β = 0.9
(``torch.optim.SGD(lr=η, momentum=β)``, the lecture's m ← β·m − η·g, θ ← θ + m). For every β of
``betas``, batch size B of ``batch_sizes`` and seed of ``seeds`` the course MLP trains on MNIST-1D
until the full training loss first falls to ``target_loss``; the training loss is checked at updates
~4 % apart. η is tuned for each (β, B, seed) on one grid of **effective steps** η/(1 − β)
(``eff_lrs``, factor 2 apart; η = eff·(1 − β)), so both β get the same number of tries over the same
range of effective steps, each β its own best η.

A run stops at ``cap_factor`` × the best count of this (β, B, seed) so far (at most ``max_steps``):
every η whose count is within ``cap_factor`` × the final best is therefore measured exactly, whatever
the order of the tries; the others are "slower than ``cap_factor`` × best" (status ``max_steps``) or
diverged. The η are tried from a guess outwards (:func:`lecture_utils.sweeps.critical_batch` orders
them; the order changes what is censored, never the best). With ``cap_factor`` = 1 this is
``critical_batch``'s rule exactly.

The question (Shallue et al. 2019; Zhang et al. 2019): below the critical batch size the gradient
noise limits the step, and momentum at its best η should do no better than SGD at its best η (the
same effective step, the same noise); above it the curvature limits the step, and momentum — whose
stable range is η·λ_max < 2 + 2β instead of 2 — should need fewer updates.

``sweeps.load("momentum_batch")["results"]["runs"][run_key(β, B, seed)]`` (:class:`Run`): ``best_eff``,
``best_lr`` and ``steps`` at the best η (None: no η reached the target), ``tried``: list of
[η/(1−β), η, steps or None, status, cap].

Rebuild: ``python -m lecture_utils.sweeps momentum_batch.1`` and ``momentum_batch.2`` (or
``momentum_batch`` for both): one part per β (:data:`PARTS`); :func:`merge` joins them into the results
of one run. Measured 2026-12-06 on an Intel Xeon (2 cores shared, load 11-18, so the wall-clock time
stored in the cache, 1533 + 782 s, says nothing about an idle machine): part 1 (β = 0) 297.6 CPU s,
part 2 (β = 0.9) 314.8 CPU s, i.e. about 150-160 s each on 2 idle cores with 2 workers. Part 1 ran
before :func:`lecture_utils.scaling.steps_to_target` returned the training loop's ``target_reached``;
its 55 ``reached`` entries were renamed to that word (the numbers are as computed).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from ._schema import DATASET, KeyFormat, check_each, check_fields, check_tried, load_dataset

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "threads": 1,
    "workers": 2,
    "betas": [0.0, 0.9],
    "batch_sizes": [8, 32, 128, 512, 1000, 4000],
    "eff_lrs": [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4, 12.8, 25.6],
    "seeds": [0, 1, 2],
    "target_loss": 0.8,
    "max_steps": 4000,
    "cap_factor": 2.0,
}

#: One part per β, each within the 3-min budget on 2 cores:
#: ``python -m lecture_utils.sweeps momentum_batch.1`` and ``momentum_batch.2``; :func:`merge` joins them.
PARTS = [{"betas": [0.0]}, {"betas": [0.9]}]


@dataclass(frozen=True)
class Run:
    """Every η of the grid for one (β, B, seed): the best effective step η/(1−β) and η, its updates to
    the target (None: no η reached it) and ``tried`` = [[η/(1−β), η, steps or None, status, cap], …]
    sorted by η."""
    best_eff: float | None
    best_lr: float | None
    steps: int | None
    tried: list


#: The key of one run, "0.9|128|2" (β with ``:g``, B, seed):
#: ``run_key(...)`` builds it, ``parse_run_key(k)`` reads it back.
RUN_KEY = KeyFormat(("beta", float), ("b", int), ("seed", int))
run_key, parse_run_key = RUN_KEY.make, RUN_KEY.parse


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`); every
    ``tried`` entry is [η/(1−β), η, steps or None, status, cap] with a status of the training loop's
    words (:data:`lecture_utils.train.STATUSES`)."""
    runs = check_each(Run, check_fields(results, ("runs",), "results")["runs"], "runs")
    check_tried(runs, ("η/(1−β)", "η", "steps", "status", "cap"), status_at=3)
    return results


def lr_of(eff, beta):
    """η = (η/(1−β))·(1 − β), rounded to 12 digits (0.05·0.1 is 0.005, not 0.005000000000000001)."""
    return round(eff * (1.0 - beta), 12)


def run_one(params, task):
    """Every effective step of the grid for one (β, B, seed) (``task``), best first found near the guess."""
    from ..scaling import steps_to_target
    from .critical_batch import _order

    beta, b, seed = task
    data = load_dataset(params)
    best, best_eff, tried = None, None, []
    for eff in _order(params["eff_lrs"], b):
        cap = params["max_steps"] if best is None else min(params["max_steps"],
                                                            math.ceil(params["cap_factor"] * best))
        lr = lr_of(eff, beta)
        r = steps_to_target(data, batch_size=b, lr=lr, seed=seed, target_loss=params["target_loss"],
                            max_steps=cap, threads=params["threads"], momentum=beta)
        tried.append([eff, lr, r["steps"], r["status"], cap])
        if r["steps"] is not None and (best is None or r["steps"] < best):
            best, best_eff = r["steps"], eff
    tried.sort(key=lambda t: t[0])
    return {"best_eff": best_eff, "best_lr": None if best_eff is None else lr_of(best_eff, beta),
            "steps": best, "tried": tried}


def _tasks(params):
    return [(beta, b, s) for beta in params["betas"] for b in params["batch_sizes"] for s in params["seeds"]]


def merge(params, parts):
    """The results of every (β, B, seed) from those of the :data:`PARTS` (in the order of one run)."""
    runs = {k: v for part in parts for k, v in part["runs"].items()}
    return {"runs": {run_key(*t): runs[run_key(*t)] for t in _tasks(params)}}


def run(params, progress=True):
    """Every (β, B, seed) as one task on ``workers`` processes of one torch thread; JSON-friendly."""
    from ._pool import map_tasks

    # the costliest first (the smallest batches: many updates; the largest: costly updates), so that
    # the two workers end together
    tasks = sorted(_tasks(params), key=lambda t: min(t[1], 32000 / t[1]))
    out = map_tasks(run_one, params, tasks, desc="momentum_batch", progress=progress)
    return {"runs": {run_key(*t): out[t] for t in _tasks(params)}}


# ----------------------------------------------------------------------------- reading the cache
def _record_parts(record):
    if not isinstance(record, dict) or "results" not in record or "params" not in record:
        raise ValueError("record must be the dict returned by sweeps.load('momentum_batch')")
    return record["results"]["runs"], record["params"]


def summary(record):
    """Per batch size B (ascending), one dict: ``batch_size``; per β (keys ``"sgd"`` for β = 0 and
    ``"mom"`` for the other β) the updates at the best η of each seed (``steps``, None: no η reached
    the target), their mean with a 95 % t-interval (``ci``, a :class:`lecture_utils.stats.MeanCI`, None
    unless every seed reached it) and each seed's best η/(1−β) (``eff``); and ``ratio``: the per-seed
    speed-up S_SGD/S_momentum (same seed: same initial weights and batch order) as a t-interval
    (None unless both reached it on every seed)."""
    from ..stats import mean_ci

    runs, p = _record_parts(record)
    b_sgd, b_mom = p["betas"][0], p["betas"][-1]
    out = []
    for b in p["batch_sizes"]:
        row = {"batch_size": b}
        for name, beta in (("sgd", b_sgd), ("mom", b_mom)):
            rs = [runs[run_key(beta, b, s)] for s in p["seeds"]]
            steps = [r["steps"] for r in rs]
            ok = all(v is not None for v in steps)
            row[name] = {"beta": beta, "steps": steps, "eff": [r["best_eff"] for r in rs],
                         "lr": [r["best_lr"] for r in rs], "ci": mean_ci(steps) if ok else None}
        pairs = list(zip(row["sgd"]["steps"], row["mom"]["steps"]))
        row["ratios"] = [None if None in q else q[0] / q[1] for q in pairs]
        row["ratio"] = mean_ci(row["ratios"]) if None not in row["ratios"] else None
        out.append(row)
    return out


def cell_ratios(record, beta):
    """The (B, η) grid of one β: ``(batch_sizes, eff_lrs, ratio, diverged)`` with ``ratio[i, j]`` the
    median over the seeds of steps / (that seed's best steps at B) at B = batch_sizes[i] and
    η/(1−β) = eff_lrs[j] — inf where it was not measured within ``cap_factor`` × the best (slower, or
    diverged) — and ``diverged[i, j]`` the share of seeds whose run diverged."""
    import numpy as np

    runs, p = _record_parts(record)
    effs = list(p["eff_lrs"])
    ratio = np.full((len(p["batch_sizes"]), len(effs)), np.inf)
    diverged = np.zeros_like(ratio)
    for i, b in enumerate(p["batch_sizes"]):
        per_seed = np.full((len(p["seeds"]), len(effs)), np.inf)
        for k, s in enumerate(p["seeds"]):
            r = runs[run_key(beta, b, s)]
            for eff, _, steps, status, _ in r["tried"]:
                j = effs.index(eff)
                if steps is not None and r["steps"]:
                    per_seed[k, j] = steps / r["steps"]
                diverged[i, j] += (status == "diverged") / len(p["seeds"])
        ratio[i] = np.median(per_seed, axis=0)
    return list(p["batch_sizes"]), effs, ratio, diverged


def critical_fits(record):
    """Per β: notebook 04's S(B) = S_min·(1 + B_crit/B) (:func:`lecture_utils.scaling.fit_critical_batch`)
    fitted to the seed means (``s_min``, ``b_crit``, ``e_min``) and to each seed alone, whose B_crit give
    the 95 % t-interval ``b_crit_ci`` (:func:`lecture_utils.stats.mean_ci`). Only B where every seed
    reached the target enter."""
    from ..scaling import fit_critical_batch
    from ..stats import mean_ci

    _, p = _record_parts(record)
    rows = summary(record)
    out = {}
    for name in ("sgd", "mom"):
        ok = [r for r in rows if r[name]["ci"] is not None]
        bs = [r["batch_size"] for r in ok]
        fit = fit_critical_batch(bs, [r[name]["ci"].mean for r in ok])
        per_seed = [fit_critical_batch(bs, [r[name]["steps"][k] for r in ok])["b_crit"]
                    for k in range(len(p["seeds"]))]
        out[ok[0][name]["beta"]] = {**fit, "b_crit_per_seed": per_seed, "b_crit_ci": mean_ci(per_seed)}
    return out


def report_lines(record):
    """The sweep as text: per B the updates to the target at the best η for SGD and momentum (mean and
    95 % t-interval over the seeds), the best effective steps, and the paired speed-up (notebook 05)."""
    from ..i18n import _

    _record_parts(record)   # checks the record
    lines = []
    for row in summary(record):
        cells = []
        for name, label in (("sgd", "SGD"), ("mom", f"β = {row['mom']['beta']:g}")):
            d = row[name]
            got = d["ci"].short(".0f") if d["ci"] else _("not reached by every seed")
            effs = "/".join("–" if e is None else f"{e:g}" for e in d["eff"])
            cells.append(_("{label} {got} (best η/(1−β) {effs})").format(label=label, got=got, effs=effs))
        ratio = row["ratio"].short(".2f") if row["ratio"] else "–"
        lines.append(_("B = {b:4d}: {cells};  SGD/momentum {ratio}").format(
            b=row["batch_size"], cells=";  ".join(cells), ratio=ratio))
    return lines


def header_line(record):
    """The line above :func:`report_lines`: updates to the target loss at each seed's best η, mean ± 95 %
    t-interval over the seeds, speed-up paired by seed (notebook 05, "Momentum and the batch size")."""
    from ..i18n import _

    p = record["params"]
    return _("updates to training loss {target:g} at each seed's best η: mean ± 95 % t-interval over {n} "
             "seeds; speed-up SGD/momentum paired by seed").format(target=p["target_loss"], n=len(p["seeds"]))


def fit_lines(record):
    """Per β the fit S(B) = S_min·(1 + B_crit/B) of :func:`critical_fits`: S_min, B_crit (with its per-seed
    t-interval) and E_min = S_min·B_crit, one line each (notebook 05, "Momentum and the batch size")."""
    from ..i18n import _

    line = _("β = {beta:g}: S(B) = S_min·(1 + B_crit/B): S_min = {s_min:.0f} updates, B_crit = {b_crit:.0f} "
             "(per seed {ci}), E_min = S_min·B_crit = {e_min:,.0f} examples")
    return "\n".join(line.format(beta=beta, s_min=f["s_min"], b_crit=f["b_crit"],
                                 ci=f["b_crit_ci"].format(".0f"), e_min=f["e_min"])
                     for beta, f in critical_fits(record).items())
