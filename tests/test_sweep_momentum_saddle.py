"""The momentum_saddle sweep (notebook 05, section 8): the Hessian at the start, the plateau, the cache."""
import json
import math

import numpy as np
import pytest
import scipy.stats

from lecture_utils import sweeps
from lecture_utils.sharpness import hessian_matrix
from lecture_utils.sweeps import momentum_saddle as M


@pytest.fixture(scope="module")
def record():
    return sweeps.load("momentum_saddle")


def test_hessian_extremes_equal_the_full_hessian_on_a_tiny_net():
    import torch

    from lecture_utils.train import make_mlp

    model = make_mlp(3, n_in=4, hidden=6, n_out=3, depth=1)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(0.3)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 4, generator=g), torch.randint(0, 3, (30,), generator=g)
    want = np.linalg.eigvalsh(hessian_matrix(model, x, y))
    lo, hi, n_hvp = M.hessian_extremes(model, x, y, tol=1e-8)
    assert lo == pytest.approx(want[0], abs=1e-5) and hi == pytest.approx(want[-1], abs=1e-5)
    assert lo < 0 < hi and n_hvp > 0


def test_scaled_init_is_the_default_init_times_scale():
    from lecture_utils.train import make_mlp

    base = make_mlp(2).state_dict()
    small = M.scaled_init(2, 0.1)
    for k in base:
        np.testing.assert_allclose(small[k].numpy(), 0.1 * base[k].numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="scale"):
        M.scaled_init(2, -1.0)


def test_steps_to_leave():
    assert M.steps_to_leave([0, 5, 10, 15], [2.3, 2.2, 2.0, 1.0], 2.07) == 10
    assert M.steps_to_leave([0, 5], [2.3, None], 2.07) is None
    assert M.steps_to_leave([0, 5], [2.3, float("nan")], 2.07) is None


def test_cache_covers_every_setting_and_the_start_is_a_saddle(record):
    p, res = record["params"], record["results"]
    assert record["params"] == json.loads(json.dumps(M.PARAMS))
    assert res["level"] == pytest.approx(p["plateau_fraction"] * math.log(10))
    assert len(res["runs"]) == len(p["seeds"]) * len(p["betas"]) * len(p["eff_lrs"])
    for r in res["runs"]:
        assert r["lr"] == pytest.approx(r["eff_lr"] * (1 - r["beta"]))
        # "left the plateau" is the first measured loss at or below the level, and before it the loss is above
        t = r["steps"]
        assert t is not None
        i = r["curve_steps"].index(t)
        assert r["curve_loss"][i] <= res["level"] + 1e-4
        assert all(v > res["level"] for v in r["curve_loss"][:i])
    for s in res["starts"]:
        st = s["start"]
        assert st["loss"] == pytest.approx(math.log(10), abs=2e-3)
        assert st["lambda_min"] < 0 < st["lambda_max"]  # both signs: a saddle
        assert st["grad_norm"] * 10 < s["default_init"]["grad_norm"]


def test_summary_and_report_match_the_runs(record):
    summ = M.summary(record)
    for eff, row in summ.items():
        for beta, b in row["by_beta"].items():
            steps = [r["steps"] for r in sorted(record["results"]["runs"], key=lambda r: r["seed"])
                     if r["eff_lr"] == eff and r["beta"] == beta]
            assert b["steps"] == steps
            assert b["mean"] == pytest.approx(np.mean(steps))
            # 95 % t-interval, n − 1 degrees of freedom (8 seeds: t = 2.365)
            t = scipy.stats.t.ppf(0.975, len(steps) - 1)
            assert b["half"] == pytest.approx(t * np.std(steps, ddof=1) / np.sqrt(len(steps)))
        assert row["n_pairs"] == len(record["params"]["seeds"])
        assert row["diff_mean"] == pytest.approx(np.mean(row["diff"]))
    lines = M.report_lines(record)
    assert "both signs" in lines[1]
    assert "95 % t-interval, 8 seeds" in lines[2]
    assert sum(ln.startswith("η/(1−β) =") for ln in lines) == len(record["params"]["eff_lrs"])


@pytest.mark.recompute
def test_one_cached_run_recomputes(record):
    """The fastest run of the cache, trained again: the same update leaves the plateau.

    Exact on every CPU code path (issue 20, measured by ``scripts/portability_survey.py --recompute
    momentum_saddle`` on an Intel Xeon under default, avx2, SSE4.2, MKL_CBWR=COMPATIBLE, oneDNN AVX2 and
    avx512; the cache is from an AMD EPYC): 55 updates on all six paths, as cached, so equality stays."""
    from lecture_utils.data import load_mnist1d
    from lecture_utils.train import train_classifier

    p = record["params"]
    run = min(record["results"]["runs"], key=lambda r: r["steps"])
    data = load_mnist1d(seed=p["dataset"]["seed"]).subset(p["n_train"])
    r = train_classifier(data, batch_size=p["batch_size"], lr=run["lr"], seed=run["seed"],
                         momentum=run["beta"],
                         max_steps=p["max_steps"], target_train_loss=record["results"]["level"],
                         eval_every_steps=p["eval_every"], max_train_loss=p["blowup"],
                         init_state=M.scaled_init(run["seed"], p["scale"]), threads=p["threads"])
    assert M.steps_to_leave(r.history["step"], r.history["train_loss"],
                            record["results"]["level"]) == run["steps"]


def test_saddle_figure_marks_every_run(record):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lecture_utils.panels import momentum as panels

    fig = panels.plot_saddle_sweep(record)
    try:
        axes = fig.axes
        p = record["params"]
        assert len(axes) == len(p["eff_lrs"]) + 1
        n_curves = sum(len([ln for ln in ax.lines if len(ln.get_xdata()) > 2]) for ax in axes[:-1])
        assert n_curves == len(record["results"]["runs"])
        dots = sum(len(ln.get_xdata()) for ln in axes[-1].lines if ln.get_marker() == "o")
        assert dots == len(record["results"]["runs"])  # every run reached the level: one dot each
    finally:
        plt.close(fig)
