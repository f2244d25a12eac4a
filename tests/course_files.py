"""The course's notebooks, by name: a test that needs them fails when one is missing (never skips).

Tests that visit every notebook (strict nbval offline, slide metadata, browser, determinism) read
this list instead of a glob, so a deleted or renamed notebook is a failure, not a smaller loop.
"""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_NAMES = (
    "00_overview.ipynb",
    "01_batches_and_epochs.ipynb",
    "02_noisy_gradients.ipynb",
    "03_large_batch_generalization.ipynb",
    "04_have_both.ipynb",
    "05_momentum.ipynb",
    "06_scorecard.ipynb",
)
NOTEBOOKS = [ROOT / "notebooks" / name for name in NOTEBOOK_NAMES]


def missing_notebooks():
    """Names of the course's notebooks that are not in notebooks/."""
    return [p.name for p in NOTEBOOKS if not p.is_file()]


def load_script(name):
    """The module of ``scripts/NAME.py`` (the scripts are not a package), for tests of their functions."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
