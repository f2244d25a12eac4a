"""Notebook 03, deep dive "Sharpness during training": the cached sweep "sharpness_trajectory" (λ_max
along gradient descent and SGD against 2/η), its summary, table and figure."""
import json

import numpy as np
import pytest

from lecture_utils import sweeps
from lecture_utils.panels import generalization as P
from lecture_utils.sweeps import sharpness_trajectory as T


@pytest.fixture(scope="module")
def record():
    return sweeps.load("sharpness_trajectory")


@pytest.fixture(scope="module")
def rows(record):
    return T.summary(record)


def test_cache_matches_the_protocol(record):
    p, res = record["params"], record["results"]
    assert p == sweeps._normalise(T.PARAMS)
    assert len(p["seeds"]) >= 3
    assert res["configs"] == sweeps._normalise(T.configs(p))
    assert [c["lr"] for c in res["configs"] if c["kind"] == "GD"] == p["gd_lrs"]        # three η
    assert {c["batch_size"] for c in res["configs"] if c["kind"] == "GD"} == {p["n_train"]}
    assert len([c for c in res["configs"] if c["kind"] == "SGD"]) >= 2                   # two B
    n = p["steps"] // p["every"]
    for c in res["configs"]:
        for s in p["seeds"]:
            r = res["runs"][T.run_key(c["batch_size"], c["lr"], s)]
            assert r["status"] == "max_steps"                       # no run diverged
            assert r["step"] == list(range(0, p["steps"], p["every"])) and len(r["lam"]) == n
            assert all(v is not None and v > 0 for v in r["lam"])
            assert r["capped"] <= 0.15 * n                          # power iteration converged almost always


def test_run_summary_on_a_made_up_run():
    run = {"step": [0, 10, 20, 30, 40], "lam": [1.0, 10.0, 12.0, 8.0, 2.0],
           "train_loss": [2.0, 0.9, 0.5, 0.2, 0.05]}
    s = T.run_summary(run, lr=0.2, window=(1.0, 0.1))
    assert s["first_edge"] == 10                  # 10·0.2/2 = 1: at the limit counts
    assert s["peak"] == pytest.approx(1.2)
    assert s["median_window"] == pytest.approx(1.0)   # losses 0.9, 0.5, 0.2: λη/2 1.0, 1.2, 0.8
    assert s["final"] == pytest.approx(0.2)
    assert T.run_summary(run, lr=0.1)["first_edge"] is None


def test_gradient_descent_reaches_two_over_eta_and_hovers_there(record, rows):
    """What the deep dive says: at η = 0.2 and 0.4 every seed's λ_max reaches 2/η and, while the loss falls
    from 1 to 0.1, sits at or a little above it (median λη/2 between 1 and 1.6); at η = 0.1 it never
    gets there (peak λη/2 < 0.8); at the end (loss → 0) it has fallen far below."""
    n = len(record["params"]["seeds"])
    for lr in (0.2, 0.4):
        r = rows[("GD", record["params"]["n_train"], lr)]
        assert r["reached_edge"] == n
        assert 1.0 < r["median_window"].mean < 1.6
        assert r["final"].mean < 0.3
    r = rows[("GD", record["params"]["n_train"], 0.1)]
    assert r["reached_edge"] == 0 and r["peak"].mean + r["peak"].half < 0.8


def test_sgd_settles_below_gradient_descent_at_the_same_eta(record, rows):
    """At η = sgd['lr'] the median λ_max·η/2 (loss 1 → 0.1) orders as B: the smallest B lowest, all below
    gradient descent's, the smallest B below 0.6 with its whole interval."""
    p = record["params"]
    lr = p["sgd"]["lr"]
    gd = rows[("GD", p["n_train"], lr)]["median_window"]
    meds = [rows[("SGD", b, lr)]["median_window"] for b in sorted(p["sgd"]["batch_sizes"])]
    assert all(a.mean < b.mean for a, b in zip(meds, meds[1:] + [gd]))
    assert meds[0].high < 0.6 < gd.low


def test_the_results_assemble_from_their_tasks_as_cached(record, monkeypatch):
    from lecture_utils.sweeps import _pool

    res = record["results"]
    seen = []

    def fake_map(fn, params, args, *, desc, progress=True):
        args = list(args)
        seen.extend(args)
        return {a: json.loads(json.dumps(res["runs"][T.run_key(*a)])) for a in args}

    monkeypatch.setattr(_pool, "map_tasks", fake_map)
    assert sweeps._normalise(T.run(record["params"], progress=False)) == res
    assert len(seen) == len(set(seen)) == len(res["runs"])


@pytest.mark.recompute
def test_the_start_of_a_cached_run_recomputes(record):
    """The first 100 updates of SGD B = 100 (seed 0) trained again: λ_max at every measurement within 1 %
    of the cache (warm-started power iteration, tolerance 10⁻³; early updates are far from chaotic)."""
    p = dict(record["params"], steps=100)
    c = next(c for c in record["results"]["configs"] if c["kind"] == "SGD")
    got = T.run_one(p, (c["batch_size"], c["lr"], p["seeds"][0]))
    cached = record["results"]["runs"][T.run_key(c["batch_size"], c["lr"], p["seeds"][0])]
    k = len(got["lam"])
    assert got["step"] == cached["step"][:k]
    np.testing.assert_allclose(got["lam"], cached["lam"][:k], rtol=0.01)
    np.testing.assert_allclose(got["train_loss"], cached["train_loss"][:k], rtol=1e-3)


def test_table_and_figure(record):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = P.trajectory_table(record)
    lines = table.splitlines()
    assert len(lines) == len(record["results"]["configs"]) + 2
    assert "95 % t-interval" in lines[-1]
    assert "never" in lines[1] and "30, 30, 30" in lines[3]
    fig = P.trajectory_figure(record)
    dashed = [ln for ln in fig.axes[2].get_lines() if ln.get_linestyle() == "--"]   # bottom left: GD
    limits = sorted(round(ln.get_ydata()[0], 6) for ln in dashed)
    assert limits == sorted(2 / lr for lr in record["params"]["gd_lrs"])     # the drawn 2/η lines
    plt.close(fig)
    with pytest.raises(ValueError, match="record"):
        P.trajectory_table({"results": {}})
