"""The Python versions the README promises are the ones pyproject.toml allows, and they can install the pins
(issue 12 §4: the README promised 3.10, which cannot install numpy 2.4.6)."""
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requires_python():
    spec = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    low = re.search(r">=\s*3\.(\d+)", spec).group(1)
    high = re.search(r"<\s*3\.(\d+)", spec).group(1)
    return int(low), int(high)  # 3.low <= version < 3.high


def test_readme_promises_exactly_the_allowed_versions():
    quick = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
    promised = sorted({int(m) for m in re.findall(r"Python 3\.(\d+)", quick.split("```", 1)[0])}
                      | {int(m) for m in re.findall(r"\bor 3\.(\d+)", quick.split("```", 1)[0])})
    low, high = _requires_python()
    assert promised == list(range(low, high)), (promised, (low, high))


def test_this_interpreter_is_in_the_allowed_range():
    low, high = _requires_python()
    assert (3, low) <= sys.version_info[:2] < (3, high)


def test_lowest_allowed_python_can_install_the_pinned_numpy():
    """numpy 2.3+ needs Python >= 3.11; numpy 2.1-2.2 >= 3.10 (their requires-python)."""
    pins = dict(line.split("==") for line in (ROOT / "constraints.txt").read_text().splitlines()
                if line and not line.startswith("#"))
    major, minor = (int(x) for x in pins["numpy"].split(".")[:2])
    needs = 11 if (major, minor) >= (2, 3) else 10
    assert _requires_python()[0] >= needs
