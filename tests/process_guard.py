"""Nothing a test run starts outlives it (issue 13 §2): servers, kernels, workers.

Loaded by ``tests/conftest.py`` and, for the nbval stage (which does not collect ``tests/``), by
``-p tests.process_guard`` in the Makefile. Three layers, for three ways a run ends:

1. **SIGTERM / SIGHUP** (a CI time-out, a closed terminal) are turned into ``KeyboardInterrupt``,
   as Ctrl+C already is: pytest then unwinds its fixtures, whose ``finally`` blocks stop the servers.
2. **Whatever is still running when pytest exits** (a kernel whose server died first, a process a
   fixture forgot) is found and ended at exit: pytest makes itself a *child subreaper*
   (Linux ``prctl(PR_SET_CHILD_SUBREAPER)``), so orphaned descendants are re-parented to it rather
   than to init and stay findable as its descendants; they get SIGTERM, then SIGKILL.
3. **pytest killed hard** (SIGKILL, no handler runs): servers are started with
   :func:`die_with_parent` as ``preexec_fn`` (``prctl(PR_SET_PDEATHSIG, SIGKILL)``), so the kernel
   kills them when pytest dies; their kernels (ipykernel) exit on their own once their parent
   changes (ipykernel's parent poller, ``JPY_PARENT_PID``).

Off Linux, layers 2-3 are skipped (the prctl calls do nothing) and layer 1 still applies.
"""
from __future__ import annotations

import atexit
import ctypes
import os
import signal
import sys
import time

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_installed = False


def _prctl(option, value):
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent():
    """``preexec_fn`` for a server we start: SIGKILL it when the process that started it dies."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def descendants(pid=None):
    """PIDs of every live descendant of ``pid`` (default: this process), from /proc (Linux)."""
    pid = os.getpid() if pid is None else pid
    children = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for e in entries:
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(e))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def end_descendants(grace=10.0):
    """SIGTERM every descendant, wait until they are gone (at most ``grace`` s), SIGKILL the rest."""
    left = descendants()
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in left:
            try:
                os.kill(p, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace
        while left and time.monotonic() < deadline:
            _reap()
            left = [p for p in left if _alive(p)]
            if left:
                time.sleep(0.05)
        if not left:
            return []
    return left


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().decode(errors="replace").rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def _reap():
    """Collect exited children (re-parented orphans too), so that they do not linger as zombies."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _terminate(signum, frame):  # noqa: ARG001
    signal.signal(signum, signal.SIG_IGN)  # a second SIGTERM must not interrupt the clean-up
    raise KeyboardInterrupt(f"stopped by signal {signal.Signals(signum).name}")


def install():
    """Idempotent: SIGTERM/SIGHUP → KeyboardInterrupt, subreaper, clean-up at exit (main process only)."""
    global _installed
    if _installed:
        return
    _installed = True
    for sig in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(sig) in (signal.SIG_DFL, None):
            try:
                signal.signal(sig, _terminate)
            except ValueError:  # not the main thread
                pass
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    me = os.getpid()
    atexit.register(lambda: os.getpid() == me and end_descendants())


def pytest_configure(config):  # as a plugin (-p tests.process_guard)
    install()


def pytest_unconfigure(config):
    # after every fixture's teardown: whatever is left was leaked or orphaned
    if end_descendants():
        print("process_guard: some child processes could not be ended", file=sys.stderr)
