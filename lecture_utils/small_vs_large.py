"""The lecture's small-vs-large-batch table (notebook 04, last section), every cell read from a cache.

One row per quantity, for B = 32 (:data:`SMALL`) and B = 512 (:data:`LARGE`): time per update (one
process; two data-parallel workers) and per epoch (notebooks 01 and 04), the relative gradient noise

    E|g_B − g|²/|g|² = c(B)·tr Σ/|G|²,   c(B) = (N − B)/(B(N − 1))   (sampling without replacement,
    :func:`lecture_utils.noise.finite_population_factor`),

updates to a target loss at the tuned η (§3), test accuracy after a fixed epoch budget (01), at 100 %
training accuracy with the same η (03) and with η tuned for each B (§1). A seeded cell is a
:class:`lecture_utils.stats.MeanCI` (mean with its 95 % t-interval over the seeds, n − 1 degrees of
freedom); a one-measurement cell a number; a missing cache leaves its cells ``None`` and a note naming it.
:func:`lecture_utils.panels.have_both.summary_table` prints the rows.
"""
from __future__ import annotations

from .data import N_TRAIN
from .i18n import _
from .tuning import critical_rows, seed_ci, tuned_numbers

SMALL, LARGE = 32, 512
#: The caches the table reads, in the order of its rows' sources.
CACHES = ("timing", "batch_accuracy", "generalization", "have_both", "tuned_lr", "critical_batch",
          "noise_scale")


def _load(name):
    """``sweeps.load(name)``, or a one-line reason (str) when that cache cannot be read."""
    from . import sweeps

    try:
        return sweeps.load(name)
    except Exception as exc:  # noqa: BLE001  (missing cache, other parameters, or not a sweep of this package)
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def _at_batch(res, key, b):
    """``res[key]`` at batch size ``b`` of ``res["batch_sizes"]`` (None when ``b`` was not run)."""
    bs = list(res["batch_sizes"])
    return res[key][bs.index(b)] if b in bs else None


def _ms(seconds):
    return None if seconds is None else 1000 * seconds


def _time_rows(timing, batch_accuracy):
    """Time per update (ms) and per epoch (s): from ``timing``, else from ``batch_accuracy``."""
    if timing:
        return [(_("time per update, 1 process (ms)"), _ms(_at_batch(timing, "per_update_s", SMALL)),
                 _ms(_at_batch(timing, "per_update_s", LARGE)), "01 timing"),
                (_("time per epoch (s)"), _at_batch(timing, "per_epoch_s", SMALL),
                 _at_batch(timing, "per_epoch_s", LARGE), "01 timing")]
    if batch_accuracy:
        ba = batch_accuracy
        ba = {**ba, "per_update_s": [s / u for s, u in zip(ba["seconds_per_epoch"], ba["updates_per_epoch"])]}
        return [(_("time per update, 1 process (ms)"), _ms(_at_batch(ba, "per_update_s", SMALL)),
                 _ms(_at_batch(ba, "per_update_s", LARGE)), "01 batch_accuracy"),
                (_("time per epoch (s)"), _at_batch(ba, "seconds_per_epoch", SMALL),
                 _at_batch(ba, "seconds_per_epoch", LARGE), "01 batch_accuracy")]
    return [(_("time per update, 1 process (ms)"), None, None, _("01 (cache missing)")),
            (_("time per epoch (s)"), None, None, _("01 (cache missing)"))]


def _parallel_row(have_both):
    """Time per update of the cached two-worker run (one run: wall-clock of the cache's machine)."""
    if not have_both:
        return (_("time per update, 2 workers (ms)"), None, None, _("04 have_both (cache missing)"))
    par = have_both["parallel"]
    two = [r for r in par["rows"] if r["world_size"] == 2]
    return (_("time per update, 2 workers, B = {b} (ms)").format(b=par['global_batch']), None,
            _ms(two[0]["seconds_per_update"]) if two else None, _("04 parallel (1 run)"))


def _noise_row(recs, ok):
    """E|g_B − g|²/|g|² = c(B)·tr Σ/|G|² per seed of ``noise_scale`` at the target loss of
    ``critical_batch``, as a MeanCI over the seeds (:func:`lecture_utils.tuning.seed_ci`)."""
    from .noise import finite_population_factor
    from .sweeps.noise_scale import seed_key

    if not (ok.get("noise_scale") and ok.get("critical_batch")):
        return (_("gradient noise"), None, None, _("04 noise_scale (cache missing)"))
    level = recs["critical_batch"]["params"]["target_loss"]
    seeds = recs["noise_scale"]["params"]["seeds"]
    pts = [q for sd in seeds for q in ok["noise_scale"]["per_seed"][seed_key(sd)] if q["loss_level"] == level]
    rel = [seed_ci([q["trace"] * finite_population_factor(N_TRAIN, b) / q["g2"] for q in pts])
           for b in (SMALL, LARGE)]
    return (_("gradient noise E|g_B − g|²/|g|² at loss {level:g}").format(level=level), rel[0], rel[1],
            _("04 noise_scale ({n} seeds)").format(n=len(pts)))


def _updates_row(recs, ok):
    """Updates S to the target loss at each seed's best η (MeanCI over the seeds) from ``critical_batch``."""
    if not ok.get("critical_batch"):
        return (_("optimization: updates to target"), None, None, _("04 critical_batch (cache missing)"))
    p = recs["critical_batch"]["params"]
    crit = {r["batch_size"]: r["s_ci"] for r in critical_rows(recs["critical_batch"])}
    return (_("optimization: updates to loss {loss:g} (η tuned)").format(loss=p["target_loss"]),
            crit.get(SMALL), crit.get(LARGE), _("04 critical_batch ({n} seeds)").format(n=len(p["seeds"])))


def _accuracy_rows(recs, ok):
    """Test accuracy after a fixed epoch budget (01), at 100 % train with the same η (03) and with
    η tuned for each B (04)."""
    from .sweeps.generalization import batch_key

    rows = []
    ba, g = ok.get("batch_accuracy"), ok.get("generalization")
    if ba:
        acc = {b: seed_ci([r["test_acc"] for r in ba["runs"] if r["batch_size"] == b])
               for b in (SMALL, LARGE)}
        p = recs["batch_accuracy"]["params"]
        rows.append((_("test acc after {epochs} epochs, same η").format(epochs=p["epochs"]),
                     acc[SMALL], acc[LARGE], _("01 batch_accuracy ({n} seeds)").format(n=len(p["seeds"]))))
    else:
        rows.append((_("test acc after a fixed epoch budget"), None, None, _("01 (cache missing)")))
    if g:
        sb, lb = g["gap"]["sb"], g["gap"]["lb"]
        acc = {b: seed_ci([r["test_acc"] for r in g["runs"][batch_key(b)] if r["status"] == "target_reached"])
               for b in (sb, lb)}
        n = len(recs["generalization"]["params"]["seeds"])
        q = _("generalization: test acc at 100 % train, same η (B = {sb} vs {lb})").format(sb=sb, lb=lb)
        rows.append((q, acc[sb], acc[lb], _("03 generalization ({n} seeds)").format(n=n)))
    else:
        rows.append((_("generalization: test acc at 100 % train, same η"), None, None,
                     _("03 (cache missing)")))
    if ok.get("tuned_lr"):
        tn = tuned_numbers(recs["tuned_lr"])
        cell = {b: tn[b]["tuned"][2] if b in tn and tn[b]["tuned"] else None for b in (SMALL, LARGE)}
        rows.append((_("having both: test acc at 100 % train, η tuned for each B"), cell[SMALL], cell[LARGE],
                     _("04 tuned_lr ({n} seeds)").format(n=len(recs["tuned_lr"]["params"]["seeds"]))))
    else:
        rows.append((_("having both: test acc, η tuned for each B"), None, None,
                     _("04 tuned_lr (cache missing)")))
    return rows


def summary_rows(records=None):
    """The lecture's small-vs-large table, every cell read from a cache (notebooks 01–04).

    ``records`` maps cache names (:data:`CACHES`) to loaded records (default: ``sweeps.load`` each;
    a string stands for a cache that could not be read). A missing cache gives cells ``None`` and a
    note naming it. Returns ``(rows, notes)``; a row is (quantity, small, large, source), its texts in the
    notebook's language (:func:`lecture_utils.i18n._`).
    """
    recs = {n: (records or {}).get(n) or _load(n) for n in CACHES}
    notes = [f"{n}: {r}" for n, r in recs.items() if isinstance(r, str)]
    ok = {n: r["results"] for n, r in recs.items() if not isinstance(r, str)}
    rows = _time_rows(ok.get("timing"), ok.get("batch_accuracy"))
    rows.append(_parallel_row(ok.get("have_both")))
    rows.append(_noise_row(recs, ok))
    rows.append(_updates_row(recs, ok))
    rows += _accuracy_rows(recs, ok)
    return rows, notes
