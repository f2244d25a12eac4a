"""``make portability``: the checked outputs and the recompute tests under two other CPU code paths.

A teacher's laptop is Intel, AMD or Apple; its CPU picks other vectorised kernels than the machine that
stored the outputs, and the last bits of a training run move. On one machine, environment variables pick
other code paths and stand in for another CPU (issue 20 §4):

* ``avx2``:   ``ATEN_CPU_CAPABILITY=avx2``    (torch's own kernels)  ``MKL_ENABLE_INSTRUCTIONS=AVX2``
* ``sse4_2``: ``ATEN_CPU_CAPABILITY=default`` (no vector kernels)    ``MKL_ENABLE_INSTRUCTIONS=SSE4_2``

Under each, strict ``pytest --nbval`` over ``notebooks/`` (the kernels inherit the variables) must match
the stored outputs, and the tests marked ``recompute`` (a cached sweep point recomputed now and compared
with the cache, with the tolerance its test justifies) must pass. So an output printed at a precision a
CPU can flip, or a recompute test that holds only on one code path, turns this stage red. (The nbval
stage has already run every notebook on this machine's default path.)

Four jobs (two paths × {nbval, recompute}), each a pytest process, run ``-j`` at a time (default: one per
CPU), longest first; each job's log is printed when all are done (a failed job's in full). On a CPU that
is not x86-64 these x86 code paths do not exist: the stage says so and passes nothing off as checked
(exit 0, "SKIPPED").

Usage: python scripts/portability.py [-j JOBS] [PATH ...]   (default: both paths)
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PATHS = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "sse4_2": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
}
#: relative cost, to start the longest job first (measured: notebooks ≈ 3-4× the recompute tests, and
#: the sse4_2 path ≈ 1.3× the avx2 one)
COST = {("sse4_2", "nbval"): 4.5, ("avx2", "nbval"): 3.5, ("sse4_2", "recompute"): 1.3,
        ("avx2", "recompute"): 1.0}
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--color=no"]
CAPABILITY = "import torch; print(torch.backends.cpu.get_cpu_capability())"


def recompute_files(root=ROOT):
    """Test files that mark a test ``recompute`` (collecting only these is much cheaper than all)."""
    return sorted(str(p.relative_to(root)) for p in (root / "tests").glob("test_*.py")
                  if "mark.recompute" in p.read_text(encoding="utf-8"))


def job_argv(kind, root=ROOT):
    if kind == "nbval":
        return PYTEST + ["-p", "tests.process_guard", "--nbval", "--nbval-current-env",
                         "--nbval-cell-timeout=300", "--ignore=notebooks/zh", "notebooks"]
    # notebooks/zh shares every code cell with the English notebooks: the English ones carry the CPU check
    return PYTEST + ["-m", "recompute", *recompute_files(root)]


def _own_session():
    os.setsid()   # a Ctrl+C reaches the job once, through forward(); killed if we are
    sys.path.insert(0, str(ROOT / "tests"))
    import process_guard

    process_guard.die_with_parent()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2, help="jobs at a time")
    ap.add_argument("paths", nargs="*", default=list(PATHS))
    args = ap.parse_args(argv)
    unknown = [n for n in args.paths if n not in PATHS]
    if unknown:
        print(f"portability: unknown code path(s) {unknown}; choose from {list(PATHS)}")
        return 2
    if platform.machine().lower() not in ("x86_64", "amd64"):
        print(f"portability: SKIPPED — the x86 code paths {args.paths} do not exist on {platform.machine()}")
        return 0
    if not recompute_files():
        print("portability: no test is marked recompute (pytest.mark.recompute): nothing would be recomputed")
        return 1
    logs = Path(tempfile.mkdtemp(prefix="portability-"))
    todo = sorted(((p, k) for p in args.paths for k in ("nbval", "recompute")), key=lambda j: -COST[j])
    running, done, stopped = {}, {}, []
    t0 = time.monotonic()

    def forward(sig, _frame):  # make passes SIGTERM on to us; our pytest runs stop their kernels
        stopped.append(sig)
        todo.clear()
        for p, _, _ in running.values():
            p.send_signal(sig)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)

    while todo or running:
        while todo and len(running) < max(1, args.jobs):
            job = todo.pop(0)
            path, kind = job
            env = dict(os.environ, **PATHS[path])
            env.pop("MPLBACKEND", None)
            log = open(logs / f"{path}.{kind}.log", "w")
            if kind == "nbval":  # the kernels see what this process sees
                cap = subprocess.run([sys.executable, "-c", CAPABILITY], env=env, capture_output=True,
                                     text=True).stdout.strip()
                log.write(f"torch capability under {path}: {cap}\n")
                log.flush()
            running[job] = (subprocess.Popen(job_argv(kind), cwd=ROOT, env=env, stdout=log,
                                             stderr=subprocess.STDOUT, preexec_fn=_own_session),
                            log, time.monotonic())
        time.sleep(0.2)
        for job, (p, log, start) in list(running.items()):
            if p.poll() is not None:
                log.close()
                done[job] = (p.returncode, time.monotonic() - start)
                del running[job]
                print(f"portability {job[0]} {job[1]}: {'passed' if p.returncode == 0 else 'FAILED'} "
                      f"in {done[job][1]:.0f} s", flush=True)
    if stopped:
        print(f"portability: stopped by signal {stopped[0]}")
        return 128 + stopped[0]
    failed = []
    for path in args.paths:
        env = " ".join(f"{k}={v}" for k, v in PATHS[path].items())
        ok = all(done[(path, k)][0] == 0 for k in ("nbval", "recompute"))
        print(f"\n===== portability {path}: {env} — {'passed' if ok else 'FAILED'} =====")
        for kind in ("nbval", "recompute"):
            rc = done[(path, kind)][0]
            text = (logs / f"{path}.{kind}.log").read_text(errors="replace")
            print(f"--- {kind}: {'strict nbval, notebooks/' if kind == 'nbval' else 'pytest -m recompute'} "
                  f"(exit {rc})")
            print(text.rstrip() if rc else "\n".join(ln for ln in text.splitlines()
                                                     if ln.startswith("torch capability")
                                                     or " passed" in ln or " failed" in ln))
        if not ok:
            failed.append(path)
    shutil.rmtree(logs, ignore_errors=True)
    print(f"\nportability: {len(args.paths) - len(failed)} of {len(args.paths)} code paths passed "
          f"in {time.monotonic() - t0:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
