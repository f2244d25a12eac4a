"""Copy-on-first-start: each student gets their own copy of the course notebooks.

Used as JupyterHub's ``Spawner.pre_spawn_hook`` (``classroom/jupyterhub_config.py``; the classroom test
``tests/hub`` uses the same hook). Before a student's server starts, ``notebooks/`` of the course is
copied into ``<home>/batch-momentum/`` unless that folder already exists: a student's edits are never
overwritten, and a student who wants a fresh copy renames theirs and restarts the server (Hub Control
Panel → Stop My Server → Start). The course's code (``lecture_utils``) and its caches (``data/``) stay in
the shared, read-only install; caches a student's kernel builds go to the per-user cache folder
(``~/.cache/lecture_utils``, see ``lecture_utils.data.user_cache_dir``).

The alternative that also pulls later updates is nbgitpuller (a link per class; see classroom/README.md).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

COURSE_DIR = Path(__file__).resolve().parent.parent  # the shared install of the course
FOLDER_NAME = "batch-momentum"


def student_home(spawner):
    """The student's home folder: the spawner's ``home_dir`` when it has one (SimpleLocalProcessSpawner),
    else the user's system home (~name)."""
    home = getattr(spawner, "home_dir", None)
    return Path(home) if home else Path(os.path.expanduser(f"~{spawner.user.name}"))


def copy_course(home, *, course_dir=COURSE_DIR, uid=None, gid=None):
    """Copy ``course_dir/notebooks`` to ``home/batch-momentum/notebooks`` once; returns the folder.

    Only ``*.ipynb`` are copied (no checkpoints). With ``uid``/``gid`` (a hub running as root that
    spawns system users) the copy is handed to the student.
    """
    dest = Path(home) / FOLDER_NAME
    if dest.exists():
        return dest
    tmp = Path(home) / f".{FOLDER_NAME}.copying"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "notebooks").mkdir(parents=True)
    for nb in sorted((Path(course_dir) / "notebooks").glob("*.ipynb")):
        shutil.copy2(nb, tmp / "notebooks" / nb.name)
    if uid is not None:
        for p in [tmp, tmp / "notebooks", *(tmp / "notebooks").iterdir()]:
            os.chown(p, uid, gid if gid is not None else -1)
    os.replace(tmp, dest)  # all or nothing: a half copy never looks like a finished one
    return dest


def pre_spawn_hook(spawner):
    """``c.Spawner.pre_spawn_hook = pre_spawn_hook``: give the student their copy before the server starts."""
    home = student_home(spawner)
    home.mkdir(parents=True, exist_ok=True)
    uid = gid = None
    if os.geteuid() == 0 and not getattr(spawner, "home_dir", None):
        import pwd

        try:
            pw = pwd.getpwnam(spawner.user.name)
            uid, gid = pw.pw_uid, pw.pw_gid
        except KeyError:
            pass
    copy_course(home, uid=uid, gid=gid)
