"""The classroom's JupyterHub files (classroom/): the one-machine config loads and sets what the README says,
and the copy-on-first-start hook gives a student their own notebooks once, never overwriting their work.
(The hub itself runs in `make hub-test`, tests/hub.)"""
import runpy
import sys
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "classroom"))

import course_copy  # noqa: E402


def _load_config():
    import traitlets.config  # a pinned dependency of Jupyter: missing means a broken setup, not a skip

    c = traitlets.config.Config()
    runpy.run_path(str(ROOT / "classroom" / "jupyterhub_config.py"), init_globals={"get_config": lambda: c})
    return c


def test_one_machine_config_limits_each_student_and_culls_idle_servers():
    c = _load_config()
    assert c.JupyterHub.spawner_class == "systemdspawner.SystemdSpawner"
    assert c.SystemdSpawner.mem_limit == "1536M" and c.SystemdSpawner.cpu_limit == 1.0
    assert c.JupyterHub.authenticator_class == "nativeauthenticator.NativeAuthenticator"
    assert "dummy" not in str(c.JupyterHub.authenticator_class).lower()
    culler = [s for s in c.JupyterHub.services if s["name"] == "idle-culler"]
    assert culler and "jupyterhub_idle_culler" in culler[0]["command"]
    assert any(a.startswith("--timeout=") for a in culler[0]["command"])
    role = [r for r in c.JupyterHub.load_roles if r["name"] == "idle-culler"][0]
    assert set(role["scopes"]) == {"list:users", "read:users:activity", "read:servers", "delete:servers"}
    assert c.Spawner.pre_spawn_hook is course_copy.pre_spawn_hook
    assert c.Spawner.environment["OMP_WAIT_POLICY"] == "PASSIVE"


def test_copy_on_first_start_copies_once_and_keeps_the_students_work(tmp_path):
    home = tmp_path / "alice"
    spawner = SimpleNamespace(home_dir=str(home), user=SimpleNamespace(name="alice"))
    course_copy.pre_spawn_hook(spawner)
    nbs = sorted(p.name for p in (home / "batch-momentum" / "notebooks").glob("*.ipynb"))
    assert nbs == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) and nbs
    mine = home / "batch-momentum" / "notebooks" / nbs[0]
    mine.write_text("my work")
    course_copy.pre_spawn_hook(spawner)  # the next start keeps it
    assert mine.read_text() == "my work"
    assert not list(home.glob(".*copying*")), "a temporary folder was left behind"
