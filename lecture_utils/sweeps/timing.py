"""Measured time per update and per epoch against batch size, course MLP on MNIST-1D (notebook 01).

Wall-clock numbers of the machine that ran the sweep (recorded in ``results["machine"]``);
notebook 01 also measures them live. ``results`` keys: ``machine`` (cpu name, threads, device),
``batch_sizes``, ``per_update_s`` and ``per_epoch_s`` (medians, one per batch size), the load average
before/after and :func:`lecture_utils.timing.reliability`'s verdict in ``machine``, and, when
a CUDA GPU was present, ``cuda`` with the same keys.
"""
from __future__ import annotations

import platform

from ._schema import DATASET, check_fields

SCHEMA_VERSION = 1

PARAMS = {
    "dataset": dict(DATASET),
    "batch_sizes": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4000],
    "repeats": 25,
    "threads": 2,
}


def validate(results):
    """Check the results against schema :data:`SCHEMA_VERSION` (:class:`._schema.SchemaError`)."""
    check_fields(results, ("machine", "batch_sizes", "per_update_s", "per_epoch_s"), "results")
    check_fields(results["machine"], ("cpu", "threads"), "machine")
    return results


def _cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run(params, progress=True):
    from ..timing import cuda_available, reliability, time_per_update

    out = {"machine": {"cpu": _cpu_name(), "threads": params["threads"]},
           "batch_sizes": params["batch_sizes"]}
    t = time_per_update(params["batch_sizes"], repeats=params["repeats"], threads=params["threads"])
    rel = reliability(t)
    out["machine"].update(cpus=t.cpus, load_before=round(t.load[0], 2), load_after=round(t.load[1], 2),
                          reliable=rel.ok, reliability=rel.message())
    out["per_update_s"] = [float(v) for v in t.per_update]
    out["per_epoch_s"] = [float(v) for v in t.per_epoch]
    if cuda_available():
        import torch
        g = time_per_update(params["batch_sizes"], repeats=params["repeats"], device="cuda")
        out["cuda"] = {"device": torch.cuda.get_device_name(0),
                       "per_update_s": [float(v) for v in g.per_update],
                       "per_epoch_s": [float(v) for v in g.per_epoch]}
    return out
