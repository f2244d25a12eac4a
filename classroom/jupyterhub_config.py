"""JupyterHub for a class on ONE machine — the configuration an instructor starts from.

Start:  jupyterhub -f classroom/jupyterhub_config.py      (as root, from the course's environment)
Needs:  pip install -c constraints.txt -e '.[present,hub]'
            jupyterhub-systemdspawner jupyterhub-nativeauthenticator
        npm ci   (configurable-http-proxy, pinned in package-lock.json;
                  or `npm install -g configurable-http-proxy`)

The Littlest JupyterHub (TLJH) sets up the same pieces for you (systemd spawner, culler, HTTPS):
install it, then `tljh-config` the limits below and point its user environment at this course.

What the pieces are, and what the test (`make hub-test`) checks of them: classroom/README.md.
Not tested here: systemd (the test uses SimpleLocalProcessSpawner, where limits are not enforced),
NativeAuthenticator and HTTPS; the shared settings (course copy, culler, environment) are tested.
"""
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(COURSE / "classroom"))

from hub_settings import apply  # noqa: E402

c = get_config()  # noqa: F821  (provided by jupyterhub when it loads this file)

# --- network: the hub behind your HTTPS reverse proxy (or set ssl_cert/ssl_key here) -----------------
c.JupyterHub.bind_url = "http://0.0.0.0:8000"
proxy = COURSE / "node_modules" / ".bin" / "configurable-http-proxy"
if proxy.exists():
    c.ConfigurableHTTPProxy.command = [str(proxy)]
c.JupyterHub.cookie_secret_file = "/srv/jupyterhub/jupyterhub_cookie_secret"
c.JupyterHub.db_url = "sqlite:////srv/jupyterhub/jupyterhub.sqlite"

# --- who may log in: a real authenticator (the test uses a dummy one inside the test only) ---------
# NativeAuthenticator: students sign up, the instructor approves them at /hub/authorize.
# Alternatives: jupyterhub-ltiauthenticator (Moodle/Canvas), oauthenticator (the university's OAuth/SSO).
c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"
c.Authenticator.admin_users = {"instructor"}
c.Authenticator.allow_all = False
c.NativeAuthenticator.open_signup = False  # the instructor approves each account

# --- one server per student, each a systemd unit with its own CPU and memory limits ---------------
# SystemdSpawner (jupyterhub-systemdspawner) enforces these through cgroups; TLJH uses it.
# Sizes from make hub-test: peak resident memory of one student's server with a kernel after Run All
# is in classroom/README.md; 1.5 GiB leaves room for a second notebook open at the same time.
c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"
c.SystemdSpawner.mem_limit = "1536M"
c.SystemdSpawner.cpu_limit = 1.0           # one core at most per student (a share of the machine)
c.SystemdSpawner.dynamic_users = True      # each student a transient user with a private home
c.SystemdSpawner.unit_extra_properties = {"TasksMax": "256"}
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]  # the course's environment

# --- shared: copy of the notebooks on first start, idle culler, time-outs -------------------------
apply(c, cull_after_s=3600, cull_every_s=300)
