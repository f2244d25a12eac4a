import numpy as np
import pytest

from lecture_utils.timing import cuda_available, time_per_update


def test_timing_shape_and_epoch_arithmetic(mnist):
    t = time_per_update([1, 64, 4000], data=mnist, repeats=3, warmup=1)
    assert t.batch_sizes == [1, 64, 4000] and t.device == "cpu"
    assert t.per_update.shape == (3,) and np.all(t.per_update > 0)
    np.testing.assert_allclose(t.per_epoch, t.per_update * np.array([4000, 63, 1]))
    # per example, a batch of 4000 is far cheaper than 4000 batches of one
    assert t.per_epoch[2] < t.per_epoch[0]
    assert len(t.rows()) == 3


@pytest.mark.parametrize("kwargs, name", [
    (dict(batch_sizes=[0]), r"batch_sizes\[i\]"), (dict(batch_sizes=[5000]), r"batch_sizes\[i\]"),
    (dict(batch_sizes=[1], device="tpu"), "device"), (dict(batch_sizes=[1], repeats=0), "repeats"),
    (dict(batch_sizes=[]), "batch_sizes"),
])
def test_timing_validation(mnist, kwargs, name):
    with pytest.raises(ValueError, match=name):
        time_per_update(data=mnist, **kwargs)


@pytest.mark.skipif(cuda_available(), reason="only meaningful without a GPU")
def test_cuda_refused_without_gpu(mnist):
    with pytest.raises(ValueError, match="device"):
        time_per_update([1], data=mnist, device="cuda")
