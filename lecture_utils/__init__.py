"""lecture_utils — the code behind the course unit "Mini-batches and momentum".

Modules by concept (each docstring names the formula and the notebook that uses it):
data, landscapes, optim, quadratic, train, sharpness, noise, scaling, parallel, timing, sweeps,
plotting, widgets, panels (one module per notebook), checks.
"""
import os as _os

# OpenMP threads that wait passively: on a busy laptop (or a shared 2-core machine) spinning threads
# made torch 10–40× slower. Results are bit-identical either way. Must be set before torch loads.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
