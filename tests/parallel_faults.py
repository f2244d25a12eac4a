"""Fault injection for tests/test_parallel.py, kept on the test side (the package has no test hook).

``failing_data(data, rank, step)`` returns the dataset wrapped so that, once a worker process of
``lecture_utils.parallel.data_parallel_train`` unpickles it from its configuration file, that
process arms a fault: the worker whose torch.distributed rank is ``rank`` raises RuntimeError
right after its ``step``-th optimizer step. Unpickling imports this module in the worker, so the
worker must find it: the test puts tests/ on ``PYTHONPATH`` (the workers inherit the environment).
Nothing happens in the test process itself, which only pickles the wrapper.
"""
from __future__ import annotations

from dataclasses import astuple

from lecture_utils.data import Dataset


class _FailingDataset(Dataset):
    """A :class:`Dataset` that arms the fault where it is unpickled (see :func:`failing_data`)."""

    def __reduce__(self):
        return _arm_fault_and_rebuild, (self.fault, astuple(self))


def failing_data(data, rank, step):
    wrapped = _FailingDataset(*astuple(data))
    object.__setattr__(wrapped, "fault", (rank, step))
    return wrapped


def _arm_fault_and_rebuild(fault, fields):
    """In a worker: make its SGD raise after ``step`` updates if its rank is ``rank``; return the data."""
    import torch
    import torch.distributed as dist

    rank, step = fault
    sgd_step = torch.optim.SGD.step
    done = [0]

    def step_then_fail(self, *args, **kwargs):
        out = sgd_step(self, *args, **kwargs)
        if dist.is_initialized() and dist.get_rank() == rank:
            done[0] += 1
            if done[0] >= step:
                raise RuntimeError(f"worker {rank} failed on purpose at step {done[0]} (test)")
        return out

    torch.optim.SGD.step = step_then_fail
    return Dataset(*fields)
