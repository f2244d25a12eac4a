"""``make portability``: the checked outputs and the recompute tests under two other CPU code paths.

A teacher's laptop is Intel, AMD or Apple; its CPU picks other vectorised kernels than the machine that
stored the outputs, and the last bits of a training run move. On one machine, environment variables pick
other code paths and stand in for another CPU (issue 20 §4):

* ``avx2``:   ``ATEN_CPU_CAPABILITY=avx2``    (torch's own kernels)  ``MKL_ENABLE_INSTRUCTIONS=AVX2``
* ``sse4_2``: ``ATEN_CPU_CAPABILITY=default`` (no vector kernels)    ``MKL_ENABLE_INSTRUCTIONS=SSE4_2``

Under each, strict ``pytest --nbval`` over ``notebooks/`` (the kernels inherit the variables) must match
the stored outputs, and the tests marked ``recompute`` (a cached sweep point recomputed now and compared
with the cache, with the tolerance its test justifies) must pass. So an output printed at a precision a
CPU can flip, or a recompute test that holds only on one code path, turns this stage red. The nbval
stage has already run every notebook on this machine's default path.

The two paths run at the same time, one process each (each runs its notebooks one after the other);
their logs are printed when both are done. On a CPU that is not x86-64 these x86 code paths do not
exist: the stage says so and passes nothing off as checked (exit 0, "SKIPPED").

Usage: python scripts/portability.py [PATH ...]   (default: both)
"""
from __future__ import annotations

import os
import platform
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
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--color=no"]
NBVAL = PYTEST + ["-p", "tests.process_guard", "--nbval", "--nbval-current-env", "--nbval-cell-timeout=300",
                  "notebooks"]
RECOMPUTE = PYTEST + ["-m", "recompute", "tests", "--ignore=tests/browser", "--ignore=tests/hub"]
CAPABILITY = "import torch; print(torch.backends.cpu.get_cpu_capability())"


def path_script(name):
    """The shell commands one code path runs: the probe, nbval, then the recompute tests."""
    q = lambda argv: " ".join(f"'{a}'" for a in argv)  # noqa: E731 (no quote in these arguments)
    return (f"echo \"torch capability: $({q([sys.executable, '-c', CAPABILITY])})\"; "
            f"echo '--- strict nbval, notebooks/'; {q(NBVAL)}; nb=$?; "
            f"echo '--- pytest -m recompute tests'; {q(RECOMPUTE)}; rc=$?; "
            # pytest's exit 5: no test carries the marker, i.e. nothing was checked: a failure here
            "[ $rc -eq 5 ] && echo 'no test is marked recompute: nothing was recomputed'; "
            "echo \"exit codes: nbval $nb, recompute $rc\"; [ $nb -eq 0 ] && [ $rc -eq 0 ]")


def _own_session():
    os.setsid()
    sys.path.insert(0, str(ROOT / "tests"))
    import process_guard

    process_guard.die_with_parent()


def main(argv=None):
    names = (argv if argv is not None else sys.argv[1:]) or list(PATHS)
    unknown = [n for n in names if n not in PATHS]
    if unknown:
        print(f"portability: unknown code path(s) {unknown}; choose from {list(PATHS)}")
        return 2
    if platform.machine().lower() not in ("x86_64", "amd64"):
        print(f"portability: SKIPPED — the x86 code paths {names} do not exist on {platform.machine()}")
        return 0
    logs = Path(tempfile.mkdtemp(prefix="portability-"))
    procs = {}
    t0 = time.monotonic()
    for name in names:
        env = dict(os.environ, **PATHS[name])
        env.pop("MPLBACKEND", None)
        log = open(logs / f"{name}.log", "w")
        # a session of its own (a Ctrl+C reaches it once, through forward()); killed if we are
        procs[name] = (subprocess.Popen(["bash", "-c", path_script(name)], cwd=ROOT, env=env, stdout=log,
                                        stderr=subprocess.STDOUT, preexec_fn=_own_session),
                       log, time.monotonic())

    def forward(sig, _frame):  # make passes SIGTERM on to us; our pytest runs stop their kernels
        for p, _, _ in procs.values():
            if p.poll() is None:
                p.send_signal(sig)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, forward)

    done, failed = {}, []
    while len(done) < len(procs):
        for name, (p, log, start) in procs.items():
            if name not in done and p.poll() is not None:
                done[name] = time.monotonic() - start
                log.close()
                verdict = "passed" if p.returncode == 0 else "FAILED"
                print(f"portability {name}: {verdict} in {done[name]:.0f} s", flush=True)
        time.sleep(0.2)
    for name, (p, _, _) in procs.items():
        env = " ".join(f"{k}={v}" for k, v in PATHS[name].items())
        print(f"\n===== portability {name}: {env} — {'passed' if p.returncode == 0 else 'FAILED'} =====")
        text = (logs / f"{name}.log").read_text(errors="replace")
        print(text if p.returncode else "\n".join(ln for ln in text.splitlines()
                                                  if ln.startswith(("torch capability", "---", "exit"))
                                                  or " passed" in ln or " failed" in ln))
        if p.returncode:
            failed.append(name)
    print(f"\nportability: {len(names) - len(failed)} of {len(names)} code paths passed "
          f"in {time.monotonic() - t0:.0f} s" + (f"; FAILED: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
