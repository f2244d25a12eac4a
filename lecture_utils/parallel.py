"""Data parallel = large batch: the course MLP trained by several processes with torch.distributed.

``world_size`` worker processes on this machine (127.0.0.1, gloo backend) train one model
together. At every update the global batch 𝓑 of B = world_size × b examples (exactly the batch
``train_classifier`` would use: ``epoch_batches(N, B, seed=seed, epoch=e)``) is cut into
``world_size`` shards 𝓑_r; worker r computes the gradient of its shard's share of the loss,
g_r = ∇θ (1/|𝓑|)·Σ_{i∈𝓑_r} ℓᵢ(θ), and an all-reduce sums them, so that every worker holds

    g = Σ_r g_r = ∇θ (1/|𝓑|)·Σ_{i∈𝓑} ℓᵢ(θ)        (the large-batch gradient)

and takes the same SGD step θ ← θ − η·g. The result equals single-process training with batch
size B up to the order of floating-point sums: data parallelism *is* large-batch training.

Used by notebook 04 ("Having both"), section 5. Workers are fresh Python processes that import
this module (``python -c "from lecture_utils.parallel import _worker_main; ..."``), so it works
from Jupyter, scripts without a ``__main__`` guard and tests alike. Their output goes to a log file
that is quoted in the error when a worker fails, and every worker is stopped on error, timeout
or interrupt (and, on Linux, when the parent process dies).
"""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass, field

import numpy as np

from ._validate import BETA, COUNT, LR, NONNEGATIVE_INT, Interval, validate_params
from .i18n import _

HOST = "127.0.0.1"
PORT = Interval("int", 1, 65535, allow_none=True)   # None: pick a free one


class ParallelError(RuntimeError):
    """A data-parallel run failed (a worker raised or died, the port was taken, or it timed out)."""


@dataclass
class ParallelResult:
    """What :func:`data_parallel_train` returns."""

    model: object                 # the trained model (rank 0's copy; all ranks hold the same weights)
    seconds: float                # wall-clock time of the training loop (between two barriers)
    startup_seconds: float        # starting the processes and the process group
    world_size: int
    per_worker_batch: int
    global_batch: int
    steps: int
    status: str                   # "max_steps" (all ``steps`` updates made) or "diverged": train.STATUSES
    port: int
    params: dict = field(default_factory=dict)

    @property
    def examples_per_second(self):
        """Throughput of the training loop: steps × global batch / seconds."""
        return self.steps * self.global_batch / self.seconds if self.seconds > 0 else float("inf")


def free_port(host=HOST):
    """A TCP port on ``host`` that is free right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def port_is_free(port, host=HOST):
    """True if a server socket can bind ``host:port`` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@validate_params(world_size=Interval("int", 1, 16), per_worker_batch=COUNT, lr=LR, steps=COUNT,
                 seed=Interval("int", 0, 2**32 - 1), momentum=BETA, warmup_steps=NONNEGATIVE_INT,
                 threads_per_worker=Interval("int", 1, 256, allow_none=True), port=PORT,
                 timeout=Interval("real", 1.0, None))
def data_parallel_train(world_size, per_worker_batch, *, lr, steps, seed, data=None, momentum=0.0,
                        warmup_steps=0, threads_per_worker=None, port=None, timeout=120.0):
    """Train the course MLP with ``world_size`` processes, gradients averaged by all-reduce.

    Parameters
    ----------
    world_size : number of worker processes (1–16), each a torch.distributed rank (gloo).
    per_worker_batch : b, examples per worker per update; the global batch is B = world_size·b.
    lr, steps, seed, momentum, warmup_steps : as in :func:`lecture_utils.train.train_classifier`
        (η, number of updates, initial weights and batch order, β, linear warm-up).
    data : a :class:`lecture_utils.data.Dataset`; ``None`` means MNIST-1D (``load_mnist1d()``).
    threads_per_worker : torch threads per worker (default: 2 // world_size, at least 1).
    port : TCP port of the rendezvous on 127.0.0.1; ``None`` picks a free one.
    timeout : seconds before the whole run is stopped (and the process group's own timeout).

    Returns a :class:`ParallelResult` with the trained ``model`` and the loop's ``seconds``.
    Its weights equal ``train_classifier(data, batch_size=B, lr=lr, seed=seed, max_steps=steps)``
    up to float rounding. Raises :class:`ParallelError` with the worker's traceback and log when
    a worker fails or the port is taken; no worker process outlives the call.
    """
    from .seeding import THREADS

    b = per_worker_batch
    threads = threads_per_worker or max(1, THREADS // world_size)
    n = _training_set_size(data)
    if world_size * b > n:
        raise ValueError(_("per_worker_batch must be in [1, {most}] so that the global batch "
                           "world_size·per_worker_batch fits the {n} training examples; got {b}").format(
                             most=n // world_size, n=n, b=b))
    cfg = dict(world_size=world_size, batch=b, lr=lr, steps=steps, seed=seed, momentum=momentum,
               warmup_steps=warmup_steps, threads=threads, data=data, timeout=timeout)
    if port is not None:
        if not port_is_free(port):
            raise ParallelError(_("port {port} on {host} is already in use: pass port=None to pick a free "
                                  "port, or stop the program that holds it").format(port=port, host=HOST))
        return _run_workers(cfg, port, timeout)
    last = None
    for _attempt in range(3):  # a port chosen free may be taken by someone else before rank 0 binds it
        try:
            return _run_workers(cfg, free_port(), timeout)
        except _PortTaken as exc:
            last = exc
    raise ParallelError(str(last))


class _PortTaken(ParallelError):
    pass


def _training_set_size(data):
    """N, the training examples of ``data`` (a :class:`~lecture_utils.data.Dataset`; ``None``: MNIST-1D)."""
    from .data import N_TRAIN, Dataset

    if data is None:
        return N_TRAIN
    if not isinstance(data, Dataset):
        raise ValueError(_("data must be a lecture_utils.data.Dataset or None (MNIST-1D); "
                           "got {kind}").format(kind=type(data).__name__))
    return data.n_train


def _run_workers(cfg, port, timeout):
    import pickle
    import subprocess
    import sys

    import torch

    from .train import make_mlp

    tmp = tempfile.mkdtemp(prefix="lecture_ddp_")
    cfg = dict(cfg, port=port, dir=tmp)
    with open(os.path.join(tmp, "cfg.pkl"), "wb") as f:
        pickle.dump(cfg, f)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    procs = []
    t0 = time.perf_counter()
    try:
        for rank in range(cfg["world_size"]):
            log = open(os.path.join(tmp, f"worker{rank}.log"), "wb")
            code = f"from lecture_utils.parallel import _worker_main; _worker_main({rank}, {tmp!r})"
            procs.append(subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, env=env, cwd=tmp,
                                          preexec_fn=_die_with_parent))
            log.close()
        _wait_for_workers(procs, tmp, port, deadline=t0 + timeout, timeout=timeout)
        out = torch.load(os.path.join(tmp, "result.pt"), weights_only=False)
    finally:
        _stop_workers(procs)
        shutil.rmtree(tmp, ignore_errors=True)
    data = cfg["data"]
    n_in = 40 if data is None else data.x_train.shape[1]
    n_out = 10 if data is None else data.n_classes
    model = make_mlp(cfg["seed"], n_in=n_in, n_out=n_out)
    model.load_state_dict(out["state"])
    model.eval()
    params = {k: cfg[k] for k in ("lr", "steps", "seed", "momentum", "warmup_steps", "threads")}
    return ParallelResult(model=model, seconds=out["seconds"], startup_seconds=out["started"] - t0,
                          world_size=cfg["world_size"], per_worker_batch=cfg["batch"],
                          global_batch=cfg["world_size"] * cfg["batch"], steps=out["steps"],
                          status=out["status"], port=port, params=params)


def _wait_for_workers(procs, tmp, port, deadline, timeout):
    """Return when every worker exited with 0; raise :class:`ParallelError` (or :class:`_PortTaken`)
    quoting the first failed worker's traceback, or when ``deadline`` (perf_counter) passes."""
    while True:
        codes = [p.poll() for p in procs]
        failed = [r for r, c in enumerate(codes) if c not in (None, 0)]
        if failed:
            # the first worker to fail is the cause; the others then fail on the broken group
            first = min(failed, key=lambda k: _traceback_time(tmp, k))
            err = _traceback_text(tmp, first)
            if "EADDRINUSE" in err or "address already in use" in err.lower():
                raise _PortTaken(_("port {port} on {host} is already in use (worker {worker} could not "
                                   "listen on it); all workers were stopped").format(
                                     port=port, host=HOST, worker=first))
            raise ParallelError(_("worker {worker} of {n} failed (exit code {code}); "
                                  "all workers were stopped.").format(worker=first, n=len(procs),
                                                                      code=codes[first])
                                + f"\n{err.strip()}" + _log_tails(tmp))
        if all(c == 0 for c in codes):
            return
        if time.perf_counter() > deadline:
            raise ParallelError(_("data-parallel run timed out after {timeout:.0f} s; all workers were "
                                  "stopped.").format(timeout=timeout) + _log_tails(tmp))
        time.sleep(0.02)


def _die_with_parent():
    """In the child before exec: ask Linux to send SIGTERM when the parent dies (no orphans)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: the finally clause of _run_workers still stops the workers
        pass


def _stop_workers(processes):
    """Terminate (then kill) every worker still running and reap it."""
    for p in processes:
        if p.poll() is None:
            p.terminate()
    for p in processes:
        try:
            p.wait(5)
        except Exception:
            p.kill()
            p.wait(5)


def _traceback_time(folder, rank):
    path = os.path.join(folder, f"error{rank}.txt")
    return os.path.getmtime(path) if os.path.exists(path) else float("inf")


def _traceback_text(folder, rank):
    path = os.path.join(folder, f"error{rank}.txt")
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            return f.read()
    return _("(no traceback: the process was killed or crashed)")


def _log_tails(folder, lines=15):
    out = []
    for name in sorted(os.listdir(folder)):
        if name.endswith(".log"):
            with open(os.path.join(folder, name), errors="replace") as f:
                text = f.read().strip().splitlines()[-lines:]
            if text:
                out.append(_("--- {name} (last lines) ---").format(name=name) + "\n" + "\n".join(text))
    return ("\n" + "\n".join(out)) if out else ""


def _worker_main(rank, folder):
    """Entry point of a worker process: run :func:`_worker`, write a traceback file on failure."""
    import pickle
    import sys
    import traceback

    with open(os.path.join(folder, "cfg.pkl"), "rb") as f:
        cfg = pickle.load(f)
    code = 0
    try:
        _worker(rank, cfg)
    except BaseException:
        with open(os.path.join(folder, f"error{rank}.txt"), "w") as f:
            f.write(traceback.format_exc())
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # os._exit skips interpreter teardown: C++ threads of the process group torn down during
    # static destruction can otherwise abort ("terminate called without an active exception")
    os._exit(code)


def _worker(rank, cfg):
    """One rank: join the group, train on its shard of every global batch, all-reduce gradients."""
    import datetime

    import torch
    import torch.distributed as dist

    from .data import load_mnist1d
    from .seeding import set_threads
    from .train import as_tensors, make_mlp

    set_threads(cfg["threads"])
    dist.init_process_group("gloo", init_method=f"tcp://{HOST}:{cfg['port']}", rank=rank,
                            world_size=cfg["world_size"], timeout=datetime.timedelta(seconds=cfg["timeout"]))
    try:
        data = load_mnist1d() if cfg["data"] is None else cfg["data"]
        x, y, _, _ = as_tensors(data)
        model = make_mlp(cfg["seed"], n_in=x.shape[1], n_out=data.n_classes)
        opt = torch.optim.SGD(list(model.parameters()), lr=cfg["lr"], momentum=cfg["momentum"])
        dist.barrier()
        t0 = time.perf_counter()
        step, status = _train_shards(rank, cfg, model, opt, x, y)
        dist.barrier()
        seconds = time.perf_counter() - t0
        if rank == 0:
            # perf_counter is CLOCK_MONOTONIC on Linux (system-wide): the parent turns "started" into
            # startup time
            torch.save({"state": model.state_dict(), "seconds": seconds, "steps": step, "status": status,
                        "started": t0}, os.path.join(cfg["dir"], "result.tmp"))
            os.replace(os.path.join(cfg["dir"], "result.tmp"), os.path.join(cfg["dir"], "result.pt"))
    finally:
        dist.destroy_process_group()


def _train_shards(rank, cfg, model, opt, x, y):
    """The training loop of one rank: ``cfg["steps"]`` updates on the global batches of
    ``epoch_batches(N, B, seed, epoch)``, this rank's shard of each; returns ``(steps, status)``."""
    from .data import epoch_batches
    from .train import lr_at_step

    world = cfg["world_size"]
    params = list(model.parameters())
    step, ep = 0, 0
    while step < cfg["steps"]:
        for idx in epoch_batches(len(y), world * cfg["batch"], seed=cfg["seed"], epoch=ep):
            for group in opt.param_groups:
                group["lr"] = lr_at_step(step, cfg["lr"], cfg["warmup_steps"])
            if not _all_reduce_gradient(params, np.array_split(idx, world)[rank], len(idx), model, x, y):
                return step, "diverged"
            opt.step()
            step += 1
            if step >= cfg["steps"]:
                break
        ep += 1
    return step, "max_steps"


def _all_reduce_gradient(params, shard, batch, model, x, y):
    """g = Σ_r g_r: this rank's gradient of its shard's share of the batch loss, summed over all ranks
    into every ``p.grad``. False (and the gradients left unset) when g is not finite (divergence)."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F

    shard = torch.from_numpy(shard)
    for p in params:
        if p.grad is not None:
            p.grad.zero_()
    if len(shard):
        loss = F.cross_entropy(model(x[shard]), y[shard], reduction="sum") / batch
        loss.backward()
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
    flat = torch.cat([p.grad.reshape(-1) for p in params])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    if not torch.isfinite(flat).all():
        return False
    i = 0
    for p in params:
        p.grad.copy_(flat[i:i + p.numel()].view_as(p))
        i += p.numel()
    return True
