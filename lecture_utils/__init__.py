"""lecture_utils — the code behind the course unit "Mini-batches and momentum".

Modules by concept (each docstring names the formula and the notebook that uses it):

* numbers — data (MNIST-1D, toy regression, epochs and batches), toy_sgd, landscapes (toy losses),
  optim (the momentum rule), rolling (where the ball ends), quadratic, nqm (the noisy quadratic model),
  train (the training loop),
  seeding, timing, race, noise (gradient noise), scaling, tuning, sharpness, parallel (data parallel),
  small_vs_large, stats (the one 'mean ± 95 % t-interval' helper, paired differences, binomial s.e.);
* cached experiments — sweeps (one module per sweep, a typed record each);
* drawing — plotting, widgets (sliders from declared constraints, the Panel), panels (one module per
  notebook: numbers in, artists and a caption out);
* exercises — checks; parameter ranges — _validate (declared once: check, slider, tests).

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
