"""Notebook 03, sections 5-6: the cached sweep "sharpness_matched" (sharpness at one matched training
loss; λ_max against the stability limit 2/η) and its table and figures."""
import numpy as np
import pytest

from lecture_utils import sweeps
from lecture_utils.panels import generalization as P
from lecture_utils.sweeps import sharpness_matched as M


@pytest.fixture(scope="module")
def record():
    return sweeps.load("sharpness_matched")


@pytest.fixture(scope="module")
def res(record):
    return record["results"]


def test_cache_matches_the_protocol(record, res):
    p = record["params"]
    assert p == sweeps._normalise(M.PARAMS)
    assert [c["key"] for c in res["configs"]] == [M.config_key(b, lr) for b, lr in p["configs"]]
    assert len(p["seeds"]) >= 3
    lr0 = [c for c in res["configs"] if c["lr"] == p["lr"]]
    assert [c["batch_size"] for c in lr0] == [8, 32, 128, 400]          # section 5: one η, four B
    for b in (32, 400):                                                  # section 6: ≥ 3 η for two B
        assert len({c["lr"] for c in res["configs"] if c["batch_size"] == b}) >= 3
    for c in res["configs"]:
        runs = res["runs"][c["key"]]
        assert [r["seed"] for r in runs] == p["seeds"]
        for r in runs:
            if r["status"] == "target_reached":     # matched: every reached run stops at or just below L*
                assert r["train_loss"] <= p["target_train_loss"]
                assert r["train_loss"] > 0.5 * p["target_train_loss"]
                assert r["top_eigenvalue"] > 0 and r["eps_sharpness"] > 0
                assert r["stability"] == pytest.approx(r["top_eigenvalue"] * c["lr"] / 2)


def test_summary_is_mean_and_standard_error_of_the_runs(res):
    for c in res["configs"]:
        ok = [r for r in res["runs"][c["key"]] if r["status"] == "target_reached"]
        s = res["summary"][c["key"]]
        assert s["reached"] == len(ok) and s["n"] == len(res["runs"][c["key"]])
        if len(ok) < 2:
            continue
        lam = np.array([r["top_eigenvalue"] for r in ok])
        assert s["top_eigenvalue_mean"] == pytest.approx(lam.mean())
        assert s["top_eigenvalue_se"] == pytest.approx(lam.std(ddof=1) / np.sqrt(len(lam)))


def test_mean_se_helper():
    m, s = M.mean_se([1.0, 2.0, 3.0])
    assert m == 2.0 and s == pytest.approx(1.0 / np.sqrt(3))
    assert M.mean_se([5.0]) == (5.0, 0.0)
    assert all(np.isnan(M.mean_se([])))


def test_a_cached_point_is_reproduced(record, res):
    """Deterministic: the cheapest configuration (largest η at B = 32, seed 0) trained again lands on the
    cached run — same number of updates, same loss, same λ_max."""
    from lecture_utils.sweeps.generalization import measure_sharpness

    p = record["params"]
    c = max((c for c in res["configs"] if c["batch_size"] == 32), key=lambda c: c["lr"])
    cached = res["runs"][c["key"]][0]
    r = M.train_point(p, c["batch_size"], c["lr"], p["seeds"][0])
    assert r.status == cached["status"] == "target_reached"
    assert r.steps == cached["steps"]
    assert r.train_loss == pytest.approx(cached["train_loss"], rel=1e-4)
    lam, _ = measure_sharpness(p, r.model)
    assert lam == pytest.approx(cached["top_eigenvalue"], rel=0.01)


def test_table_and_figures(record, res):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = P.matched_table(record)
    assert len(table.splitlines()) == len(res["configs"]) + 1
    s = res["summary"][M.config_key(400, record["params"]["lr"])]
    assert f"{s['top_eigenvalue_mean']:.2f} ± {s['top_eigenvalue_se']:.2f}" in table
    gap = sweeps.load("generalization")
    f1 = P.matched_figure(record, gap)
    # left axes: two error-bar curves (at the stop, at matched loss), each with one point per B
    assert sum(len(ln.get_xdata()) == 4 for ln in f1.axes[0].get_lines()) >= 2
    f2 = P.stability_figure(record)
    ax = f2.axes[0]
    limit = [ln for ln in ax.get_lines() if ln.get_label().startswith("2/η")][0]
    x, y = limit.get_xdata(), limit.get_ydata()
    np.testing.assert_allclose(x * y, 2.0)                     # the drawn limit is 2/η
    for f in (f1, f2):
        plt.close(f)
    with pytest.raises(ValueError, match="record"):
        P.matched_table({"results": {"summary": {}}})
