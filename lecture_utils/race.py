"""The race: small against large batches for the same wall-clock time (notebook 01, section 5).

Every batch size B trains the course MLP (:func:`lecture_utils.train.train_classifier`, plain SGD,
θ ← θ − η·g_𝓑) from the same initial weights for the same budget of T wall-clock seconds. We
record, against the clock, the full training loss L(θ) and the test accuracy, and also against the
number of updates k and the number of epochs k·B/N. The lecture's trade-off in one picture: a small
batch makes many cheap, noisy updates; a large batch makes few, steady ones that cost more each but
use the hardware in parallel (section 3). Who gets to a good model first is what this measures.

The clock counts training only (forward, backward, step): it is paused while the losses are
evaluated (at update counts ~25 % apart, :func:`eval_steps`), so that frequent evaluation of the
fast small batches does not slow them down. It starts after the first update's backward pass (so
less than one update per run is not counted) and the last point is taken where it passes T.

The learning rate η(B) follows the linear scaling rule from η₀ = 0.1 at B₀ = 32 (notebook 04),
capped at η_max = 1.6 (its value at B = 512) for larger batches:

    η(B) = min(η₀·B/B₀, η_max)

It is chosen by this rule, not tuned per batch size; notebook 04 shows what tuning changes.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from ._validate import COUNT, LR, Interval, check_batch_size, check_int, validate_params
from .data import N_TRAIN

#: The race's batch sizes (the last, N_TRAIN = 4000, is the full MNIST-1D training set).
RACE_BATCH_SIZES = (1, 8, 32, 128, 512, N_TRAIN)
#: η(B) = min(LR_BASE · B / LR_BASE_BATCH, LR_MAX).
LR_BASE, LR_BASE_BATCH, LR_MAX = 0.1, 32, 1.6


@validate_params(batch_size=COUNT, base_lr=LR, base_batch=COUNT, max_lr=LR)
def race_lr(batch_size, *, base_lr=LR_BASE, base_batch=LR_BASE_BATCH, max_lr=LR_MAX):
    """η(B) = min(η₀·B/B₀, η_max): the linear scaling rule, capped (the race's learning rates)."""
    return float(min(base_lr * batch_size / base_batch, max_lr))


@validate_params(max_steps=COUNT, ratio=Interval("real", 1.0, None, closed="neither"))
def eval_steps(max_steps=10**7, ratio=1.25):
    """Update counts at which the race evaluates: 1, 2, 3, … growing by ``ratio`` (log-spaced)."""
    out, k = [], 1.0
    while k <= max_steps:
        out.append(int(round(k)))
        k = max(k * ratio, k + 1)
    return sorted(set(out))


class _TimeUp(Exception):
    pass


class _RaceClock:
    """A race run's training clock: it starts at the first backward pass, is paused while the run is
    evaluated, and raises :class:`_TimeUp` at the first backward pass past ``budget`` seconds (keeping
    the model and the number of updates complete by then)."""

    def __init__(self, budget):
        self.budget, self.start, self.paused, self.last = budget, None, 0.0, None
        self.model, self.done = None, 0

    def training_seconds(self):
        """Training time at the last backward pass."""
        return self.last - self.start - self.paused

    def on_backward(self, step, model):
        t = time.perf_counter()
        if self.start is None:
            self.start = t
        self.last = t
        if time.perf_counter() - self.start - self.paused > self.budget:
            self.model, self.done = model, step  # `step` updates are complete
            raise _TimeUp

    def pause_since_last(self):
        """Count the time since the last backward pass (an evaluation) as paused."""
        self.paused += time.perf_counter() - self.last


@dataclass
class RaceRun:
    """One run of the race: curves sampled at the evaluations (the clock excludes evaluation)."""

    batch_size: int
    lr: float
    seed: int
    seconds: list = field(default_factory=list)      # training wall-clock seconds at each evaluation
    steps: list = field(default_factory=list)        # updates k
    epochs: list = field(default_factory=list)       # k·B/N
    train_loss: list = field(default_factory=list)   # full training loss L(θ)
    test_acc: list = field(default_factory=list)
    status: str = "completed"                        # or "diverged" (train_classifier's words)

    def add(self, seconds, step, n, train_loss, test_acc):
        """One evaluation: after ``step`` updates, ``seconds`` of training, on N = ``n`` examples."""
        self.seconds.append(seconds)
        self.steps.append(int(step))
        self.epochs.append(step * self.batch_size / n)
        self.train_loss.append(float(train_loss))
        self.test_acc.append(float(test_acc))

    def as_dict(self):
        return {"batch_size": self.batch_size, "lr": self.lr, "seed": self.seed, "status": self.status,
                "seconds": [round(v, 4) for v in self.seconds], "steps": list(self.steps),
                "epochs": [round(v, 5) for v in self.epochs],
                "train_loss": [round(v, 5) for v in self.train_loss],
                "test_acc": [round(v, 4) for v in self.test_acc]}


@validate_params(time_budget=Interval("real", 0.0, 600.0, closed="right"))
def race_one(data, batch_size, *, time_budget, seed=0, lr=None, hidden=256, threads=None):
    """Train with batch size B for ``time_budget`` seconds of training and return a :class:`RaceRun`.

    η defaults to :func:`race_lr`. ``threads`` (torch intra-op threads) defaults to every core, like
    :func:`lecture_utils.timing.time_per_update`: the race is about what parallel hardware does with
    a bigger batch (training elsewhere uses one thread); the caller's thread count is restored after.
    The run is a :func:`~lecture_utils.train.train_classifier` run (same initial weights for a seed, a
    fresh shuffle every epoch, the arguments checked there), stopped when the clock
    (:class:`_RaceClock`) passes the budget; divergence (NaN loss) ends it with status ``"diverged"``.
    """
    import torch

    from .seeding import set_threads
    from .train import as_tensors, evaluate, train_classifier

    _, _, xt, yt = as_tensors(data)
    n = len(data.y_train)
    run = RaceRun(batch_size=batch_size, lr=race_lr(batch_size) if lr is None else lr, seed=seed)
    clock = _RaceClock(time_budget)

    def on_eval(step, model, train_loss):
        # the evaluation train_classifier just made (and ours of the test set) is not training time
        seconds = clock.training_seconds()
        was = model.training
        _, acc = evaluate(model, xt, yt)
        model.train(was)
        run.add(seconds, step, n, train_loss, acc)
        clock.pause_since_last()

    before = torch.get_num_threads()
    try:
        r = train_classifier(data, batch_size=batch_size, lr=run.lr, seed=seed, max_steps=10**9,
                             max_epochs=10**7, eval_at_steps=eval_steps(), on_eval=on_eval,
                             on_backward=clock.on_backward, hidden=hidden, max_train_loss=1e4,
                             threads=(os.cpu_count() or 1) if threads is None else threads)
        if r.status == "diverged":
            run.status = "diverged"
    except _TimeUp:  # one last evaluation where the clock ran out
        _add_last_point(run, clock, data, n)
    finally:
        set_threads(before)
    return run


def _add_last_point(run, clock, data, n):
    """The evaluation where the clock ran out (or, if the run was just evaluated, its time updated)."""
    from .train import as_tensors, evaluate

    model, step = clock.model, clock.done
    if run.steps and run.steps[-1] == step:  # already evaluated after these updates: the clock ran on
        run.seconds[-1] = clock.training_seconds()
    elif step:
        x, y, xt, yt = as_tensors(data)
        model.eval()
        loss, _ = evaluate(model, x, y)
        _, acc = evaluate(model, xt, yt)
        run.add(clock.training_seconds(), step, n, loss, acc)


def race(batch_sizes=RACE_BATCH_SIZES, *, time_budget=0.5, seeds=(0,), data=None, progress=True,
         threads=None):
    """Run :func:`race_one` for every (B, seed); returns the list of :class:`RaceRun` (notebook 01 §5).

    The live version in the notebook uses ``time_budget=0.5`` s per batch size and one seed
    (about 3 s for six batch sizes); the cached sweep ``time_to_accuracy`` uses more time and seeds.
    """
    from .data import load_mnist1d

    data = load_mnist1d() if data is None else data
    sizes = [check_batch_size(b, data.n_train, name="batch_sizes")
             for b in np.atleast_1d(batch_sizes).tolist()]
    if not sizes:
        raise ValueError("batch_sizes must hold at least one batch size")
    seeds = [check_int("seeds[i]", s, low=0, high=2**32 - 1) for s in np.atleast_1d(seeds).tolist()]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    cells = [(b, s) for s in seeds for b in sizes]
    if progress:
        from tqdm.auto import tqdm
        cells = tqdm(cells, desc=f"race ({time_budget:g} s per run)")
    return [race_one(data, b, time_budget=time_budget, seed=s, threads=threads) for b, s in cells]


# ----------------------------------------------------------------------------- summaries
def value_at(xs, ys, x):
    """The last recorded value of ``ys`` at or before ``x`` (a curve sampled at ``xs``); NaN before
    the first."""
    xs = np.asarray(xs, float)
    i = int(np.searchsorted(xs, x, side="right")) - 1
    return float(ys[i]) if i >= 0 else float("nan")


def first_reach(xs, ys, target):
    """The first ``x`` at which ``ys`` ≥ ``target`` (e.g. seconds to a test accuracy); inf if never."""
    ys = np.asarray(ys, float)
    hit = np.nonzero(ys >= target)[0]
    return float(np.asarray(xs, float)[hit[0]]) if hit.size else math.inf


def mean_se(values):
    """Mean and standard error (std with ddof=1 over √n; 0 for one value) of the finite ``values``, and n."""
    v = np.asarray([x for x in values if np.isfinite(x)], float)
    if v.size == 0:
        return float("nan"), float("nan"), 0
    se = float(v.std(ddof=1) / np.sqrt(v.size)) if v.size > 1 else 0.0
    return float(v.mean()), se, int(v.size)


def curve_band(runs, axis, key, grid):
    """Mean and standard error across runs of ``key`` (train_loss/test_acc) against ``axis`` on ``grid``.

    Each run contributes its last recorded value at or before each grid point (a step function);
    grid points before a run's first evaluation or after its end are NaN for that run, and the
    mean is taken only where every run has a value (so a band never mixes different seed sets).
    """
    vals = []
    for r in runs:
        xs = np.asarray(r[axis], float)
        ys = np.asarray(r[key], float)
        row = np.array([value_at(xs, ys, g) if xs.size and g <= xs[-1] * 1.0000001 else np.nan for g in grid])
        vals.append(row)
    vals = np.array(vals)
    ok = np.all(np.isfinite(vals), axis=0)
    mean = np.where(ok, np.nanmean(np.where(ok, vals, 0.0), axis=0) if len(runs) else np.nan, np.nan)
    se = (np.where(ok, vals.std(axis=0, ddof=1) / np.sqrt(len(runs)), np.nan) if len(runs) > 1
          else np.where(ok, 0.0, np.nan))
    return mean, se


def summarize(runs, *, time_budget, targets=(0.5, 0.6)):
    """Per batch size: end-of-budget training loss and test accuracy, updates, epochs, and seconds to
    each target test accuracy — each as (mean, standard error, n) over seeds; counts of runs that
    never reached a target. ``runs`` are dicts (:meth:`RaceRun.as_dict`)."""
    out = {}
    for b in sorted({r["batch_size"] for r in runs}):
        rs = [r for r in runs if r["batch_size"] == b]
        row = {"lr": rs[0]["lr"], "n_seeds": len(rs), "diverged": sum(r["status"] == "diverged" for r in rs)}
        for key in ("train_loss", "test_acc"):
            row[f"final_{key}"] = mean_se([r[key][-1] if r[key] else np.nan for r in rs])
        row["best_test_acc"] = mean_se([max(r["test_acc"]) if r["test_acc"] else np.nan for r in rs])
        row["updates"] = mean_se([r["steps"][-1] if r["steps"] else np.nan for r in rs])
        row["epochs"] = mean_se([r["epochs"][-1] if r["epochs"] else np.nan for r in rs])
        row["seconds_per_update"] = mean_se([r["seconds"][-1] / r["steps"][-1] if r["steps"] else np.nan
                                             for r in rs])
        for t in targets:
            times = [first_reach(r["seconds"], r["test_acc"], t) for r in rs]
            row[f"seconds_to_{t:g}"] = mean_se(times)
            row[f"reached_{t:g}"] = int(sum(np.isfinite(times)))
        out[b] = row
    return out


def machine_load():
    """(1-minute load average, number of CPUs); the load is NaN where the OS has none."""
    from .timing import load_average

    return load_average(), os.cpu_count() or 1


# ----------------------------------------------------------------------------- the lecture's table
def compare(a, b, *, z=2.0):
    """Compare two (mean, se, n) results: 'lower', 'higher' or 'indistinguishable' for ``a`` against ``b``
    (the difference must exceed ``z`` standard errors of the difference, se = √(se_a² + se_b²))."""
    if a is None or b is None or a[0] is None or b[0] is None \
            or not (np.isfinite(a[0]) and np.isfinite(b[0])):
        return "not measured"
    d = a[0] - b[0]
    se = math.hypot(a[1] or 0.0, b[1] or 0.0)
    if abs(d) <= z * se or d == 0:
        return "indistinguishable"
    return "lower" if d < 0 else "higher"


def parallel_limit(batch_sizes, per_update, factor=2.0):
    """The largest B whose time per update is still ≤ ``factor`` × that of the smallest B (where the
    hardware's parallelism runs out: beyond it, time per update grows with B)."""
    sizes = list(batch_sizes)
    t = np.asarray(per_update, float)
    ok = [b for b, v in zip(sizes, t) if v <= factor * t[0]]
    return max(ok) if ok else sizes[0]


def _mean_pm_se(stat, fmt=".3f"):
    """'0.512 ± 0.004' for a (mean, se, n) with n > 1, '0.512' for one value, '–' when not measured."""
    if stat is None or stat[0] is None or not np.isfinite(stat[0]):
        return "–"
    return f"{stat[0]:{fmt}}" if stat[2] <= 1 else f"{stat[0]:{fmt}} ± {stat[1]:{fmt}}"


def _at_epochs(runs, key, epochs):
    """(mean, se, n) over seeds of ``key`` at ``epochs`` epochs (last value recorded by then)."""
    return mean_se([value_at(r["epochs"], r[key], epochs) for r in runs])


@validate_params(small=COUNT, large=COUNT)
def lecture_table(timing_record, race_record, *, small=1, large=N_TRAIN):
    """The lecture's small-vs-large-batch table filled from our caches (notebook 01 §5).

    Returns a list of dicts with keys ``aspect``, ``lecture`` (what the lecture's table says, small
    vs large), ``measured`` (what our numbers say) and ``evidence`` (the numbers, with seeds and
    intervals). Wall-clock rows come from the ``timing`` sweep, the others from ``time_to_accuracy``.
    Every verdict is computed: a difference counts only when it exceeds two standard errors.
    """
    tres, rres = timing_record["results"], race_record["results"]
    p = race_record["params"]
    runs = rres["runs"]
    by_b = {b: [r for r in runs if r["batch_size"] == b] for b in p["batch_sizes"]}
    summ = summarize(runs, time_budget=p["time_budget_s"], targets=p["targets"])
    return (_time_rows(tres, small, large) + [_gradient_row(rres["noise"], small, large)]
            + [_loss_row(by_b, summ, p, small, large), _accuracy_row(by_b, summ, p, small, large)])


def _time_rows(tres, small, large):
    """Time per update without and with parallelism, and time per epoch (the ``timing`` sweep)."""
    sizes = tres["batch_sizes"]
    t = dict(zip(sizes, tres["per_update_s"]))
    te = dict(zip(sizes, tres["per_epoch_s"]))
    rows = []
    # 1. one update without parallelism: the examples one after another, B × t(1)
    rows.append({"aspect": "time per update, no parallelism", "lecture": "small faster · large slower",
                 "measured": "small faster · large slower (B× the work)",
                 "evidence": f"t(1) = {t[small] * 1e3:.2f} ms; one example after another B = {large} "
                             f"would take {large} × t(1) ≈ {large * t[small]:.1f} s "
                             "(computed from t(1), not measured)"})
    # 2. with parallelism
    limit = parallel_limit(sizes, tres["per_update_s"])
    ratio = t[large] / t[small]
    gpu = ""
    if "cuda" in tres:
        g = dict(zip(sizes, tres["cuda"]["per_update_s"]))
        glimit = parallel_limit(sizes, tres["cuda"]["per_update_s"])
        gpu = (f"; GPU ({tres['cuda']['device']}): ≤ 2 × t(1) up to B = {glimit}, "
               f"t({large}) = {g[large] / g[small]:.1f} × t(1)")
    same = "about the same" if ratio <= 2 else f"same only up to B ≈ {limit}"
    machine = tres["machine"]
    rows.append({"aspect": "time per update, with parallelism", "lecture": "same · same (not too large)",
                 "measured": f"{same}; large {ratio:.0f}× slower on this CPU",
                 "evidence": f"t(B) ≤ 2 × t(1) up to B = {limit}; t({large}) = {ratio:.0f} × t(1) instead of "
                             f"{large} × (so {large / ratio:.0f} examples' worth of parallel work); "
                             f"{machine.get('threads', '?')} threads of the CPU {machine.get('cpu', '?')}"
                             + (gpu or "; no GPU measured (the lecture's V100 stays flat to B ≈ 1000)")})
    # 3. per epoch
    faster = "small slower · large faster" if te[small] > te[large] else "small faster · large slower"
    rows.append({"aspect": "time per epoch", "lecture": "small slower · large faster", "measured": faster,
                 "evidence": f"B = {small}: {te[small]:.3g} s, B = {large}: {te[large]:.3g} s per epoch "
                             f"({te[small] / te[large]:.0f}× apart)"})
    return rows


def _gradient_row(noise, small, large):
    """Gradient noise at the initial weights: mean cos(g_𝓑, ∇L) per batch size."""
    cos = dict(zip(noise["batch_sizes"], noise["mean_cosine"]))
    return {"aspect": "gradient", "lecture": "noisy · stable",
            "measured": "noisy · stable" if cos[small] < cos[large] else "not as the lecture says",
            "evidence": "mean cos(g_𝓑, ∇L) at the initial weights: "
                        + ", ".join(f"B = {b}: {c:.2f}" for b, c in cos.items())}


def _loss_row(by_b, summ, p, small, large):
    """Optimization: training loss per epoch (at the epochs every batch size made) and per second."""
    T = p["time_budget_s"]
    e_common = min(min(r["epochs"][-1] for r in rs) for rs in by_b.values())
    loss_t = {b: summ[b]["final_train_loss"] for b in by_b}
    if e_common >= 1:  # every batch size made at least one epoch: compare at the same number of epochs
        e = math.floor(e_common)
        loss_e = {b: _at_epochs(rs, "train_loss", e) for b, rs in by_b.items()}
        per_epoch = f"per epoch: {_versus(loss_e, small, large)}"
        ev_epoch = (f"after {e} epoch{'s' if e != 1 else ''}: "
                    + ", ".join(f"B = {b}: {_mean_pm_se(v)}" for b, v in loss_e.items()) + "; ")
    else:
        slow = min(by_b, key=lambda b: min(r["epochs"][-1] for r in by_b[b]))
        per_epoch = f"per epoch: not measured (B = {slow} did not finish one epoch in {T:g} s)"
        ev_epoch = ""
    return {"aspect": "optimization (training loss)", "lecture": "small better · large worse",
            "measured": (f"{per_epoch}; per second: {_best(loss_t, 'lowest')}; "
                         f"{_versus(loss_t, small, large)}"),
            "evidence": (ev_epoch + f"after {T:g} s: "
                         + ", ".join(f"B = {b}: {_mean_pm_se(v)}" for b, v in loss_t.items())
                         + f" (mean ± standard error, {len(p['seeds'])} seeds)")}


def _accuracy_row(by_b, summ, p, small, large):
    """Generalization: the best test accuracy within the time budget."""
    T = p["time_budget_s"]
    acc = {b: summ[b]["best_test_acc"] for b in by_b}
    return {"aspect": "generalization (test accuracy)", "lecture": "small better · large worse",
            "measured": (f"in {T:g} s: {_best(acc, 'highest')}; "
                         f"{_versus(acc, small, large, higher_is_better=True)} "
                         "(mixed with how far each got: notebook 03 compares at equal training loss)"),
            "evidence": f"best test accuracy within {T:g} s: "
                        + ", ".join(f"B = {b}: {_mean_pm_se(v)}" for b, v in acc.items())
                        + f" (mean ± standard error, {len(p['seeds'])} seeds)"}


def _best(stats, which):
    """'lowest at B = 32 (B = 128 within 2 standard errors)': the best mean and who cannot be told from it."""
    key = (lambda b: stats[b][0]) if which == "lowest" else (lambda b: -stats[b][0])
    ok = [b for b in stats if stats[b][0] is not None and np.isfinite(stats[b][0])]
    if not ok:
        return "not measured"
    best = min(ok, key=key)
    ties = [b for b in ok if b != best and compare(stats[b], stats[best]) == "indistinguishable"]
    return f"{which} at B = {best}" + (f" (B = {', '.join(map(str, ties))} within 2 standard errors)"
                                       if ties else "")


def _versus(stats, a, b, *, higher_is_better=False):
    """'B = a better than B = b' / 'worse' / 'B = a and B = b indistinguishable (within 2 standard
    errors)'."""
    w = _better_or_worse(compare(stats[a], stats[b]), higher_is_better)
    if w in ("better", "worse"):
        return f"B = {a} {w} than B = {b}"
    if w == "indistinguishable":
        return f"B = {a} and B = {b} indistinguishable (within 2 standard errors)"
    return f"B = {a} vs B = {b} not measured"


def _better_or_worse(cmp, higher_is_better=False):
    """'better'/'worse'/'indistinguishable' from :func:`compare` (lower loss is better, higher accuracy)."""
    if cmp in ("indistinguishable", "not measured"):
        return cmp
    good = (cmp == "higher") if higher_is_better else (cmp == "lower")
    return "better" if good else "worse"


def table_markdown(rows):
    """The rows of :func:`lecture_table` as a Markdown table."""
    out = ["| | lecture (small · large) | measured here | the numbers |", "|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['aspect']} | {r['lecture']} | {r['measured']} | {r['evidence']} |")
    return "\n".join(out)
