"""lecture_utils — the code behind the course unit "Mini-batches and momentum".

Modules by concept (each docstring names the formula and the notebook that uses it):
data, landscapes, optim, train, sharpness, parallel, timing, sweeps, plotting, widgets, checks.
"""
__version__ = "0.1.0"
