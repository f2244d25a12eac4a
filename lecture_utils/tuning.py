"""η tuned per batch size, the critical batch from the tuned runs, warm-up counts (notebook 04).

The numbers behind notebook 04's tables and figures, read from its cached sweeps: nothing trains
here, and nothing is drawn (:mod:`lecture_utils.panels.have_both` turns these numbers into text,
figures and the panel).

* seeds — :func:`seed_ci`: mean ± 95 % t-interval over the seeds (:func:`lecture_utils.stats.mean_ci`,
  n − 1 degrees of freedom), of the runs a caller names (e.g. those that reached 100 % training
  accuracy); a difference of two settings on the same seeds and test set is the paired interval
  :func:`lecture_utils.stats.paired_diff_ci` (:func:`tuned_differences`);
* warm-up — :func:`warmup_steps`: W = (warm-up epochs)·⌈N/B⌉ updates (Goyal et al. 2017: 5 epochs);
  :func:`warmup_rows`: per warm-up length W (in updates) k of n seeds diverged, with a 95 % Wilson
  score interval, and the survivors' test accuracy (95 % t-interval) (sweep ``warmup``, §1);
  :func:`warmup_contrast`: short (W ≤ 20) against long (W ≥ 100) ramps, pooled, with Fisher's exact test;
  :func:`warmup_acc_differences`: test accuracy of each W against W = 20, paired per seed;
  :func:`stability_numbers`: λ_max·η/2 along the tracked runs (stable below 1, i.e. λ_max < 2/η),
  :func:`stability_at`: λ_max·η/2 of each tracked seed at one update;
* the protocol (sweep ``have_both``, §1–2) — :func:`protocol_rows`, :func:`protocol_numbers`,
  :func:`train_longer_rows`, :func:`protocol_differences` (paired per seed);
* η tuned for every B (sweep ``tuned_lr``, §1) — :func:`tuned_cells` (test accuracy per (B, η)),
  :func:`tuned_rows` (η₀, η₀·√(B/B₀), η₀·B/B₀ and the best η of the grid), :func:`tuned_numbers`,
  :func:`tuned_differences` (tuned B against tuned B₀);
* the critical batch (sweeps ``critical_batch`` and ``noise_scale``, §3) — :func:`critical_rows`
  (updates S to the target loss at each seed's best η), :func:`critical_fit` (S(B) = S_min(1 + B_crit/B)
  fitted to the means and to each seed), :func:`noise_rows` (B_simple = tr Σ/|G|² per training-loss level),
  :func:`critical_numbers` (S_min, E_min, B_crit and B_simple at the target, for the exercise check).
"""
from __future__ import annotations

import math

import numpy as np

from . import stats
from .i18n import _
from .train import warmup_steps  # W = warmup_epochs·⌈N/B⌉, defined beside the schedule it sets

#: The rules of notebook 04 §1 for η at batch size B, from η₀ at B₀ (:func:`tuned_rows`).
RULES = ("fixed", "sqrt", "linear", "tuned")


def record_parts(record, sweep):
    """``(results, params)`` of a record of sweep ``sweep``; ``ValueError`` when it is not one."""
    if not isinstance(record, dict) or "results" not in record:
        raise ValueError(f"record must be the dict returned by sweeps.load({sweep!r})")
    return record["results"], record["params"]


# ----------------------------------------------------------------------------- seeds
def _finite(values):
    """The finite numbers among ``values`` (None, NaN and ±inf — a diverged run — left out)."""
    return [float(x) for x in values if x is not None and math.isfinite(float(x))]


def seed_ci(values):
    """:func:`lecture_utils.stats.mean_ci` (x̄ ± t_{0.975, n−1}·s/√n) of the finite ``values``, one
    per seed; None when there is none. The caller picks (and its table says) which runs count."""
    v = _finite(values)
    return stats.mean_ci(v) if v else None


def _mean(values):
    """Mean of the finite ``values`` (None when there is none)."""
    v = _finite(values)
    return float(np.mean(v)) if v else None


# ----------------------------------------------------------------------------- warm-up
def warmup_rows(record):
    """Per (B, W) of the sweep ``warmup`` (W = warm-up length in updates, ``params["warmup_updates"]``):
    diverged k of n seeds with its 95 % Wilson score interval
    (:func:`lecture_utils.landscapes.wilson_interval`), the updates at which they diverged, the seeds
    that reached 100 % training accuracy and their test accuracy ``ci`` (:func:`seed_ci`: 95 %
    t-interval over those seeds), and how many ended otherwise (``other``: no progress or out of
    epochs). ``epochs`` is W in epochs, W/⌈N/B⌉. Notebook 04 §1."""
    from .data import N_TRAIN, updates_per_epoch
    from .landscapes import wilson_interval
    from .sweeps.warmup import run_key

    res, p = record_parts(record, "warmup")
    rows = []
    for b in p["settings"]:
        for w in p["warmup_updates"]:
            rs = [res["runs"][run_key(b, w, s)] for s in p["seeds"]]
            div = [r for r in rs if r["status"] == "diverged"]
            ok = [r for r in rs if r["status"] == "target_reached"]
            lo, hi = wilson_interval(len(div), len(rs))
            ci = seed_ci([r["test_acc"] for r in ok])
            rows.append({"batch_size": b, "lr": rs[0]["lr"], "warmup_steps": w,
                         "epochs": w / updates_per_epoch(N_TRAIN, b),
                         "n": len(rs), "diverged": len(div), "wilson": (float(lo), float(hi)),
                         "diverged_at": sorted(r["steps"] for r in div), "reached": len(ok),
                         "other": len(rs) - len(div) - len(ok),
                         "reached_test_acc": [r["test_acc"] for r in ok],
                         "reached_steps": [r["steps"] for r in ok],
                         "test_acc": None if ci is None else ci.mean, "ci": ci})
    return rows


def warmup_contrast(record, short=(0, 20), long=(100, 400), b=None):
    """Ramps of at most 20 updates against ramps of 100 updates or more, pooled over their seeds:
    diverged k/n of each with its 95 % Wilson score interval, and Fisher's exact test (two-sided,
    :func:`scipy.stats.fisher_exact`) of "the divergence rate is the same" on the 2 × 2 table.
    Notebook 04 §1 (the warm-up length)."""
    from scipy.stats import fisher_exact

    from .landscapes import wilson_interval

    rows = [r for r in warmup_rows(record) if b is None or r["batch_size"] == b]
    out = {}
    for name, ws in (("short", short), ("long", long)):
        sel = [r for r in rows if r["warmup_steps"] in ws]
        if len(sel) != len(ws):
            raise ValueError(f"{name} must name warm-up lengths of the sweep; got {ws}")
        k, n = sum(r["diverged"] for r in sel), sum(r["n"] for r in sel)
        lo, hi = wilson_interval(k, n)
        out[name] = {"warmup_steps": tuple(ws), "diverged": k, "n": n, "wilson": (float(lo), float(hi))}
    a, c = out["short"], out["long"]
    out["fisher_p"] = float(fisher_exact([[a["diverged"], a["n"] - a["diverged"]],
                                          [c["diverged"], c["n"] - c["diverged"]]])[1])
    return out


def warmup_acc_differences(record, ref=20, b=None):
    """Test accuracy of each warm-up length W against W = ``ref``, paired per seed over the seeds that
    reached 100 % training accuracy with both (:func:`lecture_utils.stats.paired_diff_ci`: 95 %
    t-interval of the differences, same seeds, same test set): ``[{"warmup_steps": W, "seeds": [...],
    "ci": MeanCI}]`` (``ci`` None when fewer than 2 seeds are shared). Notebook 04, deep dive after §1."""
    from .sweeps.warmup import run_key

    res, p = record_parts(record, "warmup")
    b = p["settings"][0] if b is None else b
    if ref not in p["warmup_updates"]:
        raise ValueError(f"ref must be one of the sweep's warm-up lengths {p['warmup_updates']}; got {ref!r}")

    def reached(w, s):
        r = res["runs"][run_key(b, w, s)]
        return r["test_acc"] if r["status"] == "target_reached" else None

    out = []
    for w in p["warmup_updates"]:
        if w == ref:
            continue
        seeds = [s for s in p["seeds"] if reached(w, s) is not None and reached(ref, s) is not None]
        ci = (stats.paired_diff_ci([reached(w, s) for s in seeds], [reached(ref, s) for s in seeds])
              if len(seeds) >= 2 else None)
        out.append({"warmup_steps": w, "ref": ref, "seeds": seeds, "ci": ci})
    return out


def stability_numbers(record, b=None):
    """λ_max·η/2 along the tracked runs (η of that update), per warm-up length W (in updates): the
    median over seeds and updates before step 120, the share of measurements above 1 (beyond the
    limit λ_max = 2/η), and λ_max at the start (update 0, the same weights for every W)."""
    from .sweeps.warmup import run_key

    res, p = record_parts(record, "warmup")
    b = p["track"][0] if b is None else b
    out = {}
    for w in p["warmup_updates"]:
        ratios, lam0 = [], []
        for s in p["track_seeds"]:
            t = res["runs"][run_key(b, w, s)].get("track")
            if not t:
                continue
            for st, lr, lam in zip(t["step"], t["lr"], t["lam"]):
                if lam is not None and st < 120:
                    ratios.append(lam * lr / 2)
                if st == 0 and lam is not None:
                    lam0.append(lam)
        r = np.array(ratios)
        out[w] = {"median_ratio": float(np.median(r)) if len(r) else None,
                  "share_above_1": float((r > 1).mean()) if len(r) else None, "n": len(r),
                  "lam0": float(np.median(lam0)) if lam0 else None}
    return out


def stability_at(record, step, b=None):
    """λ_max·η/2 of each tracked seed at update ``step`` (η of that update), per warm-up length W:
    ``{W: {"lr": η, "ratio": {seed: λ_max·η/2}}}`` (a seed without that measurement is left out).
    Notebook 04 §1 quotes it at update 0 (before any step) and at update 10 (mid warm-up)."""
    from .sweeps.warmup import run_key

    res, p = record_parts(record, "warmup")
    b = p["track"][0] if b is None else b
    out = {}
    for w in p["warmup_updates"]:
        lr, ratio = None, {}
        for s in p["track_seeds"]:
            t = res["runs"][run_key(b, w, s)].get("track") or {"step": [], "lr": [], "lam": []}
            for st, eta, lam in zip(t["step"], t["lr"], t["lam"]):
                if st == step and lam is not None:
                    lr, ratio[s] = eta, lam * eta / 2
        out[w] = {"lr": lr, "ratio": ratio}
    return out


# ----------------------------------------------------------------------------- the protocol (sweep have_both)
def _protocol_points(per_seed, seeds, name):
    """Each seed's point of one protocol setting: a run (``small``, ``large_scaled``, …) or a point
    of the large batch trained on (``large/at_target`` …), as dicts with epochs, steps, seconds,
    test_acc (None for a seed without that point)."""
    out = []
    for s in seeds:
        d = per_seed[str(s)]
        if "/" in name:
            top, point = name.split("/")
            q = d[top].get(point)
            out.append(None if q is None else {"epochs": q.get("epoch"), "steps": q.get("step"),
                                               "seconds": q.get("seconds"), "test_acc": q.get("test_acc")})
        else:
            out.append(d[name])
    return out


def protocol_rows(record):
    """Sections 1–2, one dict per setting: name, B, η, W, the means over the seeds of epochs,
    updates and seconds, and test accuracy ``test_acc`` with its 95 % t-interval ``ci``
    (:func:`seed_ci`; ``n`` seeds with a test accuracy), all from the cache's per-seed runs."""
    from .scaling import scaled_lr

    res, p = record_parts(record, "have_both")
    per_seed = res["protocol"]["per_seed"]
    b0, lr0, b = p["base"]["batch_size"], p["base"]["lr"], p["large_batch"]
    w = warmup_steps(p["warmup_epochs"], b)
    big = scaled_lr(b, base_lr=lr0, base_batch_size=b0, rule="linear")
    rows = [("small batch", b0, lr0, 0, "small"),
            ("large batch at η, same epochs", b, lr0, 0, "large/at_same_epochs"),
            ("large batch at η, to 100 % train", b, lr0, 0, "large/at_target"),
            ("large batch at η, same updates (train longer)", b, lr0, 0, "large/at_same_steps"),
            ("large batch at scaled η, no warm-up", b, big, 0, "large_scaled"),
            ("large batch at scaled η + warm-up", b, big, w, "large_scaled_warmup")]
    out = []
    for name, bb, lr, ww, key in rows:
        pts = [q for q in _protocol_points(per_seed, p["seeds"], key) if q is not None]
        ci = seed_ci([q["test_acc"] for q in pts])
        out.append({"name": name, "batch_size": bb, "lr": lr, "warmup_steps": ww,
                    "epochs": _mean(q["epochs"] for q in pts), "steps": _mean(q["steps"] for q in pts),
                    "seconds": _mean(q["seconds"] for q in pts),
                    "test_acc": None if ci is None else ci.mean, "ci": ci, "n": 0 if ci is None else ci.n,
                    "n_seeds": len(p["seeds"]), "test_accs": [q["test_acc"] for q in pts]})
    return out


def protocol_numbers(record):
    """The means the notebook's text and the tests quote: small, large at η (same epochs, same
    updates) and large at scaled η with(out) warm-up, as test accuracies."""
    rows = {r["name"]: r for r in protocol_rows(record)}
    return {"small": rows["small batch"]["test_acc"],
            "large_same_epochs": rows["large batch at η, same epochs"]["test_acc"],
            "large_train_longer": rows["large batch at η, same updates (train longer)"]["test_acc"],
            "large_scaled": rows["large batch at scaled η, no warm-up"]["test_acc"],
            "large_scaled_warmup": rows["large batch at scaled η + warm-up"]["test_acc"]}


def critical_numbers(critical_record, noise_record):
    """S_min, E_min and B_crit = E_min/S_min of S(B) = S_min(1 + B_crit/B) fitted to the seed means of
    the sweep ``critical_batch`` (:func:`critical_fit`), B_simple at its target loss (seed mean of the
    sweep ``noise_scale``, :func:`noise_rows`; None where that level was not measured) and the range
    of B_simple's seed means over the loss levels; :func:`lecture_utils.checks.check_b_crit` reads it."""
    fit = critical_fit(critical_record)
    rows = noise_rows(noise_record)
    at = [r["b_simple"] for r in rows if r["loss_level"] == fit["target_loss"]]
    means = [r["b_simple"] for r in rows if r["b_simple"] is not None]
    return {"target_loss": fit["target_loss"], "s_min": fit["s_min"], "e_min": fit["e_min"],
            "b_crit": fit["b_crit"], "b_simple": at[0] if at else None,
            "b_simple_range": [min(means), max(means)] if means else None}


def train_longer_rows(record, tuned_record):
    """Section 2: B₀ at η₀ against B = large batch at η₀ (same epochs, to 100 % train, same updates)
    from ``have_both``, and at η₀·√(B/B₀), η₀·B/B₀ and the tuned η from ``tuned_lr``; test accuracy
    with its 95 % t-interval ``ci`` over the seeds (``n``). Each row is one protocol: the large batch
    is trained longer only at η₀, and the √B and tuned η only to 100 % training accuracy — the
    combination (√B η for the small batch's number of updates) is not in the caches."""
    names = {r["name"]: r for r in protocol_rows(record)}
    p = record_parts(record, "have_both")[1]
    b0, b = p["base"]["batch_size"], p["large_batch"]
    rows = []
    # the labels are shown in tables: in the notebook's language (the keys stay English)
    for label, key in ((_("B = {b0}, η = η₀ (to 100 % train)").format(b0=b0), "small batch"),
                       (_("B = {b}, η = η₀, same epochs as B = {b0}").format(b=b, b0=b0),
                        "large batch at η, same epochs"),
                       (_("B = {b}, η = η₀, to 100 % train").format(b=b), "large batch at η, to 100 % train"),
                       (_("B = {b}, η = η₀, same updates as B = {b0}").format(b=b, b0=b0),
                        "large batch at η, same updates (train longer)")):
        r = names[key]
        rows.append({"name": label, "lr": r["lr"], "epochs": r["epochs"], "steps": r["steps"],
                     "train_acc": None, "test_acc": r["test_acc"], "ci": r["ci"], "n": r["n"],
                     "source": "have_both"})
    tr = {x["batch_size"]: x for x in tuned_rows(tuned_record)}
    if b in tr:
        for label, k in ((_("B = {b}, η ∝ √B (Hoffer), to 100 % train").format(b=b), "sqrt"),
                         (_("B = {b}, η ∝ B (Goyal, no warm-up), to 100 % train").format(b=b), "linear"),
                         (_("B = {b}, η tuned, to 100 % train").format(b=b), "tuned"),
                         (_("B = {b}, η tuned, to 100 % train").format(b=b0), None)):
            c = tr[b][k] if k else tr[b0]["tuned"]
            if c is None:
                continue
            rows.append({"name": label, "lr": c["lr"], "epochs": c["epochs"], "steps": c["steps"],
                         "test_acc": c["test_acc"], "ci": c["ci"], "n": c["reached"], "source": "tuned_lr"})
    return rows


def protocol_differences(record, tuned_record=None):
    """Paired per-seed differences of test accuracy between rows of §1–2 (same seeds, same test set;
    :func:`lecture_utils.stats.paired_diff_ci`): warm-up at the scaled η, training longer at η₀, the
    small batch against the large one at η₀ (both at 100 % train), and — with ``tuned_record`` —
    the √B η against η₀ at the large batch (both at 100 % train). A list of (label, MeanCI)."""
    rows = {r["name"]: r["test_accs"] for r in protocol_rows(record)}
    p = record_parts(record, "have_both")[1]
    b0, b = p["base"]["batch_size"], p["large_batch"]
    # the labels are shown in tables: in the notebook's language
    pairs = [(_("B = {b}, scaled η: + warm-up − no warm-up").format(b=b),
              rows["large batch at scaled η + warm-up"], rows["large batch at scaled η, no warm-up"]),
             (_("B = {b}, η₀: same updates as B = {b0} − to 100 % train").format(b=b, b0=b0),
              rows["large batch at η, same updates (train longer)"],
              rows["large batch at η, to 100 % train"]),
             (_("B = {b0} − B = {b}, both at η₀ and 100 % train").format(b0=b0, b=b), rows["small batch"],
              rows["large batch at η, to 100 % train"])]
    if tuned_record is not None:
        tr = {x["batch_size"]: x for x in tuned_rows(tuned_record)}
        sq = tr.get(b, {}).get("sqrt")
        if sq and sq["reached"] == sq["n"]:
            pairs.append((_("B = {b}: η ∝ √B (η = {lr:g}) − η₀, both at 100 % train").format(
                b=b, lr=sq['lr']), sq["test_accs"],
                          rows["large batch at η, to 100 % train"]))
    return [(label, stats.paired_diff_ci(a, c)) for label, a, c in pairs
            if len(a) == len(c) and None not in a and None not in c]


# ------------------------------------------------------------------- η tuned for every B (sweep tuned_lr)
def tuned_cells(record):
    """Every (B, η) cell of the sweep ``tuned_lr``: ``n`` seeds, ``reached`` (100 % training
    accuracy), ``diverged``, test accuracy ``test_acc`` with its 95 % t-interval ``ci`` over the
    seeds that reached it (``test_accs``: theirs, in seed order, None for the others), mean updates
    and epochs of those seeds (notebook 04, section 1)."""
    from .sweeps.tuned_lr import run_key

    res, p = record_parts(record, "tuned_lr")
    out = {}
    for b in p["batch_sizes"]:
        for lr in p["lrs"]:
            rs = [res["runs"][run_key(b, lr, s)] for s in p["seeds"]]
            ok = [r for r in rs if r["status"] == "target_reached"]
            ci = seed_ci([r["test_acc"] for r in ok])
            out[(b, lr)] = {"n": len(rs), "reached": len(ok),
                            "diverged": sum(r["status"] == "diverged" for r in rs),
                            "test_acc": None if ci is None else ci.mean, "ci": ci,
                            "test_accs": [r["test_acc"] if r["status"] == "target_reached" else None
                                          for r in rs],
                            "steps": _mean(r["steps"] for r in ok), "epochs": _mean(r["epochs"] for r in ok)}
    return out


def _grid_value(lr, grid):
    """The value of ``grid`` equal to ``lr`` (up to rounding), or None when ``lr`` is not on it."""
    hit = [g for g in grid if abs(g - lr) <= 1e-9 * lr]
    return hit[0] if hit else None


def tuned_rows(record):
    """Per B the cells of the three rules and the tuned one: ``fixed`` (η₀), ``sqrt`` (η₀·√(B/B₀),
    None when not on the grid), ``linear`` (η₀·B/B₀, likewise) and ``tuned`` (the η of the grid with
    the best mean test accuracy among those where every seed reached 100 % training accuracy)."""
    from .scaling import scaled_lr

    p = record_parts(record, "tuned_lr")[1]
    cells = tuned_cells(record)
    b0, lr0 = p["base"]["batch_size"], p["base"]["lr"]
    rows = []
    for b in p["batch_sizes"]:
        full = [lr for lr in p["lrs"] if cells[(b, lr)]["reached"] == cells[(b, lr)]["n"]]
        lrs = {"fixed": lr0, "tuned": max(full, key=lambda lr: cells[(b, lr)]["test_acc"]) if full else None}
        for rule in ("sqrt", "linear"):
            lrs[rule] = _grid_value(scaled_lr(b, base_lr=lr0, base_batch_size=b0, rule=rule), p["lrs"])
        rows.append({"batch_size": b, **{k: None if lrs[k] is None else {"lr": lrs[k], **cells[(b, lrs[k])]}
                                         for k in RULES}})
    return rows


def tuned_numbers(record):
    """Per B and rule (:data:`RULES`): (η, test accuracy mean, its 95 % t-interval (MeanCI), seeds
    that reached 100 %), or None."""
    def numbers(c):
        return None if c is None else (c["lr"], c["test_acc"], c["ci"], c["reached"])

    return {r["batch_size"]: {k: numbers(r[k]) for k in RULES} for r in tuned_rows(record)}


def tuned_differences(record):
    """Tuned against tuned: for every B ≠ B₀ whose tuned η and B₀'s exist, the per-seed differences
    dᵢ = acc_B,i − acc_B₀,i (same seed, same 1,000 test examples) and their paired 95 % t-interval
    (:func:`lecture_utils.stats.paired_diff_ci`). Dicts: batch_size, tuned (B's cell), base (B₀'s
    cell), diff (d̄), ci (MeanCI of the dᵢ). A tuned cell has every seed at 100 % training accuracy,
    so every seed has a pair."""
    p = record_parts(record, "tuned_lr")[1]
    rows = {r["batch_size"]: r for r in tuned_rows(record)}
    b0 = p["base"]["batch_size"]
    t0 = rows[b0]["tuned"]
    out = []
    for b in p["batch_sizes"]:
        if b == b0 or not rows[b]["tuned"] or not t0:
            continue
        t = rows[b]["tuned"]
        ci = stats.paired_diff_ci(t["test_accs"], t0["test_accs"])
        out.append({"batch_size": b, "tuned": t, "base": t0, "diff": ci.mean, "ci": ci})
    return out


# ----------------------------------------------------------------------------- the critical batch (§3)
def critical_rows(record):
    """Per B of the sweep ``critical_batch``: each seed's best η and updates S to the target loss,
    S̄ with its 95 % t-interval ``s_ci`` (seeds that reached the target), E = B·S̄, and how many η
    of the grid were tried."""
    from .sweeps.critical_batch import run_key

    res, p = record_parts(record, "critical_batch")
    rows = []
    for b in p["batch_sizes"]:
        rs = [res["runs"][run_key(b, s)] for s in p["seeds"]]
        ci = seed_ci([r["steps"] for r in rs])
        m = None if ci is None else ci.mean
        rows.append({"batch_size": b, "best_lrs": [r["best_lr"] for r in rs],
                     "steps": [r["steps"] for r in rs], "s_mean": m, "s_ci": ci,
                     "n": 0 if ci is None else ci.n, "n_seeds": len(rs),
                     "n_lrs": len(rs[0]["tried"]),
                     "e_mean": None if m is None else m * b})
    return rows


def critical_fit(record):
    """S(B) = S_min(1 + B_crit/B) fitted to the seed means, and to each seed alone (``b_crit_ci``:
    mean with 95 % t-interval over the seeds' fits — the seed spread only: the η grid (×2) and the
    one target loss add uncertainty it does not contain). Note E(B_crit) = B_crit·S_min·2 = 2·E_min:
    at B_crit a run already needs twice the fewest examples."""
    from .scaling import fit_critical_batch
    from .sweeps.critical_batch import run_key

    res, p = record_parts(record, "critical_batch")
    rows = [r for r in critical_rows(record) if r["n"] == r["n_seeds"]]
    fit = fit_critical_batch([r["batch_size"] for r in rows], [r["s_mean"] for r in rows])
    per_seed = []
    for s in p["seeds"]:
        rr = [res["runs"][run_key(b, s)] for b in p["batch_sizes"]]
        ok = [(b, r["steps"]) for b, r in zip(p["batch_sizes"], rr) if r["steps"] is not None]
        per_seed.append(fit_critical_batch([b for b, _st in ok], [st for _b, st in ok])["b_crit"])
    ci = seed_ci(per_seed)
    return {**fit, "b_crit_per_seed": per_seed, "b_crit_mean": None if ci is None else ci.mean,
            "b_crit_ci": ci, "target_loss": p["target_loss"]}


def noise_rows(record):
    """B_simple at each training-loss level of the sweep ``noise_scale``: mean with 95 % t-interval
    ``ci`` over the seeds, with the mean update, |G|² and tr Σ at which the level was reached."""
    from .sweeps.noise_scale import seed_key

    res, p = record_parts(record, "noise_scale")
    rows = []
    for level in sorted(p["at_losses"], reverse=True):
        pts = [q for s in p["seeds"] for q in res["per_seed"][seed_key(s)] if q["loss_level"] == level]
        ci = seed_ci([q["b_simple"] for q in pts])
        rows.append({"loss_level": level, "b_simple": None if ci is None else ci.mean, "ci": ci,
                     "n": 0 if ci is None else ci.n,
                     "step": _mean(q["step"] for q in pts), "g2": _mean(q["g2"] for q in pts),
                     "trace": _mean(q["trace"] for q in pts), "values": [q["b_simple"] for q in pts]})
    return rows
