"""Wall-clock cost of one SGD update and of one epoch against the batch size (notebook 01).

time per epoch = time per update × ⌈N/B⌉. On parallel hardware the time per update stays
nearly flat while B is small (the cores are not yet busy), so bigger batches finish an epoch
sooner; once the hardware is full it grows ~linearly with B.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ._validate import check_choice, check_int
from .seeding import THREADS, set_threads


@dataclass
class Timing:
    batch_sizes: list
    per_update: np.ndarray      # median seconds per update
    per_epoch: np.ndarray       # per_update × ⌈N/B⌉
    n_examples: int
    device: str

    def rows(self):
        return [(int(b), float(u), float(e)) for b, u, e in zip(self.batch_sizes, self.per_update, self.per_epoch)]


def cuda_available():
    try:
        import torch
        return bool(torch.cuda.is_available())
    except Exception:  # pragma: no cover
        return False


def time_per_update(batch_sizes, *, data=None, device="cpu", repeats=15, warmup=3, threads=THREADS,
                    hidden=256, seed=0):
    """Median time of one SGD update (forward, backward, step) of the course MLP for each batch size.

    ``data`` defaults to MNIST-1D; ``device`` is ``"cpu"`` or ``"cuda"`` (CUDA is synchronised
    before every clock read). Returns a :class:`Timing`.
    """
    import torch
    import torch.nn.functional as F

    from .data import load_mnist1d
    from .train import as_tensors, make_mlp

    device = check_choice("device", device, ("cpu", "cuda"))
    if device == "cuda" and not cuda_available():
        raise ValueError("device must be 'cpu' here: no CUDA GPU is available")
    repeats = check_int("repeats", repeats, low=1, high=10_000)
    warmup = check_int("warmup", warmup, low=0, high=1000)
    data = load_mnist1d() if data is None else data
    x, y, _, _ = as_tensors(data)
    n = len(y)
    sizes = [check_int("batch_sizes[i]", b, low=1, high=n) for b in np.atleast_1d(batch_sizes).tolist()]
    if not sizes:
        raise ValueError("batch_sizes must hold at least one batch size in [1, n_examples]")
    set_threads(threads)
    x, y = x.to(device), y.to(device)
    model = make_mlp(seed, n_in=x.shape[1], hidden=hidden, n_out=int(y.max()) + 1).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    rng = np.random.default_rng(seed)
    medians = []
    for b in sizes:
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
    per_update = np.array(medians)
    per_epoch = per_update * np.array([-(-n // b) for b in sizes])
    return Timing(sizes, per_update, per_epoch, n, device)
