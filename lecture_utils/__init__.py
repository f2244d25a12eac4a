"""lecture_utils — the code behind the course unit "Mini-batches and momentum".

Modules by concept (each docstring names the formula and the notebook that uses it):
data, landscapes, optim, quadratic, train, sharpness, noise, scaling, parallel, timing, sweeps,
plotting, widgets, panels (one module per notebook), checks.

Speed note (thread policy, see :mod:`lecture_utils.seeding` and ``benchmarks/threads.py``): training
uses one torch thread, which a busy neighbour process cannot stall. Where torch does use several
threads (notebook 01's timing demo), waiting OpenMP threads should sleep rather than spin, so
importing lecture_utils *before torch* sets ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already
sets it (the OpenMP runtime reads it once, when torch is imported; results are bit-identical).
"""
import os as _os
import sys as _sys

if "torch" not in _sys.modules:
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
