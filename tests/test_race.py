import math

import numpy as np
import pytest

from lecture_utils import race as R
from lecture_utils import sweeps
from lecture_utils.data import N_TRAIN
from lecture_utils.panels import batches as P


def test_lr_rule_is_linear_then_capped():
    assert R.race_lr(32) == pytest.approx(0.1)
    assert R.race_lr(1) == pytest.approx(0.1 / 32)
    assert R.race_lr(128) == pytest.approx(0.4)
    assert R.race_lr(512) == pytest.approx(1.6) and R.race_lr(4000) == pytest.approx(1.6)
    with pytest.raises(ValueError, match="batch_size"):
        R.race_lr(0)


def test_eval_steps_are_log_spaced_integers():
    s = R.eval_steps(1000)
    assert s[:4] == [1, 2, 3, 4] and s[-1] <= 1000 and s == sorted(set(s))
    ratios = np.array(s[10:]) / np.array(s[9:-1])
    assert np.all(ratios < 1.35) and np.all(ratios > 1.15)


def _run(b, seed, seconds, acc, loss=None, status="completed"):
    steps = list(range(1, len(seconds) + 1))
    return {"batch_size": b, "lr": R.race_lr(b), "seed": seed, "status": status, "seconds": seconds,
            "steps": steps, "epochs": [k * b / N_TRAIN for k in steps],
            "train_loss": loss or [2.0 / k for k in steps], "test_acc": acc}


def test_summaries_on_synthetic_runs():
    runs = [_run(32, 0, [0.1, 0.2, 0.4], [0.3, 0.55, 0.62]), _run(32, 1, [0.1, 0.3, 0.5], [0.2, 0.45, 0.58]),
            _run(4000, 0, [0.2, 0.4], [0.2, 0.3]), _run(4000, 1, [0.2, 0.4], [0.25, 0.35])]
    s = R.summarize(runs, time_budget=0.5, targets=(0.5, 0.6))
    assert s[32]["seconds_to_0.5"][:2] == pytest.approx((0.35, 0.15))  # 0.2 and 0.5 s
    assert s[32]["reached_0.6"] == 1 and s[32]["seconds_to_0.6"] == (pytest.approx(0.4), 0.0, 1)
    assert s[4000]["reached_0.5"] == 0 and math.isnan(s[4000]["seconds_to_0.5"][0])
    assert s[32]["final_test_acc"][0] == pytest.approx(0.60) and s[32]["final_test_acc"][2] == 2
    assert R.first_reach([1, 2, 3], [0.1, 0.5, 0.7], 0.6) == 3 and R.first_reach([1], [0.1], 0.6) == math.inf
    assert R.value_at([1, 2, 3], [10, 20, 30], 2.5) == 20 and math.isnan(R.value_at([1, 2], [1, 2], 0.5))
    mean, se = R.curve_band(runs[:2], "seconds", "test_acc", [0.05, 0.15, 0.35, 0.45])
    assert math.isnan(mean[0]) and mean[1] == pytest.approx(0.25) and mean[2] == pytest.approx(0.5)
    assert se[2] == pytest.approx(0.05) and math.isnan(mean[3])  # run 0 ended at 0.4 s
    text = P.race_table(runs, time_budget=0.5)
    assert "never" in text and "0.35 ± 0.15" in text


def test_a_short_real_race_stops_past_its_budget_and_logs_curves(mnist):
    # no clock assertion beyond the budget rule itself: the last point is where the clock passed T
    run = R.race_one(mnist, 128, time_budget=0.05, seed=0)
    assert run.status == "completed" and run.lr == pytest.approx(0.4)
    assert run.seconds[-1] > 0.05 and run.steps == sorted(run.steps) and run.steps[0] == 1
    assert np.all(np.diff(run.seconds) >= 0)
    assert run.epochs[-1] == pytest.approx(run.steps[-1] * 128 / 4000)
    assert all(0 <= a <= 1 for a in run.test_acc) and run.train_loss[0] > 2.0
    with pytest.raises(ValueError, match="time_budget"):
        R.race_one(mnist, 8, time_budget=0)


def test_cached_race_is_complete_and_figure_draws():
    record = sweeps.load("time_to_accuracy")
    p, res = record["params"], record["results"]
    assert len(res["runs"]) == len(p["batch_sizes"]) * len(p["seeds"])
    for r in res["runs"]:
        assert r["lr"] == pytest.approx(R.race_lr(r["batch_size"]))
        assert r["seconds"][-1] >= p["time_budget_s"] or r["status"] == "diverged"
    # gradient noise falls with B: the cosine to the full gradient rises to 1 at the full batch
    cos = res["noise"]["mean_cosine"]
    assert all(a < b for a, b in zip(cos, cos[1:])) and cos[-1] == pytest.approx(1.0)
    assert {"load_before", "load_after", "cpus"} <= set(res["machine"])
    fig = P.race_figure(res["runs"], time_budget=p["time_budget_s"])
    assert len(fig.axes) == 6 and all(ax.lines for ax in fig.axes)


def test_compare_and_parallel_limit():
    assert R.compare((1.0, 0.1, 4), (2.0, 0.1, 4)) == "lower"
    assert R.compare((2.0, 0.1, 4), (1.0, 0.1, 4)) == "higher"
    assert R.compare((1.0, 0.4, 4), (1.5, 0.4, 4)) == "indistinguishable"
    assert R.compare((float("nan"), 0, 0), (1.0, 0.1, 4)) == "not measured"
    assert R.parallel_limit([1, 4, 16, 64, 256], [1.0, 1.1, 1.9, 2.5, 9.0]) == 16
    assert R.parallel_limit([1, 4], [1.0, 3.0]) == 1


def test_lecture_table_is_computed_from_the_caches():
    timing, race = sweeps.load("timing"), sweeps.load("time_to_accuracy")
    rows = R.lecture_table(timing, race)
    assert [r["aspect"] for r in rows] == ["time per update, no parallelism",
                                           "time per update, with parallelism", "time per epoch", "gradient",
                                           "optimization (training loss)", "generalization (test accuracy)"]
    t = timing["results"]
    ratio = t["per_update_s"][-1] / t["per_update_s"][0]
    assert f"{ratio:.0f} × t(1)" in rows[1]["evidence"]
    assert f"B = {R.parallel_limit(t['batch_sizes'], t['per_update_s'])}" in rows[1]["evidence"]
    assert rows[2]["measured"] == "small slower · large faster"
    cos = race["results"]["noise"]["mean_cosine"]
    assert f"B = 1: {cos[0]:.2f}" in rows[3]["evidence"] and rows[3]["measured"] == "noisy · stable"
    assert "4 seeds" in rows[4]["evidence"] and "4 seeds" in rows[5]["evidence"]
    md = R.table_markdown(rows)
    assert md.count("\n") == len(rows) + 1 and "np.float64" not in md
    # a GPU in the timing cache is quoted in the parallelism row
    fake = {"device": "FakeGPU", "per_update_s": [1e-4] * len(t["batch_sizes"]),
            "per_epoch_s": t["per_epoch_s"]}
    gpu = {**timing, "results": {**t, "cuda": fake}}
    assert "GPU (FakeGPU): ≤ 2 × t(1) up to B = 4000" in R.lecture_table(gpu, race)[1]["evidence"]


def test_race_uses_the_threads_it_is_given_and_restores_the_callers(mnist):
    import torch

    before = torch.get_num_threads()
    run = R.race_one(mnist, 512, time_budget=0.02, seed=0, threads=1)
    assert torch.get_num_threads() == before and run.steps
    with pytest.raises(ValueError, match="threads"):
        R.race_one(mnist, 512, time_budget=0.02, threads=0)
