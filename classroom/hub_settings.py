"""Settings every classroom hub of this course shares (the real config and the test's config load them).

``apply(c)`` sets, on a JupyterHub config object ``c``:

- the copy-on-first-start hook (``course_copy.pre_spawn_hook``): each student gets their own notebooks;
- the idle culler (``jupyterhub-idle-culler``, a hub-managed service with just the scopes it needs):
  a server idle for ``cull_after_s`` is stopped, which frees its kernels' memory;
- kernels' environment: ``OMP_WAIT_POLICY=PASSIVE`` so that the threads of 30 kernels on a few cores
  sleep instead of spinning while they wait (results are bit-identical; see lecture_utils/seeding.py);
- generous start/HTTP time-outs: a class pressing "Start" at the same moment on a busy machine;
- kernels talk to their server over Unix sockets (``KernelManager.transport = "ipc"``), not TCP ports:
  with TCP, a server picks five free ports for a new kernel and the kernel binds them a moment later,
  and on one machine with a class of servers another process can take a port in between ("Address
  already in use"; the kernel dies five times and the notebook hangs; seen twice in ``make hub-test``
  with 8 students). The socket files live in the runtime folder, ``~/.local/share/jupyter/runtime``
  (``JUPYTER_RUNTIME_DIR``); a Unix socket's path must stay under 108 bytes, which ``/home/<user>`` does.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from course_copy import pre_spawn_hook  # noqa: E402

CULLER_SCOPES = ["list:users", "read:users:activity", "read:servers", "delete:servers"]
#: Arguments of every student's server: kernels over Unix sockets (see the module docstring).
SERVER_ARGS = ["--KernelManager.transport=ipc"]


def apply(c, *, cull_after_s=3600, cull_every_s=300, python=sys.executable):
    c.Spawner.pre_spawn_hook = pre_spawn_hook
    c.Spawner.default_url = "/lab/tree/batch-momentum/notebooks/00_overview.ipynb"
    c.Spawner.environment = {"OMP_WAIT_POLICY": "PASSIVE"}
    c.Spawner.args = list(SERVER_ARGS)
    c.Spawner.start_timeout = 300
    c.Spawner.http_timeout = 300
    c.JupyterHub.services = [
        {"name": "idle-culler",
         "command": [python, "-m", "jupyterhub_idle_culler", f"--timeout={int(cull_after_s)}",
                     f"--cull-every={int(cull_every_s)}"]},
    ]
    c.JupyterHub.load_roles = [{"name": "idle-culler", "scopes": CULLER_SCOPES, "services": ["idle-culler"]}]
    return c
