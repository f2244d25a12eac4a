"""lecture_utils — the code behind the course unit "Mini-batches and momentum".

Modules by concept (each docstring names the formula and the notebook that uses it):
data, landscapes, optim, quadratic, train, sharpness, noise, scaling, parallel, timing, sweeps,
plotting, widgets, panels (one module per notebook), checks.

Speed note: torch uses 2 threads (see :mod:`lecture_utils.seeding`). On a machine that is busy with
other heavy processes, spinning OpenMP threads can make training 10–40× slower; starting Jupyter
with ``OMP_WAIT_POLICY=PASSIVE`` avoids that (results are bit-identical), but on a quiet machine it
makes small updates ~2–4× slower, so it is not the default.
"""
__version__ = "0.1.0"
