"""Wall-clock cost of one SGD update and of one epoch against the batch size (notebook 01).

time per epoch = time per update × ⌈N/B⌉. On parallel hardware the time per update stays
nearly flat while B is small (the cores are not yet busy), so bigger batches finish an epoch
sooner; once the hardware is full it grows ~linearly with B.

A clock on a busy machine lies: :func:`reliability` says when repeats of one measurement
disagree, when a larger batch measured faster per update than a smaller one, when the machine's
load average exceeds its cores, or when the curve's shape differs from the cached sweep's, so that
the notebook does not draw conclusions from it (and says which measurement a conclusion rests on).

t(B) is the *median* of the repeats: a clock over many updates (the race of notebook 01 §5) is a
*mean*, which also counts the occasional slow update.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import numpy as np

from ._validate import Interval, Options, check_int, validate_params
from .data import updates_per_epoch
from .i18n import _
from .seeding import THREADS, set_threads


@dataclass
class Timing:
    """What :func:`time_per_update` measured, one entry per batch size (seconds)."""

    batch_sizes: list
    per_update: np.ndarray      # median seconds per update
    per_epoch: np.ndarray       # per_update × ⌈N/B⌉
    n_examples: int
    device: str
    repeats: list = field(default_factory=list)   # every repeat's seconds, one array per batch size
    load: tuple = ()                              # 1-minute load average before and after (nan if unknown)
    cpus: int = 1                                 # os.cpu_count()

    def rows(self):
        return [(int(b), float(u), float(e))
                for b, u, e in zip(self.batch_sizes, self.per_update, self.per_epoch)]


def pad(text, width, *, right=False):
    """``text`` padded with spaces to ``width`` columns, a Chinese character counting two (as a monospace
    font shows it), so that Chinese table headers line up; for ASCII text ``str.ljust``/``str.rjust``."""
    from .i18n import display_width

    text = str(text)
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def cuda_available():
    try:
        import torch
        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover
        return False


@validate_params(device=Options(("cpu", "cuda")), repeats=Interval("int", 1, 10_000),
                 warmup=Interval("int", 0, 1000))
def time_per_update(batch_sizes, *, data=None, device="cpu", repeats=15, warmup=3, threads=None,
                    hidden=256, seed=0, progress=None):
    """Median time of one SGD update (forward, backward, step) of the course MLP for each batch size.

    ``data`` defaults to MNIST-1D; ``device`` is ``"cpu"`` or ``"cuda"`` (CUDA is synchronised
    before every clock read). ``threads`` defaults to every core (``os.cpu_count()``): this demo
    shows what parallel hardware does with a bigger batch, so it uses all of it on purpose, unlike
    training (one thread, :mod:`lecture_utils.seeding`); the caller's thread count is restored after.
    ``progress``: ``None``, or a wrapper of the list of batch sizes that shows progress (``tqdm``).
    Returns a :class:`Timing`.
    """
    import torch

    from .data import load_mnist1d
    from .train import as_tensors

    if device == "cuda" and not cuda_available():
        raise ValueError("device must be 'cpu' here: no CUDA GPU is available")
    data = load_mnist1d() if data is None else data
    x, y, _xt, _yt = as_tensors(data)
    n = len(y)
    sizes = [check_int("batch_sizes[i]", b, low=1, high=n) for b in np.atleast_1d(batch_sizes).tolist()]
    if not sizes:
        raise ValueError("batch_sizes must hold at least one batch size in [1, n_examples]")
    threads = (os.cpu_count() or THREADS) if threads is None else threads
    before = torch.get_num_threads()
    set_threads(threads)
    try:
        return _time_per_update(x, y, n, sizes, device, repeats, warmup, hidden, seed, progress)
    finally:
        set_threads(before)


def _time_per_update(x, y, n, sizes, device, repeats, warmup, hidden, seed, progress=None):
    import torch
    import torch.nn.functional as F

    from .train import make_mlp

    x, y = x.to(device), y.to(device)
    model = make_mlp(seed, n_in=x.shape[1], hidden=hidden, n_out=int(y.max()) + 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    rng = np.random.default_rng(seed)
    load_before = load_average()
    medians, raw = [], []
    for b in (sizes if progress is None else progress(sizes)):
        times = []
        for r in range(warmup + repeats):
            idx = torch.from_numpy(rng.choice(n, size=b, replace=False)).to(device)
            sync()
            t0 = time.perf_counter()
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sync()
            if r >= warmup:
                times.append(time.perf_counter() - t0)
        medians.append(float(np.median(times)))
        raw.append(np.array(times))
    per_update = np.array(medians)
    per_epoch = per_update * np.array([updates_per_epoch(n, b) for b in sizes])
    return Timing(sizes, per_update, per_epoch, n, device, repeats=raw, load=(load_before, load_average()),
                  cpus=os.cpu_count() or 1)


def load_average():
    """The 1-minute load average (runnable processes, averaged), or NaN where the OS has none."""
    try:
        return float(os.getloadavg()[0])
    except (AttributeError, OSError):  # pragma: no cover - Windows
        return float("nan")


@dataclass
class Reliability:
    """What :func:`reliability` found: ``ok`` and one sentence per problem in ``reasons``."""

    ok: bool
    reasons: list
    spread: list          # (q75 − q25)/median of the repeats, one per batch size
    load_per_cpu: float   # the larger load average (before/after) divided by the CPU count
    versus_cache: dict = field(default_factory=dict)  # B → live t(B) / cached t(B) (with a reference)

    def message(self):
        if self.ok:
            vs = ""
            if self.versus_cache:
                r = list(self.versus_cache.values())
                vs = _(", {low:.2g}–{high:.2g}× the cached sweep's time per update at every B").format(
                    low=min(r), high=max(r))
            return _("measurement looks reliable: repeats agree (largest relative spread "
                     "{spread:.0%}), load {load:.2f} per CPU{vs}").format(
                spread=max(self.spread, default=0), load=self.load_per_cpu, vs=vs)
        return _("⚠ unreliable measurement — {reasons}. Do not draw conclusions from these times.").format(
            reasons=_("; ").join(self.reasons))


@validate_params(max_spread=Interval("real", 0.0, None, closed="neither"),
                 max_load_per_cpu=Interval("real", 0.0, None, closed="neither"),
                 monotone_tolerance=Interval("real", 0.0, 1.0, closed="left"),
                 max_shape_ratio=Interval("real", 1.0, None, closed="neither"))
def reliability(timing, *, reference=None, max_spread=0.5, max_load_per_cpu=1.0, monotone_tolerance=0.25,
                max_shape_ratio=3.0):
    """Is a :class:`Timing` trustworthy? (notebook 01 §3, after the measurement)

    Unreliable when any of:
      * the repeats of one batch size disagree: (q75 − q25)/median > ``max_spread``;
      * a larger batch measured faster per update than a smaller one, t(B') < (1 − tol)·t(B) for
        B' > B (the larger batch does strictly more work, so the clock was disturbed);
      * the machine was busy: the 1-minute load average (before or after) exceeds
        ``max_load_per_cpu`` × the number of CPUs (more runnable processes than cores);
      * with ``reference`` (a cached ``timing`` sweep record, CPU): the ratio r(B) = live t(B) / cached
        t(B) varies over the common batch sizes by more than ``max_shape_ratio``, max r / min r > 3.
        Another steady machine scales every B by a similar factor (only where its parallelism runs
        out may the factor drift); a factor that jumps between batch sizes means another curve
        shape: a disturbed clock, or hardware unlike the cache's — either way the notebook's
        conclusion then rests on the cached sweep, and says so.
    """
    if not isinstance(timing, Timing):
        raise ValueError(f"timing must be a Timing (from time_per_update); got {type(timing).__name__}")
    reasons, spread = [], []
    for _b, times in zip(timing.batch_sizes, timing.repeats):
        t = np.asarray(times, float)
        q25, med, q75 = np.percentile(t, [25, 50, 75]) if t.size else (np.nan, np.nan, np.nan)
        spread.append(float((q75 - q25) / med) if med > 0 else float("inf"))
    bad = [b for b, s in zip(timing.batch_sizes, spread) if not s <= max_spread]
    if bad:
        reasons.append(_("repeats disagree by more than {spread:.0%} of the median at B = {sizes}").format(
            spread=max_spread, sizes=", ".join(map(str, bad))))
    order = np.argsort(timing.batch_sizes)
    sizes = np.asarray(timing.batch_sizes)[order]
    per = np.asarray(timing.per_update, float)[order]
    inverted = [(int(sizes[i]), int(sizes[j])) for i in range(len(sizes)) for j in range(i + 1, len(sizes))
                if sizes[j] > sizes[i] and per[j] < (1 - monotone_tolerance) * per[i]]
    if inverted:
        a, b = inverted[0]
        reasons.append(_("B = {b} measured faster per update than B = {a} (it does {ratio:.3g}× the work)")
                       .format(b=b, a=a, ratio=b / a))
    loads = [v for v in timing.load if np.isfinite(v)]
    load_per_cpu = max(loads) / max(timing.cpus, 1) if loads else float("nan")
    if loads and load_per_cpu > max_load_per_cpu:
        reasons.append(_("the machine is busy: load average {load:.1f} on {cpus} CPUs").format(
            load=max(loads), cpus=timing.cpus))
    versus = _versus_cache(timing, reference)
    if len(versus) >= 2:
        lo, hi = min(versus, key=versus.get), max(versus, key=versus.get)
        if versus[hi] / versus[lo] > max_shape_ratio:
            cpu = reference["results"].get("machine", {}).get("cpu", "?")
            reasons.append(_("the curve's shape differs from the cached sweep's ({cpu}): live/cached time "
                             "per update {low:.1f}× at B = {b_low} but {high:.1f}× at B = {b_high}").format(
                cpu=cpu, low=versus[lo], b_low=lo, high=versus[hi], b_high=hi))
    return Reliability(ok=not reasons, reasons=reasons, spread=spread, load_per_cpu=float(load_per_cpu),
                       versus_cache=versus)


def _versus_cache(timing, reference):
    """{B: live t(B) / cached t(B)} over the batch sizes both measured ({} without a CPU reference)."""
    if reference is None or timing.device != "cpu":
        return {}
    try:
        cached = dict(zip(reference["results"]["batch_sizes"], reference["results"]["per_update_s"]))
    except (KeyError, TypeError):
        raise ValueError("reference must be a cached timing sweep record: sweeps.load('timing')") from None
    return {int(b): float(t / cached[b]) for b, t in zip(timing.batch_sizes, timing.per_update)
            if b in cached and cached[b] > 0}


#: The batch sizes of the live measurement in notebook 01 §3 (button "Measure on this machine").
LIVE_BATCH_SIZES = (1, 4, 16, 64, 256, 1024, 4000)


def cached_per_update(cached, batch_size):
    """Seconds per update at ``batch_size`` in the cached ``timing`` sweep (notebook 01, exercise 3)."""
    res = cached["results"]
    return res["per_update_s"][res["batch_sizes"].index(batch_size)]


def per_update_line(name, seconds):
    """``name = … ms per update`` for a time per update in seconds (notebook 01, exercise 3)."""
    return _("{name} = {ms:.3f} ms per update").format(name=name, ms=seconds * 1e3)


def cached_summary(cached):
    """One sentence from the cached ``timing`` sweep: how much more one update at the largest B costs than
    at B = 1, and how much faster its epoch is (notebook 01 §3; no clock is read)."""
    res = cached["results"]
    m = res.get("machine", {})
    up, ep = res["per_update_s"], res["per_epoch_s"]
    return _("cached sweep ({cpu}, {threads} threads, median of {repeats} updates per B): B = {large} costs "
             "{ratio:.0f}× the time of B = {small} per update, but its epoch is {speedup:.0f}× faster."
             ).format(
        cpu=m.get("cpu", "?"), threads=m.get("threads", "?"), repeats=cached["params"]["repeats"],
        large=res["batch_sizes"][-1], ratio=up[-1] / up[0], small=res["batch_sizes"][0],
        speedup=ep[0] / ep[-1])


def live_report(timing, cached=None):
    """The text of a live measurement (notebook 01 §3, behind its button): the table of t(B) and the time
    per epoch, the :func:`reliability` verdict, and a conclusion that says which measurement it rests on
    (this one when reliable, else ``cached``, a ``timing`` sweep record). Returns a list of lines."""
    reps = len(timing.repeats[0]) if timing.repeats else "?"
    lines = [_("{b:>5} {update} {epoch}   (median of {reps} updates)").format(
        b="B", update=pad(_("ms per update"), 14, right=True), epoch=pad(_("s per epoch"), 12, right=True),
        reps=reps)]
    lines += [f"{b:>5} {u * 1e3:>14.2f} {e:>12.3f}" for b, u, e in timing.rows()]
    check = reliability(timing, reference=cached)
    lines.append(check.message())
    if check.ok:
        ratio = timing.per_update[-1] / timing.per_update[0]
        lines.append(_("From this live measurement: B = {large} costs {ratio:.0f}× the time of B = {small} "
                       "per update, but an epoch is {speedup:.0f}× faster.").format(
            large=timing.batch_sizes[-1], ratio=ratio, small=timing.batch_sizes[0],
            speedup=timing.per_epoch[0] / timing.per_epoch[-1]))
    elif cached is not None:
        lines.append(_("From the {summary}").format(summary=cached_summary(cached)))
    return lines


def cached_report(cached, batch_sizes=LIVE_BATCH_SIZES):
    """The cached ``timing`` sweep as notebook 01 §3 prints it (no clock is read): t(B) and the time per
    epoch for the cached batch sizes among ``batch_sizes``, then :func:`cached_summary`. A list of lines."""
    res = cached["results"]
    rows = [(b, u, e) for b, u, e in zip(res["batch_sizes"], res["per_update_s"], res["per_epoch_s"])
            if b in batch_sizes]
    lines = [" ".join(("    B", pad(_("ms per update"), 14, right=True),
                       pad(_("s per epoch"), 12, right=True)))]
    lines += [f"{b:>5} {u * 1e3:>14.2f} {e:>12.3f}" for b, u, e in rows]
    return lines + [_("From the {summary}").format(summary=cached_summary(cached))]
