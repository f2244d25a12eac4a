"""The classroom environment is pinned once: constraints.txt (pip) and environment.yml (conda) agree."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def constraints():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[_norm(name)] = version
    return pins


def environment_pins():
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"\s*-\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if m:
            pins[_norm(m.group(1))] = m.group(2)
    return pins


def pyproject_requirements():
    import tomllib

    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return [_norm(re.match(r"[A-Za-z0-9_.\-]+", r).group(0)) for r in reqs]


def test_environment_yml_pins_the_same_versions_as_constraints():
    c, e = constraints(), environment_pins()
    assert e, "environment.yml pins nothing"
    mismatched = {k: (v, c.get(k)) for k, v in e.items() if c.get(k) != v}
    assert not mismatched, f"environment.yml vs constraints.txt: {mismatched}"


def test_every_dependency_is_pinned_in_both():
    c, e = constraints(), environment_pins()
    for name in pyproject_requirements():
        assert name in c, f"{name} is required by pyproject.toml but not pinned in constraints.txt"
        assert name in e, f"{name} is required by pyproject.toml but not pinned in environment.yml"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    c = constraints()
    for name in ("numpy", "torch", "matplotlib", "ipywidgets", "mnist1d", "nbval", "jupyterlab"):
        assert version(name).split("+")[0] == c[name], f"{name}: installed {version(name)}, pinned {c[name]}"


def test_readme_quick_start_shows_exactly_the_two_commands():
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("##", 1)[0]
    block = re.search(r"```bash\n(.*?)```", quick, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in block.splitlines() if line.split("#")[0].strip()]
    assert commands == ["make lab", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
