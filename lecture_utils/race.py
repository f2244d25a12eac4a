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
less than one update per run is not counted) and the last point is taken where it passes T. The
clock is a sum over every update, i.e. the *mean* time per update; each run also records the
*median* time of one update (the interval between two backward passes with no evaluation between
them), the statistic of the ``timing`` sweep, so that the two can be compared
(:func:`clock_rows`).

The learning rate η(B) is **tuned per batch size** for speed: the sweep ``critical_batch``
(notebook 04 §4, deep dive) tried every η of one grid (0.05 … 6.4, factor 2) for B = 8 … 512 and kept the η
that reaches a training loss of 0.8 in the fewest updates — the race's own question. The race
uses the median of that best η over its seeds (:func:`race_lrs`); a B outside the grid gets the
η/B of the nearest smaller grid B (B = 1: η/B of B = 8) or, above the grid, the largest B's η
(B = 4000: B = 512's), and its row says so.

Intervals are 95 % t-intervals over the seeds (:func:`lecture_utils.stats.mean_ci`); a comparison of
two batch sizes uses the paired per-seed differences (:func:`lecture_utils.stats.paired_diff_ci`: the
seeds share initial weights and test set).
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from . import stats
from ._validate import COUNT, Interval, check_batch_size, check_int, validate_params
from .data import N_TRAIN
from .i18n import _, ngettext
from .timing import pad

#: The race's batch sizes (the last, N_TRAIN = 4000, is the full MNIST-1D training set).
RACE_BATCH_SIZES = (1, 8, 32, 128, 512, N_TRAIN)
#: The sweep whose tuned η the race uses (04 §4 deep dive: fewest updates to a training loss of 0.8).
LR_SWEEP = "critical_batch"


def tuned_lrs(record=None):
    """{B: η} of the sweep ``critical_batch``: for every B of its grid, the median over its seeds of
    the η that reached the target loss in the fewest updates (seeds where no η did are left out)."""
    if record is None:
        from . import sweeps

        record = sweeps.load(LR_SWEEP)
    from .sweeps.critical_batch import run_key

    p, runs = record["params"], record["results"]["runs"]
    out = {}
    for b in p["batch_sizes"]:
        best = [runs[run_key(b, s)]["best_lr"] for s in p["seeds"]]
        best = [v for v in best if v is not None]
        if best:
            out[int(b)] = float(np.median(best))
    if not out:
        raise ValueError("record must hold at least one tuned η (a critical_batch record)")
    return out


def race_lrs(batch_sizes=RACE_BATCH_SIZES, record=None):
    """η for every B of the race and where it comes from: a list of ``(η, source)``.

    ``source`` is ``"tuned"`` for a B of the ``critical_batch`` grid (:func:`tuned_lrs`); a B below or
    between its grid points gets the η/B of the nearest smaller grid B, η = η*(B₀)·B/B₀ (at most the
    largest tuned η), ``"η/B of B = B₀"``; a B above the grid gets the largest grid B's η,
    ``"η of B = B₁"``. ``record``: a ``critical_batch`` record (default: the cache).
    """
    tuned = tuned_lrs(record)
    grid = sorted(tuned)
    out = []
    for b in np.atleast_1d(batch_sizes).tolist():
        b = check_int("batch_sizes[i]", b, low=1)
        if b in tuned:
            out.append((tuned[b], "tuned"))
        elif b > grid[-1]:
            out.append((tuned[grid[-1]], f"η of B = {grid[-1]}"))
        else:
            b0 = max([g for g in grid if g < b], default=grid[0])
            out.append((min(tuned[b0] * b / b0, max(tuned.values())), f"η/B of B = {b0}"))
    return out


def lr_source_text(source):
    """:func:`race_lrs`'s ``source`` (stored in English in the caches: "tuned", "η/B of B = 8", …) in the
    language of the output."""
    import re

    if source in ("tuned", "given"):
        return _("tuned") if source == "tuned" else _("given")
    m = re.fullmatch(r"η/B of B = (\d+)", source)
    if m:
        return _("η/B of B = {b}").format(b=int(m.group(1)))
    m = re.fullmatch(r"η of B = (\d+)", source)
    if m:
        return _("η of B = {b}").format(b=int(m.group(1)))
    return source


@validate_params(batch_size=COUNT)
def race_lr(batch_size, record=None):
    """The race's η for one batch size (:func:`race_lrs`)."""
    return race_lrs([batch_size], record)[0][0]


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
    the model and the number of updates complete by then). ``intervals`` holds the time between two
    consecutive backward passes with no evaluation between them: one update each."""

    def __init__(self, budget):
        self.budget, self.start, self.paused, self.last = budget, None, 0.0, None
        self.model, self.done = None, 0
        self.intervals, self._after_pause = [], True

    def training_seconds(self):
        """Training time at the last backward pass."""
        return self.last - self.start - self.paused

    def on_backward(self, step, model):
        t = time.perf_counter()
        if self.start is None:
            self.start = t
        if not self._after_pause:
            self.intervals.append(t - self.last)
        self.last, self._after_pause = t, False
        if t - self.start - self.paused > self.budget:  # the reading the last point's time is taken from
            self.model, self.done = model, step  # `step` updates are complete
            raise _TimeUp

    def pause_since_last(self):
        """Count the time since the last backward pass (an evaluation) as paused."""
        self.paused += time.perf_counter() - self.last
        self._after_pause = True


@dataclass
class RaceRun:
    """One run of the race: curves sampled at the evaluations (the clock excludes evaluation)."""

    batch_size: int
    lr: float
    seed: int
    lr_source: str = "given"                         # "tuned", "η/B of B = 8", … (race_lrs)
    median_update_s: float = float("nan")            # median wall-clock seconds of one update
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
        return {"batch_size": self.batch_size, "lr": self.lr, "lr_source": self.lr_source, "seed": self.seed,
                "status": self.status,
                "median_update_s": round(self.median_update_s, 7) if math.isfinite(self.median_update_s)
                else None,
                "seconds": [round(v, 4) for v in self.seconds], "steps": list(self.steps),
                "epochs": [round(v, 5) for v in self.epochs],
                "train_loss": [round(v, 5) for v in self.train_loss],
                "test_acc": [round(v, 4) for v in self.test_acc]}


@validate_params(time_budget=Interval("real", 0.0, 600.0, closed="right"))
def race_one(data, batch_size, *, time_budget, seed=0, lr=None, lr_source=None, hidden=256, threads=None):
    """Train with batch size B for ``time_budget`` seconds of training and return a :class:`RaceRun`.

    η defaults to :func:`race_lrs` (tuned per B; ``lr_source`` says where a given η comes from).
    ``threads`` (torch intra-op threads) defaults to every core, like
    :func:`lecture_utils.timing.time_per_update`: the race is about what parallel hardware does with
    a bigger batch (training elsewhere uses one thread); the caller's thread count is restored after.
    The run is a :func:`~lecture_utils.train.train_classifier` run (same initial weights for a seed, a
    fresh shuffle every epoch, the arguments checked there), stopped when the clock
    (:class:`_RaceClock`) passes the budget; divergence (NaN loss) ends it with status ``"diverged"``.
    """
    import torch

    from .seeding import set_threads
    from .train import as_tensors, evaluate, train_classifier

    _x, _y, xt, yt = as_tensors(data)
    n = len(data.y_train)
    if lr is None:
        lr, lr_source = race_lrs([batch_size])[0]
    run = RaceRun(batch_size=batch_size, lr=float(lr), seed=seed, lr_source=lr_source or "given")
    clock = _RaceClock(time_budget)

    def on_eval(step, model, train_loss):
        # the evaluation train_classifier just made (and ours of the test set) is not training time
        seconds = clock.training_seconds()
        was = model.training
        _loss, acc = evaluate(model, xt, yt)
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
    if clock.intervals:
        run.median_update_s = float(np.median(clock.intervals))
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
        loss, _acc = evaluate(model, x, y)
        _loss, acc = evaluate(model, xt, yt)
        run.add(clock.training_seconds(), step, n, loss, acc)


def race(batch_sizes=RACE_BATCH_SIZES, *, time_budget=0.5, seeds=(0,), data=None, progress=True,
         threads=None):
    """Run :func:`race_one` for every (B, seed) at the η of :func:`race_lrs`; returns the list of
    :class:`RaceRun` (notebook 01 §5).

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
    lrs = dict(zip(sizes, race_lrs(sizes)))
    cells = [(b, s) for s in seeds for b in sizes]
    if progress:
        from tqdm.auto import tqdm
        cells = tqdm(cells, desc=_("race ({T:g} s per run)").format(T=time_budget))
    return [race_one(data, b, time_budget=time_budget, seed=s, lr=lrs[b][0], lr_source=lrs[b][1],
                     threads=threads) for b, s in cells]


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


@dataclass(frozen=True)
class SeedValues:
    """One statistic of one batch size over the seeds: ``values`` maps each seed that has a finite
    value to it (a seed that never reached a target has none); ``ci`` is their 95 % t-interval
    (:func:`lecture_utils.stats.mean_ci`; None when no seed has a value, ``half`` NaN for one)."""

    values: dict

    @classmethod
    def of(cls, seeds, values):
        return cls({int(s): float(v) for s, v in zip(seeds, values) if v is not None and np.isfinite(v)})

    @property
    def n(self):
        return len(self.values)

    @property
    def ci(self):
        return stats.mean_ci(list(self.values.values())) if self.values else None

    @property
    def mean(self):
        return self.ci.mean if self.values else float("nan")

    def text(self, spec=".3f"):
        """'0.512 ± 0.004' (mean ± 95 % t half-width), '0.512' for one seed, '–' for none."""
        if not self.values:
            return "–"
        ci = self.ci
        return f"{ci.mean:{spec}}" if ci.n < 2 else f"{ci.mean:{spec}} ± {ci.half:{spec}}"

    def as_dict(self):
        ci = self.ci
        return {"mean": ci.mean if ci else None, "half": ci.half if ci and ci.n > 1 else None,
                "n": self.n}


def curve_band(runs, axis, key, grid):
    """Mean and 95 % t-interval half-width (:func:`lecture_utils.stats.mean_ci`) across runs of ``key``
    (train_loss/test_acc) against ``axis`` on ``grid``; the half-width is NaN for one run.

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
    vals = np.array(vals).reshape(len(runs), len(grid))
    mean, half = np.full(len(grid), np.nan), np.full(len(grid), np.nan)
    for j in range(len(grid)):
        if runs and np.all(np.isfinite(vals[:, j])):
            ci = stats.mean_ci(vals[:, j])
            mean[j], half[j] = ci.mean, ci.half
    return mean, half


def summarize(runs, *, time_budget, targets=(0.5, 0.6)):
    """Per batch size, each statistic as :class:`SeedValues` (per seed, 95 % t-interval): end-of-budget
    training loss and test accuracy, best test accuracy, updates, epochs, mean seconds per update (the
    clock over the updates), median seconds of one update, and seconds to each target test accuracy
    (only the seeds that reached it; ``reached_<t>`` counts them). ``runs`` are dicts
    (:meth:`RaceRun.as_dict`)."""
    out = {}
    for b in sorted({r["batch_size"] for r in runs}):
        rs = sorted((r for r in runs if r["batch_size"] == b), key=lambda r: r["seed"])
        seeds = [r["seed"] for r in rs]

        def per_seed(fn, rs=rs, seeds=seeds):
            return SeedValues.of(seeds, [fn(r) if r["steps"] else None for r in rs])

        row = {"lr": rs[0]["lr"], "lr_source": rs[0].get("lr_source", "given"), "n_seeds": len(rs),
               "diverged": sum(r["status"] == "diverged" for r in rs)}
        for key in ("train_loss", "test_acc"):
            row[f"final_{key}"] = per_seed(lambda r, key=key: r[key][-1])
        row["best_test_acc"] = per_seed(lambda r: max(r["test_acc"]))
        row["updates"] = per_seed(lambda r: r["steps"][-1])
        row["epochs"] = per_seed(lambda r: r["epochs"][-1])
        row["seconds_per_update"] = per_seed(lambda r: r["seconds"][-1] / r["steps"][-1])
        row["median_update_s"] = per_seed(lambda r: r.get("median_update_s"))
        for t in targets:
            row[f"seconds_to_{t:g}"] = per_seed(lambda r, t=t: first_reach(r["seconds"], r["test_acc"], t))
            row[f"reached_{t:g}"] = row[f"seconds_to_{t:g}"].n
        out[b] = row
    return out


def loss_at_epochs(runs, epochs=1.0):
    """{B: :class:`SeedValues`} of the full training loss after ``epochs`` epochs (the last evaluation at
    or before it; a seed whose run ended earlier has no value). With η/B fixed, SGD makes about the same
    progress per epoch: per epoch it moves θ by ≈ η·(N/B)·∇L and its noise scale is ≈ ηN/B (Smith & Le
    2018), both fixed by η/B (notebook 01 §5)."""
    runs = [r.as_dict() if hasattr(r, "as_dict") else r for r in runs]
    out = {}
    for b in sorted({r["batch_size"] for r in runs}):
        rs = sorted((r for r in runs if r["batch_size"] == b), key=lambda r: r["seed"])
        out[b] = SeedValues.of([r["seed"] for r in rs],
                               [value_at(r["epochs"], r["train_loss"], epochs)
                                if r["epochs"] and r["epochs"][-1] >= epochs else None for r in rs])
    return out


def per_epoch_text(runs, epochs=1.0):
    """One line: the training loss after ``epochs`` epochs per B, with its η/B written as 1/(B/η)."""
    runs = [r.as_dict() if hasattr(r, "as_dict") else r for r in runs]
    lr = {r["batch_size"]: r["lr"] for r in runs}
    n = len({r["seed"] for r in runs})
    parts = []
    for b, v in loss_at_epochs(runs, epochs).items():
        some = "" if v.n == n else _(" ({got} of {n} seeds got that far)").format(got=v.n, n=n)
        parts.append(f"B = {b} (η/B = 1/{b / lr[b]:.0f}): {v.text('.2f')}{some}")
    return ngettext("training loss after {epochs:g} epoch (mean ± 95 % t-interval over {n} seeds): {parts}",
                    "training loss after {epochs:g} epochs (mean ± 95 % t-interval over {n} seeds): {parts}",
                    epochs).format(epochs=epochs, n=n, parts="; ".join(parts))


def machine_load():
    """(1-minute load average, number of CPUs); the load is NaN where the OS has none."""
    from .timing import load_average

    return load_average(), os.cpu_count() or 1


# ----------------------------------------------------------------------------- the lecture's table
def compare(a, b):
    """Compare two :class:`SeedValues` on the seeds they share: 'lower', 'higher' or
    'indistinguishable' for ``a`` against ``b`` — 'lower'/'higher' only when the paired 95 %
    t-interval of the per-seed differences aᵢ − bᵢ (:func:`lecture_utils.stats.paired_diff_ci`)
    excludes 0; 'not measured' with fewer than two shared seeds."""
    if a is None or b is None:
        return "not measured"
    shared = sorted(set(a.values) & set(b.values))
    if len(shared) < 2:
        return "not measured"
    ci = stats.paired_diff_ci([a.values[k] for k in shared], [b.values[k] for k in shared])
    if ci.low <= 0 <= ci.high:
        return "indistinguishable"
    return "lower" if ci.mean < 0 else "higher"


def parallel_limit(batch_sizes, per_update, factor=2.0):
    """The largest B whose time per update is still ≤ ``factor`` × that of the smallest B (where the
    hardware's parallelism runs out: beyond it, time per update grows with B)."""
    sizes = list(batch_sizes)
    t = np.asarray(per_update, float)
    ok = [b for b, v in zip(sizes, t) if v <= factor * t[0]]
    return max(ok) if ok else sizes[0]


def _at_epochs(runs, key, epochs):
    """:class:`SeedValues` of ``key`` at ``epochs`` epochs (last value recorded by then)."""
    return SeedValues.of([r["seed"] for r in runs], [value_at(r["epochs"], r[key], epochs) for r in runs])


@validate_params(small=COUNT, large=COUNT)
def lecture_table(timing_record, race_record, *, small=1, large=N_TRAIN):
    """The lecture's small-vs-large-batch table filled from our caches (notebook 01 §5).

    Returns a list of dicts with keys ``aspect``, ``lecture`` (what the lecture's table says, small
    vs large), ``measured`` (what our numbers say) and ``evidence`` (the numbers, with seeds and
    intervals). Wall-clock rows come from the ``timing`` sweep, the others from ``time_to_accuracy``.
    Every verdict is computed: a difference counts only when the paired 95 % t-interval of the per-seed
    differences excludes 0 (:func:`compare`).
    """
    tres, rres = timing_record["results"], race_record["results"]
    tres = {**tres, "repeats": timing_record["params"].get("repeats")}
    p = race_record["params"]
    runs = rres["runs"]
    by_b = {b: sorted((r for r in runs if r["batch_size"] == b), key=lambda r: r["seed"])
            for b in p["batch_sizes"]}
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
    rows.append({"aspect": _("time per update, no parallelism"), "lecture": _("small faster · large slower"),
                 "measured": _("small faster · large slower (B× the work)"),
                 "evidence": _("t(1) = {t1:.2f} ms; one example after another B = {large} would take "
                               "{large} × t(1) ≈ {total:.1f} s (computed from t(1), not measured)").format(
                     t1=t[small] * 1e3, large=large, total=large * t[small])})
    # 2. with parallelism
    limit = parallel_limit(sizes, tres["per_update_s"])
    ratio = t[large] / t[small]
    gpu = ""
    if "cuda" in tres:
        g = dict(zip(sizes, tres["cuda"]["per_update_s"]))
        glimit = parallel_limit(sizes, tres["cuda"]["per_update_s"])
        gpu = _("; GPU ({device}): ≤ 2 × t(1) up to B = {limit}, t({large}) = {ratio:.1f} × t(1)").format(
            device=tres["cuda"]["device"], limit=glimit, large=large, ratio=g[large] / g[small])
    same = _("about the same") if ratio <= 2 else _("same only up to B ≈ {limit}").format(limit=limit)
    machine = tres["machine"]
    source = _("cached timing sweep: {cpu}, {threads} threads, median of {repeats} updates per B; ").format(
        cpu=machine.get("cpu", "?"), threads=machine.get("threads", "?"), repeats=tres.get("repeats") or "?")
    rows.append({"aspect": _("time per update, with parallelism"),
                 "lecture": _("same · same (not too large)"),
                 "measured": _("{same}; large {ratio:.0f}× slower on the CPU of the cached sweep").format(
                     same=same, ratio=ratio),
                 "evidence": source + _("t(B) ≤ 2 × t(1) up to B = {limit}; t({large}) = {ratio:.0f} × t(1) "
                                        "instead of {large} × (so {examples:.0f} examples' worth of parallel "
                                        "work)").format(limit=limit, large=large, ratio=ratio,
                                                        examples=large / ratio)
                 + (gpu or _("; no GPU measured (the lecture's V100 stays flat to B ≈ 1000)"))})
    # 3. per epoch
    faster = _("small slower · large faster") if te[small] > te[large] else _("small faster · large slower")
    rows.append({"aspect": _("time per epoch"), "lecture": _("small slower · large faster"),
                 "measured": faster,
                 "evidence": _("B = {small}: {t_small:.3g} s, B = {large}: {t_large:.3g} s per epoch "
                               "({ratio:.0f}× apart)").format(
                     small=small, t_small=te[small], large=large, t_large=te[large],
                     ratio=te[small] / te[large])})
    return rows


def _gradient_row(noise, small, large):
    """Gradient noise at the initial weights: mean cos(g_𝓑, ∇L) per batch size."""
    cos = dict(zip(noise["batch_sizes"], noise["mean_cosine"]))
    return {"aspect": _("gradient"), "lecture": _("noisy · stable"),
            "measured": _("noisy · stable") if cos[small] < cos[large] else _("not as the lecture says"),
            "evidence": _("mean cos(g_𝓑, ∇L) at the initial weights: {values}").format(
                values=", ".join(f"B = {b}: {c:.2f}" for b, c in cos.items()))}


def _loss_row(by_b, summ, p, small, large):
    """Optimization: training loss per epoch (at the epochs every batch size made) and per second."""
    T = p["time_budget_s"]
    e_common = min(min(r["epochs"][-1] for r in rs) for rs in by_b.values())
    loss_t = {b: summ[b]["final_train_loss"] for b in by_b}
    if e_common >= 1:  # every batch size made at least one epoch: compare at the same number of epochs
        e = math.floor(e_common)
        loss_e = {b: _at_epochs(rs, "train_loss", e) for b, rs in by_b.items()}
        per_epoch = _("per epoch: {verdict}").format(verdict=_versus(loss_e, small, large))
        ev_epoch = ngettext("after {e} epoch: {values}; ", "after {e} epochs: {values}; ", e).format(
            e=e, values=", ".join(f"B = {b}: {v.text()}" for b, v in loss_e.items()))
    else:
        slow = min(by_b, key=lambda b: min(r["epochs"][-1] for r in by_b[b]))
        per_epoch = _("per epoch: not measured (B = {b} did not finish one epoch in {T:g} s)").format(
            b=slow, T=T)
        ev_epoch = ""
    return {"aspect": _("optimization (training loss)"), "lecture": _("small better · large worse"),
            "measured": _("{per_epoch}; per second: {best}; {versus}").format(
                per_epoch=per_epoch, best=_best(loss_t, "lowest"), versus=_versus(loss_t, small, large)),
            "evidence": ev_epoch + _("after {T:g} s: {values} (mean ± 95 % t-interval, {n} seeds)").format(
                T=T, values=", ".join(f"B = {b}: {v.text()}" for b, v in loss_t.items()), n=len(p["seeds"]))}


def _accuracy_row(by_b, summ, p, small, large):
    """Generalization: the best test accuracy within the time budget."""
    T = p["time_budget_s"]
    acc = {b: summ[b]["best_test_acc"] for b in by_b}
    return {"aspect": _("generalization (test accuracy)"), "lecture": _("small better · large worse"),
            "measured": _("in {T:g} s: {best}; {versus} (mixed with how far each got: notebook 03 compares "
                          "at equal training loss)").format(
                T=T, best=_best(acc, "highest"), versus=_versus(acc, small, large, higher_is_better=True)),
            "evidence": _("best test accuracy within {T:g} s: {values} (mean ± 95 % t-interval, {n} seeds)"
                          ).format(T=T, values=", ".join(f"B = {b}: {v.text()}" for b, v in acc.items()),
                                   n=len(p["seeds"]))}


def _best(values, which):
    """'lowest at B = 32 (B = 128 not distinguishable from it)': the best mean, and who cannot be told
    from it (:func:`compare`: the paired 95 % interval of the difference includes 0)."""
    key = (lambda b: values[b].mean) if which == "lowest" else (lambda b: -values[b].mean)
    ok = [b for b in values if values[b].n]
    if not ok:
        return _("not measured")
    best = min(ok, key=key)
    ties = [b for b in ok if b != best and compare(values[b], values[best]) == "indistinguishable"]
    head = (_("lowest at B = {b}") if which == "lowest" else _("highest at B = {b}")).format(b=best)
    return head + (_(" (B = {ties} not distinguishable from it)").format(ties=", ".join(map(str, ties)))
                   if ties else "")


def _versus(values, a, b, *, higher_is_better=False):
    """'B = a better than B = b' / 'worse' / 'B = a and B = b indistinguishable (paired 95 % interval
    of the difference includes 0)'."""
    w = _better_or_worse(compare(values[a], values[b]), higher_is_better)
    if w == "better":
        return _("B = {a} better than B = {b}").format(a=a, b=b)
    if w == "worse":
        return _("B = {a} worse than B = {b}").format(a=a, b=b)
    if w == "indistinguishable":
        return _("B = {a} and B = {b} indistinguishable (paired 95 % interval of the difference includes 0)"
                 ).format(a=a, b=b)
    return _("B = {a} vs B = {b} not measured").format(a=a, b=b)


def _better_or_worse(cmp, higher_is_better=False):
    """'better'/'worse'/'indistinguishable' from :func:`compare` (lower loss is better, higher accuracy)."""
    if cmp in ("indistinguishable", "not measured"):
        return cmp
    good = (cmp == "higher") if higher_is_better else (cmp == "lower")
    return "better" if good else "worse"


def clock_rows(timing_record, race_record):
    """The race's clock against the ``timing`` cache, per B that both measured (notebook 01 §5): dicts
    with batch_size, ``race_mean`` (the race's clock over its updates: the mean seconds per update),
    ``race_median`` (the median of one update in the same runs) and ``timing_median`` (the cached
    sweep's median), each race value a :class:`SeedValues` over the race's seeds."""
    t = dict(zip(timing_record["results"]["batch_sizes"], timing_record["results"]["per_update_s"]))
    p = race_record["params"]
    summ = summarize(race_record["results"]["runs"], time_budget=p["time_budget_s"], targets=p["targets"])
    return [{"batch_size": b, "race_mean": summ[b]["seconds_per_update"],
             "race_median": summ[b]["median_update_s"], "timing_median": t[b]}
            for b in summ if b in t]


def clock_table(timing_record, race_record):
    """:func:`clock_rows` as text (milliseconds per update; mean ± 95 % t-interval over the seeds)."""
    n = len(race_record["params"]["seeds"])
    lines = [_("ms per update (race: mean ± 95 % t-interval over {n} seeds)").format(n=n),
             " ".join(("    B", pad(_("race: clock / updates"), 22, right=True),
                       pad(_("race: median update"), 20, right=True),
                       pad(_("timing cache: median"), 21, right=True)))]
    for r in clock_rows(timing_record, race_record):
        mean = SeedValues({k: v * 1e3 for k, v in r["race_mean"].values.items()})
        med = SeedValues({k: v * 1e3 for k, v in r["race_median"].values.items()})
        lines.append(f"{r['batch_size']:>5} {mean.text('.2f'):>22} {med.text('.2f'):>20} "
                     f"{r['timing_median'] * 1e3:>21.2f}")
    return "\n".join(lines)


def table_markdown(rows):
    """The rows of :func:`lecture_table` as a Markdown table."""
    out = [_("| | lecture (small · large) | measured here | the numbers |"), "|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['aspect']} | {r['lecture']} | {r['measured']} | {r['evidence']} |")
    return "\n".join(out)


def race_verdict(record):
    """One sentence from the cached race (notebook 01 §5, core): which B reached the highest test accuracy
    within the time budget, with B = 1's and the full batch's beside it (mean ± 95 % t-interval over the
    seeds). ``record``: the ``time_to_accuracy`` cache."""
    p, runs = record["params"], record["results"]["runs"]
    summ = summarize(runs, time_budget=p["time_budget_s"], targets=p["targets"])
    best = max(summ, key=lambda b: summ[b]["best_test_acc"].mean)
    ends = [b for b in (min(summ), max(summ)) if b != best]
    others = "; ".join(f"B = {b}: {summ[b]['best_test_acc'].text('.3f')}" for b in ends)
    return _("Best test accuracy within {T:g} s: highest at B = {best} ({acc}); {others} (mean ± 95 % "
             "t-interval, {n} seeds; a wall-clock result of the machine named below).").format(
        T=p["time_budget_s"], best=best, acc=summ[best]["best_test_acc"].text(".3f"), others=others,
        n=len(p["seeds"]))


def machine_note(record):
    """Notebook 01 §5, under :func:`race_verdict`: the machine the cached race ran on (CPU, threads, load
    average before → after, the share of time the race's threads got), and a warning when it was busy
    (load above the CPU count, or the threads got under half of their time)."""
    m = record["results"]["machine"]
    lines = [_("(measured on {cpu}, {threads} threads, load average {before:.1f} → {after:.1f} on {cpus} "
               "CPUs; the race's threads got {share:.0%} of their time)").format(
        cpu=m["cpu"], threads=m["threads"], before=m["load_before"], after=m["load_after"], cpus=m["cpus"],
        share=m["cpu_share"])]
    if max(m["load_before"], m["load_after"]) > m["cpus"] or m["cpu_share"] < 0.5:
        lines.append(_("⚠ this cache was measured on a busy machine: its wall-clock numbers are distorted. "
                       "Rebuild it on a quiet machine with python -m lecture_utils.sweeps time_to_accuracy."))
    return "\n".join(lines)
