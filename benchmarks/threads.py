"""Thread policy, measured (issue 13 §1): live training beside a CPU-bound process.

Each measurement is ``train_classifier`` on MNIST-1D, 600 updates, at B = 32 and B = 400, in a
fresh Python process (``OMP_WAIT_POLICY`` is read once, when the OpenMP runtime loads with torch,
so it has to be in the process's environment before torch is imported). Configurations:

    threads  wait policy          beside it
    2        (OpenMP default)     nothing            "idle"
    1        (OpenMP default)     nothing
    2        (OpenMP default)     one CPU-bound process (a Python busy loop)
    2        PASSIVE              the same
    1        (OpenMP default)     the same
    2        PASSIVE              nothing                    (only with --all)
    1        PASSIVE              one CPU-bound process      (only with --all)
    2        as lecture_utils sets it (imported before torch), one CPU-bound process (--all)

Configurations are interleaved (every round runs each once, in a shuffled order) and repeated;
the table shows the median seconds, the ratio to the same B's "1 thread, idle" and "2 threads,
idle" medians, and CPU seconds per wall second of the training process (≈ threads when OpenMP
threads spin while they wait, lower when they sleep: the check that PASSIVE took effect). It also
prints a hash of the final weights per thread count: the wait policy and the load must not
change a bit; the thread count may.

"idle" is only idle when nothing else runs: the script prints the load average before and after.

    python benchmarks/threads.py               # 5 rounds (~3 min on a quiet 2-core machine)
    python benchmarks/threads.py --rounds 3 --batch-sizes 32
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUSY = "while True: pass"

CONFIGS = [  # (label, threads, wait policy or None, load)
    ("2 threads, idle", 2, None, False),
    ("1 thread, idle", 1, None, False),
    ("2 threads, one busy process beside it", 2, None, True),
    ("2 threads, OMP_WAIT_POLICY=PASSIVE, same load", 2, "PASSIVE", True),
    ("1 thread, same load", 1, None, True),
]
EXTRA = [
    ("2 threads, OMP_WAIT_POLICY=PASSIVE, idle", 2, "PASSIVE", False),
    ("1 thread, OMP_WAIT_POLICY=PASSIVE, same load", 1, "PASSIVE", True),
    ("2 threads, lecture_utils imported first, same load", 2, "lecture_utils", True),
]


def worker(batch_size, threads, updates, torch_first):
    """Runs in the child: one warm-up, then one timed train_classifier; prints JSON.

    ``torch_first``: import torch before lecture_utils, so that lecture_utils' import-time default
    (OMP_WAIT_POLICY=PASSIVE unless set) cannot reach the OpenMP runtime: the raw OpenMP default."""
    import resource

    if torch_first:
        import torch  # noqa: F401
    import lecture_utils  # noqa: F401
    from lecture_utils.data import load_mnist1d
    from lecture_utils.train import flat_params, train_classifier

    data = load_mnist1d()
    train_classifier(data, batch_size=batch_size, lr=0.05, seed=0, max_steps=20, threads=threads)  # warm-up
    ru0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    r = train_classifier(data, batch_size=batch_size, lr=0.05, seed=0, max_steps=updates, threads=threads)
    wall = time.perf_counter() - t0
    ru1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    import torch

    print(json.dumps({"seconds": wall, "cpu_per_wall": cpu / wall, "steps": r.steps,
                      "torch_threads": torch.get_num_threads(),
                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                      "weights": hashlib.sha256(flat_params(r.model).tobytes()).hexdigest()[:12]}))


def run_one(batch_size, threads, policy, load, updates):
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("OMP_NUM_THREADS", None)
    if policy not in (None, "lecture_utils"):
        env["OMP_WAIT_POLICY"] = policy
    busy = subprocess.Popen([sys.executable, "-c", BUSY]) if load else None
    try:
        out = subprocess.run([sys.executable, __file__, "--worker", str(batch_size), str(threads),
                              str(updates),
                              str(int(policy is None))],
                             env=env, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    finally:
        if busy is not None:
            busy.kill()
            busy.wait()
    return json.loads(out.strip().splitlines()[-1])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 400])
    ap.add_argument("--updates", type=int, default=600)
    ap.add_argument("--all", action="store_true", help="also PASSIVE idle and 1 thread PASSIVE under load")
    ap.add_argument("--json", help="write the raw measurements here")
    ap.add_argument("--worker", nargs=4, type=int, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        worker(*a.worker)
        return 0
    configs = CONFIGS + (EXTRA if a.all else [])
    load_before = os.getloadavg()
    print(f"load average before: {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f} "
          f"({os.cpu_count()} cores)", file=sys.stderr, flush=True)
    rng = random.Random(0)
    res = {(b, c[0]): [] for b in a.batch_sizes for c in configs}
    for rnd in range(a.rounds):
        plan = [(b, c) for b in a.batch_sizes for c in configs]
        rng.shuffle(plan)
        for b, (label, threads, policy, load) in plan:
            m = run_one(b, threads, policy, load, a.updates)
            res[(b, label)].append(m)
            print(f"  round {rnd + 1}/{a.rounds} B={b:<4} {label:<48} {m['seconds']:.2f} s  "
                  f"cpu/wall {m['cpu_per_wall']:.2f}", file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    med = {k: statistics.median(m["seconds"] for m in v) for k, v in res.items()}
    lines = [f"train_classifier, MNIST-1D, {a.updates} updates; median of {a.rounds} interleaved rounds; "
             f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} ({os.cpu_count()} cores)",
             "",
             "| configuration | " + " | ".join(f"B = {b}: s | ×1-thread idle | ×2-thread idle | cpu/wall"
                                             for b in a.batch_sizes) + " |",
             "|---|" + "---:|---:|---:|---:|" * len(a.batch_sizes)]
    for label, *_ in configs:
        cells = []
        for b in a.batch_sizes:
            s = med[(b, label)]
            cpu = statistics.median(m["cpu_per_wall"] for m in res[(b, label)])
            cells.append(f"{s:.2f} | {s / med[(b, '1 thread, idle')]:.2f}× | "
                         f"{s / med[(b, '2 threads, idle')]:.2f}× "
                         f"| {cpu:.2f}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    for b in a.batch_sizes:
        for t in (1, 2):
            hashes = {m["weights"] for (bb, label), v in res.items() if bb == b
                      for m in v if m["torch_threads"] == t}
            lines.append(f"B = {b}, {t} thread(s): final weights {', '.join(sorted(hashes))} "
                         "(" + ("identical with and without load and wait policy" if len(hashes) == 1
                                else "DIFFER") + ")")
    print("\n".join(lines))
    if a.json:
        Path(a.json).write_text(json.dumps({f"{b}|{label}": v for (b, label), v in res.items()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
