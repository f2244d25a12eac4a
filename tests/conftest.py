import matplotlib

matplotlib.use("Agg")

import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import process_guard  # noqa: E402

# SIGTERM/SIGHUP end the run like Ctrl+C (fixtures tear down); nothing started here outlives pytest
process_guard.install()


def pytest_unconfigure(config):
    process_guard.pytest_unconfigure(config)


@pytest.fixture(scope="session")
def mnist():
    from lecture_utils.data import load_mnist1d

    return load_mnist1d()
