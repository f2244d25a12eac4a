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


# ------------------------------------------------------------------------ reliability (synthetic timings)
from lecture_utils.timing import Timing, reliability  # noqa: E402


def _timing(per_update_ms, *, spread=0.02, load=(0.3, 0.3), cpus=2, sizes=(1, 4, 64, 4000), seed=0):
    rng = np.random.default_rng(seed)
    reps = [m * 1e-3 * (1 + spread * rng.uniform(-1, 1, 15)) for m in per_update_ms]
    per = np.array([np.median(r) for r in reps])
    return Timing(list(sizes), per, per * np.array([-(-4000 // b) for b in sizes]), 4000, "cpu",
                  repeats=reps, load=load, cpus=cpus)


def test_quiet_consistent_timing_is_reliable():
    r = reliability(_timing([0.30, 0.33, 0.5, 18.0]))
    assert r.ok and r.reasons == []
    assert max(r.spread) < 0.05 and r.load_per_cpu == pytest.approx(0.15)
    assert "reliable" in r.message()


def test_repeats_that_disagree_are_flagged():
    r = reliability(_timing([0.30, 0.33, 0.5, 18.0], spread=0.9))
    assert not r.ok and "repeats disagree" in r.reasons[0]
    assert "⚠ unreliable" in r.message()


def test_larger_batch_faster_per_update_is_flagged():
    # the symptom: the B = 1 update was slowed by the load, B = 4 looks cheaper than B = 1
    r = reliability(_timing([2.0, 0.4, 0.5, 18.0]))
    assert not r.ok and any("B = 4 measured faster per update than B = 1" in s for s in r.reasons)
    # within the tolerance it is not flagged (B = 4 may cost about the same as B = 1)
    assert reliability(_timing([0.40, 0.35, 0.5, 18.0])).ok


def test_busy_machine_is_flagged_and_unknown_load_is_not():
    r = reliability(_timing([0.30, 0.33, 0.5, 18.0], load=(0.4, 6.7), cpus=2))
    assert not r.ok and "load average 6.7 on 2 CPUs" in r.reasons[-1]
    assert reliability(_timing([0.30, 0.33, 0.5, 18.0], load=(float("nan"), float("nan")))).ok


@pytest.mark.parametrize("kwargs, name", [(dict(max_spread=0), "max_spread"),
                                          (dict(max_load_per_cpu=-1), "max_load_per_cpu"),
                                          (dict(monotone_tolerance=1.0), "monotone_tolerance")])
def test_reliability_validation(kwargs, name):
    with pytest.raises(ValueError, match=name):
        reliability(_timing([0.3, 0.3, 0.5, 18.0]), **kwargs)
    with pytest.raises(ValueError, match="timing"):
        reliability([0.3, 0.4])


def test_measured_timing_records_repeats_and_load(mnist):
    t = time_per_update([1, 64], data=mnist, repeats=4, warmup=1)
    assert [len(r) for r in t.repeats] == [4, 4] and len(t.load) == 2 and t.cpus >= 1
    assert isinstance(reliability(t).ok, bool)


def _cache(per_update_ms, sizes=(1, 4, 64, 4000)):
    return {"results": {"batch_sizes": list(sizes), "per_update_s": [m * 1e-3 for m in per_update_ms],
                        "machine": {"cpu": "Cached CPU"}}}


def test_reliability_compares_the_live_curve_with_the_cache():
    cache = _cache([0.30, 0.34, 0.55, 15.0])
    # another machine, uniformly 1.2-1.6x slower: reliable, and the message says how it compares
    r = reliability(_timing([0.36, 0.40, 0.7, 24.0]), reference=cache)
    assert r.ok and r.versus_cache[1] == pytest.approx(1.2, rel=0.05)
    assert "× the cached sweep's time per update at every B" in r.message()
    # the stored notebook's symptom: t(4) = 3.6 t(1) live, 1.1 t(1) cached (a 4x jump between B = 1 and 4)
    r = reliability(_timing([0.43, 1.54, 2.19, 23.7]), reference=cache)
    assert not r.ok and "shape differs from the cached sweep's (Cached CPU)" in r.reasons[0]
    assert "at B = 1 but" in r.reasons[0]
    # without a reference nothing is compared
    assert reliability(_timing([0.43, 1.54, 2.19, 23.7])).versus_cache == {}
    with pytest.raises(ValueError, match="reference"):
        reliability(_timing([0.3, 0.3, 0.5, 18.0]), reference={"results": {}})
    with pytest.raises(ValueError, match="max_shape_ratio"):
        reliability(_timing([0.3, 0.3, 0.5, 18.0]), reference=cache, max_shape_ratio=1.0)


def test_progress_wrapper_and_live_report(mnist):
    from lecture_utils import sweeps
    from lecture_utils.timing import cached_summary, live_report

    seen = []
    t = time_per_update([1, 16], data=mnist, repeats=2, warmup=0, progress=lambda xs: seen.extend(xs) or xs)
    assert seen == [1, 16]
    cached = sweeps.load("timing")
    lines = live_report(t, cached)
    assert lines[0].split()[:3] == ["B", "ms", "per"] and len(lines) == 2 + 2 + 1
    assert lines[-1].startswith("From this live measurement") or lines[-1].startswith("From the cached sweep")
    s = cached_summary(cached)
    res = cached["results"]
    assert f"{res['per_epoch_s'][0] / res['per_epoch_s'][-1]:.0f}× faster" in s and "threads" in s
