import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mnist():
    from lecture_utils.data import load_mnist1d

    return load_mnist1d()
