"""Run a sweep's independent tasks on ``workers`` processes of one torch thread each.

Every run of a sweep is single-threaded, so its numbers do not depend on how the tasks are
spread; ``workers`` = 2 uses the two cores of a laptop without thread contention. The environment
variable ``LECTURE_UTILS_WORKERS`` overrides it (a machine with more cores, or a shared one): the
results are the same, only the wall-clock time changes.

The process CPU seconds of the tasks run in worker processes are summed (:func:`cpu_seconds`):
with the main process's own, that is the sweep's work (``cpu_seconds`` of its cache), which
estimates its wall-clock time on an idle 2-core laptop as about work / 2 — a figure that a busy
machine does not distort the way it distorts wall-clock time.
"""
from __future__ import annotations

import os
import time

_CPU = [0.0]


def reset_cpu_seconds():
    _CPU[0] = 0.0


def cpu_seconds():
    """Process CPU seconds of the tasks run in worker processes since :func:`reset_cpu_seconds`."""
    return _CPU[0]


def _call(fn, params, arg):
    from ..seeding import set_threads

    set_threads(params.get("threads", 1))
    return fn(params, arg)


def _timed_call(fn, params, arg):
    c0 = time.process_time()
    out = _call(fn, params, arg)
    return out, time.process_time() - c0


def workers(params):
    """``$LECTURE_UTILS_WORKERS`` or ``params["workers"]`` (default 1)."""
    return max(1, int(os.environ.get("LECTURE_UTILS_WORKERS") or params.get("workers", 1)))


def _bar(it, progress, desc, total):
    if not progress:
        return it
    from tqdm.auto import tqdm
    return tqdm(it, total=total, desc=desc)


def map_tasks(fn, params, args, *, desc, progress=True):
    """``{arg: fn(params, arg)}`` for every ``arg`` of ``args`` (hashable, in this order of submission),
    on :func:`workers` spawned processes (``fn`` must be a module-level function)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    args = list(args)
    n = workers(params)
    if n == 1:
        return {a: _call(fn, params, a) for a in _bar(args, progress, desc, len(args))}
    done = {}
    with ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as ex:
        futures = {ex.submit(_timed_call, fn, params, a): a for a in args}
        for f in _bar(as_completed(futures), progress, desc, len(futures)):
            done[futures[f]], cpu = f.result()
            _CPU[0] += cpu
    return {a: done[a] for a in args}
