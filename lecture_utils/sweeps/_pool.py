"""Run a sweep's independent tasks on ``workers`` processes of one torch thread each.

Every run of a sweep is single-threaded, so its numbers do not depend on how the tasks are
spread; ``workers`` = 2 uses the two cores of a laptop without thread contention. The environment
variable ``LECTURE_UTILS_WORKERS`` overrides it (a machine with more cores, or a shared one): the
results are the same, only the wall-clock time changes.
"""
from __future__ import annotations


def _call(fn, params, arg):
    from ..seeding import set_threads

    set_threads(params.get("threads", 1))
    return fn(params, arg)


def map_tasks(fn, params, args, *, desc, progress=True):
    """``{arg: fn(params, arg)}`` for every ``arg`` of ``args`` (hashable), on ``params["workers"]``
    spawned processes (``fn`` must be a module-level function)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    args = list(args)
    import os

    workers = max(1, int(os.environ.get("LECTURE_UTILS_WORKERS") or params.get("workers", 1)))
    if workers == 1:
        it = args
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(args, desc=desc)
        return {a: _call(fn, params, a) for a in it}
    done = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as ex:
        futures = {ex.submit(_call, fn, params, a): a for a in args}
        it = as_completed(futures)
        if progress:
            from tqdm.auto import tqdm
            it = tqdm(it, total=len(futures), desc=desc)
        for f in it:
            done[futures[f]] = f.result()
    return {a: done[a] for a in args}
