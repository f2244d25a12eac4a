"""Reproducibility: one call seeds Python, numpy and torch and fixes torch's thread count.

torch's CPU kernels split work by thread count, and a different split sums in a different
order: the last bits of a result change with the number of threads. Every notebook therefore
calls :func:`seed_everything` with the same ``threads`` so that stored outputs match on any laptop.

Thread policy (issue 13 §1, measured by ``benchmarks/threads.py``): **one** intra-op thread. The
course's MLP (40-256-256-10) is too small for a second thread to pay: on a quiet 2-core machine
one thread trains within ~10 % of two (B = 32 and 400), while two OpenMP threads that spin-wait for
each other turn one busy neighbour process into a 6× slowdown (and a loaded machine into 10-25×);
one thread has nothing to wait for. One thread also gives the same bits on any number of cores.
Only notebook 01's timing demo uses every core, on purpose (:func:`lecture_utils.timing.time_per_update`).
"""
from __future__ import annotations

import random

import numpy as np

from ._validate import Interval, validate_params

#: Thread count used by every notebook and test (results are bit-identical only at equal counts).
THREADS = 1
#: torch's intra-op thread counts we accept, and the seeds ``random``/``numpy`` take.
THREAD_COUNT = Interval("int", 1, 256)
SEED32 = Interval("int", 0, 2**32 - 1)


@validate_params(seed=SEED32, threads=THREAD_COUNT)
def seed_everything(seed=0, *, threads=THREADS):
    """Seed ``random``, ``numpy.random`` and ``torch``; set ``torch.set_num_threads(threads)``.

    Returns a ``numpy.random.Generator`` seeded with ``seed`` for code that prefers a local generator.
    """
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    set_threads(threads)
    return np.random.default_rng(seed)


@validate_params(threads=THREAD_COUNT)
def set_threads(threads=THREADS):
    """Fix torch's intra-op thread count (interop threads can only be set once, before any work)."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads
