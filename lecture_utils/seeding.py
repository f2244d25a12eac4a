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

What is bit-identical where (issue 20, item 3; measured on an Intel Xeon with AVX-512, 2 cores):

* **One machine, one CPU code path: one answer.** ``make notebooks`` (nbclient), pytest's nbval and a
  plain script give the same bits. Notebook 01's B = 1 run, ``train_classifier(load_mnist1d(),
  batch_size=1, lr=0.1, seed=0, epochs=2)`` (8000 updates after ``seed_everything(0)``): 0.1803 / 0.1800
  train / test accuracy in a script, 0.18 / 0.18 printed under nbclient and under nbval; nbval passes
  every checked cell of notebook 01 against outputs stored by nbclient on the same machine. The two
  kernels' environments differ only in pytest's bookkeeping (``PYTEST_CURRENT_TEST``,
  ``PYTEST_VERSION``, ``PWD``), both run 1 intra-op / 2 inter-op threads, and the result did not move
  under any of: inputs stored 4, 12, 32 or 64 bytes off a 64-byte boundary (what MKL/oneDNN see), a
  2-thread matmul before :func:`seed_everything`, ``torch.set_flush_denormal(True)``, a fragmented heap,
  ``MKL_CBWR=AUTO`` or ``AVX512``, ``OMP_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``,
  ``OMP_WAIT_POLICY=ACTIVE``. (The report "nbval printed 0.22 / 0.21, nbclient 0.18 / 0.18 on one
  machine" read pytest's diff backwards: nbval asserts ``reference == test``, and pytest marks the
  right operand — this run, 0.18 — with ``-`` and the left — the output stored on an AMD EPYC,
  0.22 / 0.21 — with ``+``.) So nothing here needs fixing; the thread count above is what must be equal.
* **Another CPU code path: other last bits.** ``ATEN_CPU_CAPABILITY`` (torch's own kernels),
  ``MKL_ENABLE_INSTRUCTIONS`` and ``MKL_CBWR`` (MKL's) pick other summation orders, as another laptop
  does; a long noisy run amplifies them (the B = 1 run: 0.17-0.20 train accuracy across six paths here,
  0.22 on the AMD machine). ``ONEDNN_MAX_CPU_ISA=AVX2`` and ``ATEN_CPU_CAPABILITY=avx512`` changed
  nothing. Printed numbers and recompute tests therefore rely only on what no path moves
  (``scripts/portability_survey.py`` measures both).
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
