"""Notebook 02's panels: captions state the numbers that landscapes computes, at every slider position."""
import re

import matplotlib
import numpy as np
import pytest

from lecture_utils import checks
from lecture_utils import landscapes as L
from lecture_utils import widgets as W
from lecture_utils.panels import noisy

matplotlib.use("Agg")

DATA = L.make_trap_data()
LAND = DATA.landscape
#: Python time of one slider update (update + PNG); the budget is 30 ms for toy panels on a quiet
#: machine (measured there: see the notebook-02 report). The limit here is loose because test machines
#: are shared and wall-clock time under load is several times the CPU time.
UPDATE_LIMIT_S = 0.5


def _number(pattern, text):
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in {text!r}"
    return m.group(1)


@pytest.fixture(scope="module")
def batch_panel():
    return noisy.batch_losses_panel()


@pytest.fixture(scope="module")
def traj_panel():
    return noisy.trajectories_panel()


@pytest.fixture(scope="module")
def saddle_panel():
    return noisy.saddle_panel()


@pytest.mark.parametrize("b", [1, 4, 16, 64])
def test_batch_losses_caption_matches_numbers(batch_panel, b):
    cap = batch_panel.update(batch_size=b)
    assert isinstance(batch_panel, W.Panel)
    assert "θ* = 2.86" in cap and "0.000" in cap
    num = noisy.batch_loss_numbers(DATA, b)
    if b == 64:
        assert "full batch" in cap and len(num["grads"]) == 1 and num["grads"][0] == num["full_grad"]
        assert abs(num["full_grad"]) < 1e-12
        return
    k = len(num["grads"])
    assert f"the {k} batch gradients" in cap
    # the "no minimum in the dent" count agrees with an independent search of every batch loss
    no_trap = sum(not np.any(L.batch_minima(DATA, idx) > LAND.barrier) for idx in num["batches"])
    assert f"for {no_trap} of the {k} batches" in cap
    assert float(_number(r"from ([+-][\d.]+)", cap)) == pytest.approx(num["grads"].min(), abs=0.006)
    assert batch_panel.last_seconds < UPDATE_LIMIT_S


def test_batch_gradients_at_trap_are_the_mean_tilts():
    num = noisy.batch_loss_numbers(DATA, 8)
    expect = [DATA.tilts[idx, 0].mean() for idx in num["batches"]]
    assert num["grads"] == pytest.approx(expect, abs=1e-9)
    assert abs(num["full_grad"]) < 1e-9
    assert noisy.batch_loss_numbers(DATA, 1)["has_trap"].sum() == 38      # 26 of the 64 examples have no trap


@pytest.mark.parametrize("b,lr", [(1, 0.1), (4, 0.1), (16, 0.1), (64, 0.1), (4, 0.05), (4, 0.01), (8, 0.2)])
def test_trajectories_caption_counts_are_the_runs(traj_panel, b, lr):
    cap = traj_panel.update(batch_size=b, lr=lr)
    num = noisy.trajectory_numbers(DATA, b, lr, n_runs=200)
    escaped = int(np.sum(num["final"] < LAND.barrier))
    assert f"{escaped} of 200" in cap
    assert f"{10 * -(-64 // b)} updates a run" in cap
    assert "stays in the local minimum" in cap                 # GD started exactly at θ* never moves
    if lr * num["curvature"] > 2:
        assert "repelling" in cap
    assert traj_panel.last_seconds < UPDATE_LIMIT_S


def test_trajectories_numbers_agree_with_escape_probability():
    # with 1000 runs the panel's count is exactly escape_probability's (same generator per (seed, B))
    num = noisy.trajectory_numbers(DATA, 8, 0.1, n_runs=1000)
    assert num["escaped"] / 1000 == L.escape_probability([8])[0]
    assert num["gd"][-1] == pytest.approx(LAND.local_min, abs=1e-12)


@pytest.mark.parametrize("b", [1, 4, 16, 32])
def test_saddle_caption(saddle_panel, b):
    cap = saddle_panel.update(batch_size=b)
    assert "never leaves" in cap
    num = noisy.saddle_numbers(b)
    assert num["eigenvalues"] == pytest.approx([-1.0, 2.0])
    assert num["gd_distance"] < 1e-12
    if b == 32:
        assert "eigenvalues -1 and +2: a saddle" in cap
    else:
        assert num["left"] >= 18
        cos = float(_number(r"\|cos\| = ([\d.]+)", cap))
        assert cos == pytest.approx(num["abs_cos"].mean(), abs=0.006)
        assert cos > 0.9
    assert saddle_panel.last_seconds < UPDATE_LIMIT_S


def test_escape_table_and_curve():
    rates = np.array([0.997, 0.5, 0.0])
    rows = noisy.escape_table([1, 8, None], rates, 1000, 64)
    assert [r[0] for r in rows] == ["1", "8", "full"]
    assert rows[1][1] == 500 and rows[1][3] == pytest.approx(0.469, abs=1e-3)
    text = noisy.format_escape_table(rows, 1000)
    assert "full" in text and "[0.00, 0.00]" in text
    fig = noisy.plot_escape_curve([1, 8, None], rates, 1000, 64)
    assert len(fig.axes) == 1
    import matplotlib.pyplot as plt
    plt.close(fig)


def _fake_training():
    return {"n_train": 100, "lr": 0.1,
            "runs": [{"batch_size": 100, "epoch": [0, 1, 2], "step": [0, 1, 2], "train_loss": [2.3, 2.2, 2.1]},
                     {"batch_size": 10, "epoch": [0, 1, 2], "step": [0, 10, 20], "train_loss": [2.3, 1.5, 1.0]}],
            "full_long": {"step": [0, 10, 20, 30], "train_loss": [2.3, 1.6, 1.2, 1.0]}}


def test_training_summary_and_plot():
    res = _fake_training()
    text = noisy.training_summary(res)
    assert "full batch:" in text and "training loss 2.10" in text
    assert "B = 10: 2 epochs =    20 updates, training loss 1.00" in text
    assert "full batch after   20 updates: 1.20" in text
    import matplotlib.pyplot as plt
    fig = noisy.plot_noisy_training(res)
    assert len(fig.axes) == 2 and len(fig.axes[1].lines) == 3
    plt.close(fig)


def test_cached_training_sweep_shows_the_plateau():
    from lecture_utils import sweeps

    try:
        rec = sweeps.load("noisy_training")
    except sweeps.CacheMismatch:
        pytest.skip("sweep noisy_training not cached")
    res = rec["results"]
    loss = {r["batch_size"]: r["train_loss"][-1] for r in res["runs"]}
    assert loss[4000] > 1.9                       # 30 full-batch updates: barely moved from 2.31
    assert loss[8] < 0.5 < loss[512] < loss[4000]
    assert res["full_long"]["train_loss"][-1] < 1.0   # but 2000 full-batch updates do train


def test_checks_exercises(capsys):
    assert checks.check_escape_rate(None) is None
    assert "not done yet" in capsys.readouterr().out
    right = L.escape_probability([8])[0]
    assert checks.check_escape_rate(right, batch_size=8) is True
    assert "✅" in capsys.readouterr().out
    assert checks.check_escape_rate(880.0, batch_size=8) is False
    assert "fraction" in capsys.readouterr().out
    assert checks.check_escape_rate("abc") is False

    def good(h):
        lam = np.linalg.eigvalsh(h)
        return "minimum" if lam.min() > 0 else "maximum" if lam.max() < 0 else "saddle"

    assert checks.check_classifier(good) is True
    assert checks.check_classifier(lambda h: "minimum") is False
    assert "expected 'saddle'" in capsys.readouterr().out

    def stub(h):
        ...

    assert checks.check_classifier(stub) is None
    assert "not done yet" in capsys.readouterr().out
    assert checks.check_classifier(lambda h: 1 / 0) is False
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_cached_training_recomputes(mnist):
    """The first epochs of the cached B = 512 and full-batch runs come out again (same seed, same thread count)."""
    from lecture_utils import sweeps
    from lecture_utils.train import train_classifier

    try:
        rec = sweeps.load("noisy_training")
    except sweeps.CacheMismatch:
        pytest.skip("sweep noisy_training not cached")
    p = rec["params"]
    for b in (512, 4000):
        cached = next(r for r in rec["results"]["runs"] if r["batch_size"] == b)
        r = train_classifier(mnist, batch_size=b, lr=p["lr"], seed=p["seed"], epochs=4, hidden=p["hidden"],
                             threads=p["threads"])
        assert r.history["train_loss"] == pytest.approx(cached["train_loss"][:5], abs=2e-5)
