"""Notebook 03, deep dive "Does noise cause flatness?": the ghost-batch noise estimator, and the cached
sweep "noise_injection" (a large batch given the small batch's noise), its summary, table and figure."""
import json

import numpy as np
import pytest
import torch

from lecture_utils import sweeps
from lecture_utils.panels import generalization as P
from lecture_utils.sweeps import noise_injection as M
from lecture_utils.train import make_mlp


# ----------------------------------------------------------------------------- the estimator
@pytest.mark.parametrize("b, bs, big, n", [(32, 32, 400, 4000), (8, 32, 400, 4000), (16, 8, 100, 200)])
def test_noise_scale_gives_the_small_batch_covariance(b, bs, big, n):
    """Cov(g_B) + c²·Cov(g_S₁ − g_S₂) = Cov(g_bs), in units of Σ: (N−B)/(B(N−1)) + c²·2N/(b(N−1)) =
    (N−b_s)/(b_s(N−1)) — for any N (c does not depend on it)."""
    c = M.noise_scale({"ghost": b, "small": bs, "large": big})
    assert (n - big) / (big * (n - 1)) + c ** 2 * 2 * n / (b * (n - 1)) == pytest.approx(
        (n - bs) / (bs * (n - 1)), rel=1e-12)
    assert M.noise_scale(M.PARAMS) == pytest.approx(np.sqrt(0.46), rel=1e-12)      # 0.678 in the notebook


def _tiny():
    """A 5-8-3 MLP (float64) and 200 random examples; per-example gradients exact by a loop."""
    model = make_mlp(3, n_in=5, hidden=8, n_out=3, depth=1).double()
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.normal(size=(200, 5)))
    y = torch.tensor(rng.integers(0, 3, 200))
    params = list(model.parameters())
    per = []
    for i in range(len(y)):
        g = torch.autograd.grad(torch.nn.functional.cross_entropy(model(x[i:i + 1]), y[i:i + 1]), params)
        per.append(torch.cat([t.reshape(-1) for t in g]).numpy())
    return model, x, y, np.array(per)


def _noise_draws(hook, model, k):
    out = []
    for _ in range(k):
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        hook(0, model)
        out.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]).numpy())
    return np.array(out)


def test_ghost_noise_has_mean_zero_and_the_predicted_covariance():
    """4000 draws of c·(g_S₁ − g_S₂) on a tiny network: E‖noise‖² = c²·2N/(b(N−1))·tr Σ within 5 % (Σ from
    the exact per-example gradients), and the mean is ≈ 0 (its length under 5 % of one draw's)."""
    model, x, y, per = _tiny()
    n, b, c = len(y), 8, 0.7
    sigma = np.cov(per.T, bias=True)                             # Σ over the N examples (divisor N)
    hook = M.GhostNoise(x, y, ghost=b, c=c, seed=0)
    draws = _noise_draws(hook, model, 4000)
    predicted = c ** 2 * 2 * n / (b * (n - 1)) * np.trace(sigma)
    assert (draws ** 2).sum(1).mean() == pytest.approx(predicted, rel=0.05)
    assert np.linalg.norm(draws.mean(0)) < 0.05 * np.sqrt(predicted)
    assert np.mean(hook.norms) == pytest.approx(np.linalg.norm(draws, axis=1).mean(), rel=1e-9)


def test_isotropic_noise_has_the_same_length_and_another_direction():
    model, x, y, _ = _tiny()
    cov = M.GhostNoise(x, y, ghost=8, c=0.7, seed=5)
    iso = M.GhostNoise(x, y, ghost=8, c=0.7, seed=5, kind="isotropic")
    a, b = _noise_draws(cov, model, 50), _noise_draws(iso, model, 50)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1), rtol=1e-9)
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert np.abs(cos).max() < 0.9
    with pytest.raises(ValueError, match="kind"):
        M.GhostNoise(x, y, ghost=8, c=0.7, seed=5, kind="gaussian")


def test_keys():
    assert M.run_key("large+noise", 3) == "large+noise|3"
    assert M.parse_run_key("small|0") == ("small", 0)
    with pytest.raises(ValueError, match="arm"):
        M.run_key("huge", 0)


# ----------------------------------------------------------------------------- the cache
@pytest.fixture(scope="module")
def record():
    return sweeps.load("noise_injection")


def test_cache_matches_the_protocol(record):
    p, res = record["params"], record["results"]
    assert p == sweeps._normalise(M.PARAMS)
    assert len(p["seeds"]) >= 5
    assert [a["arm"] for a in res["arms"]] == list(M.ARMS)
    for a in M.ARMS:
        for s in p["seeds"]:
            r = res["runs"][M.run_key(a, s)]
            assert r["status"] == "target_reached"                      # every run reached L*
            assert 0.5 * p["target_train_loss"] < r["train_loss"] <= p["target_train_loss"]
            assert (r["noise_norm"] > 0) == (a in ("large+noise", "large+isotropic"))


def test_the_results_assemble_from_their_tasks_as_cached(record, monkeypatch):
    from lecture_utils.sweeps import _pool

    res = record["results"]

    def fake_map(fn, params, args, *, desc, progress=True):
        return {a: json.loads(json.dumps(res["runs"][M.run_key(*a)])) for a in args}

    monkeypatch.setattr(_pool, "map_tasks", fake_map)
    assert sweeps._normalise(M.run(record["params"], progress=False)) == res


def test_summary_and_paired_are_the_stats_helpers(record):
    from lecture_utils import stats

    rows = M.summary(record)
    lam = M.values(record, "large", "top_eigenvalue")
    assert rows["large"]["top_eigenvalue"] == stats.mean_ci(lam)
    d = M.paired(record, "large", "large+noise", "test_acc")
    a, b = M.values(record, "large", "test_acc"), M.values(record, "large+noise", "test_acc")
    assert d == stats.paired_diff_ci(a, b)


def test_table_and_figure(record):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = P.noise_table(record)
    assert len(table.splitlines()) == len(M.ARMS) + 2
    assert "95 % t-interval" in table.splitlines()[-1]
    fig = P.noise_figure(record)
    assert len(fig.axes) == 3
    plt.close(fig)
    with pytest.raises(ValueError, match="record"):
        P.noise_table({"results": {}})
