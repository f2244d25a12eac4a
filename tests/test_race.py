import math

import numpy as np
import pytest

from lecture_utils import race as R
from lecture_utils import sweeps
from lecture_utils.data import N_TRAIN
from lecture_utils.panels import batches as P


def _critical(best):
    """A critical_batch-like record: {B: [best η of each seed]}."""
    seeds = [0, 1, 2]
    return {"params": {"batch_sizes": sorted(best), "seeds": seeds},
            "results": {"runs": {f"{b}|{s}": {"best_lr": v}
                                 for b, vs in best.items() for s, v in zip(seeds, vs)}}}


def test_race_lrs_are_tuned_per_batch_size_and_say_where_they_come_from():
    rec = _critical({8: [0.2, 0.2, 0.4], 32: [0.8, None, 0.8], 128: [1.6, 1.6, 1.6]})
    assert R.tuned_lrs(rec) == {8: 0.2, 32: 0.8, 128: 1.6}  # median over the seeds that reached
    lrs = R.race_lrs([1, 8, 16, 32, 128, 4000], rec)
    assert lrs == [(pytest.approx(0.025), "η/B of B = 8"), (0.2, "tuned"),
                   (pytest.approx(0.4), "η/B of B = 8"), (0.8, "tuned"), (1.6, "tuned"),
                   (1.6, "η of B = 128")]
    # between grid points the η/B of the smaller one, never above the largest tuned η
    assert R.race_lrs([100], rec)[0] == (pytest.approx(1.6), "η/B of B = 32")
    with pytest.raises(ValueError, match="batch_size"):
        R.race_lr(0)
    with pytest.raises(ValueError, match="record"):
        R.tuned_lrs(_critical({8: [None, None, None]}))


def test_the_cached_race_ran_at_the_tuned_lrs_of_the_critical_batch_cache():
    p = sweeps.module("time_to_accuracy").PARAMS
    lrs = R.race_lrs(p["batch_sizes"])
    assert p["lrs"] == [pytest.approx(v) for v, _ in lrs]
    assert [s for _, s in lrs] == ["η/B of B = 8", "tuned", "tuned", "tuned", "tuned", "η of B = 512"]


def test_eval_steps_are_log_spaced_integers():
    s = R.eval_steps(1000)
    assert s[:4] == [1, 2, 3, 4] and s[-1] <= 1000 and s == sorted(set(s))
    ratios = np.array(s[10:]) / np.array(s[9:-1])
    assert np.all(ratios < 1.35) and np.all(ratios > 1.15)


def _run(b, seed, seconds, acc, loss=None, status="completed"):
    steps = list(range(1, len(seconds) + 1))
    return {"batch_size": b, "lr": 0.1, "lr_source": "given", "seed": seed, "status": status,
            "median_update_s": seconds[0], "seconds": seconds,
            "steps": steps, "epochs": [k * b / N_TRAIN for k in steps],
            "train_loss": loss or [2.0 / k for k in steps], "test_acc": acc}


def test_summaries_on_synthetic_runs():
    runs = [_run(32, 0, [0.1, 0.2, 0.4], [0.3, 0.55, 0.62]), _run(32, 1, [0.1, 0.3, 0.5], [0.2, 0.45, 0.58]),
            _run(4000, 0, [0.2, 0.4], [0.2, 0.3]), _run(4000, 1, [0.2, 0.4], [0.25, 0.35])]
    s = R.summarize(runs, time_budget=0.5, targets=(0.5, 0.6))
    # 0.2 and 0.5 s: mean 0.35, 95 % t-interval with 1 dof: t = 12.706, s/√n = 0.15
    ci = s[32]["seconds_to_0.5"].ci
    assert (ci.mean, ci.half, ci.n) == (pytest.approx(0.35), pytest.approx(12.706 * 0.15, rel=1e-3), 2)
    assert s[32]["reached_0.6"] == 1 and s[32]["seconds_to_0.6"].values == {0: pytest.approx(0.4)}
    assert s[32]["seconds_to_0.6"].text(".2f") == "0.40"  # one seed: no interval
    assert s[4000]["reached_0.5"] == 0 and math.isnan(s[4000]["seconds_to_0.5"].mean)
    assert s[4000]["seconds_to_0.5"].text() == "–"
    assert s[32]["final_test_acc"].mean == pytest.approx(0.60) and s[32]["final_test_acc"].n == 2
    assert s[32]["median_update_s"].values == {0: 0.1, 1: 0.1} and s[32]["lr_source"] == "given"
    assert R.first_reach([1, 2, 3], [0.1, 0.5, 0.7], 0.6) == 3 and R.first_reach([1], [0.1], 0.6) == math.inf
    assert R.value_at([1, 2, 3], [10, 20, 30], 2.5) == 20 and math.isnan(R.value_at([1, 2], [1, 2], 0.5))
    mean, half = R.curve_band(runs[:2], "seconds", "test_acc", [0.05, 0.15, 0.35, 0.45])
    assert math.isnan(mean[0]) and mean[1] == pytest.approx(0.25) and mean[2] == pytest.approx(0.5)
    assert half[2] == pytest.approx(12.706 * 0.05, rel=1e-3) and math.isnan(mean[3])  # run 0 ended at 0.4 s
    _, half1 = R.curve_band(runs[:1], "seconds", "test_acc", [0.15])
    assert math.isnan(half1[0])  # one run: no band
    text = P.race_table(runs, time_budget=0.5)
    assert "never" in text and "0.35 ± 1.91" in text and "95 % t-interval over seeds [0, 1]" in text


class _Ticks:
    """A clock for the race that moves ``tick`` seconds each time it is read: the run's training is real,
    its time is counted in events (clock readings), so the test gives the same run on a busy machine."""

    def __init__(self, tick):
        self.tick, self.now = tick, 0.0

    def perf_counter(self):
        self.now += self.tick
        return self.now


def test_a_short_real_race_stops_past_its_budget_and_logs_curves(mnist, monkeypatch):
    """Real training, a counted clock (a wall clock gave a 0.05 s race no update between two
    evaluations on a loaded machine, hence no median): 0.7 ms per clock reading, one per backward pass
    and one per evaluation, a 0.05 s budget: 72 updates, the first 6 each evaluated, later ones with
    updates between evaluations (whose intervals give the median)."""
    ticks = _Ticks(7e-4)
    monkeypatch.setattr(R, "time", ticks)
    run = R.race_one(mnist, 128, time_budget=0.05, seed=0)
    assert run.status == "completed" and run.lr == pytest.approx(R.race_lr(128)) and run.lr_source == "tuned"
    # one update between two backward passes without an evaluation: one reading of the clock
    assert run.median_update_s == pytest.approx(7e-4)
    # the budget rule: the last point is where the clock passed T, one update past it at most
    assert 0.05 < run.seconds[-1] <= 0.05 + 7e-4 + 1e-9
    assert run.steps == sorted(run.steps) and run.steps[0] == 1 and run.steps[-1] > 8
    assert np.all(np.diff(run.seconds) >= 0)
    assert run.epochs[-1] == pytest.approx(run.steps[-1] * 128 / 4000)
    assert all(0 <= a <= 1 for a in run.test_acc) and run.train_loss[0] > 2.0
    with pytest.raises(ValueError, match="time_budget"):
        R.race_one(mnist, 8, time_budget=0)


def test_cached_race_is_complete_and_figure_draws():
    record = sweeps.load("time_to_accuracy")
    p, res = record["params"], record["results"]
    assert len(res["runs"]) == len(p["batch_sizes"]) * len(p["seeds"])
    lrs = dict(zip(p["batch_sizes"], p["lrs"]))
    for r in res["runs"]:
        assert r["lr"] == pytest.approx(lrs[r["batch_size"]]) and r["lr_source"]
        assert r["seconds"][-1] >= p["time_budget_s"] or r["status"] == "diverged"
        assert 0 < r["median_update_s"] <= r["seconds"][-1] / r["steps"][-1] * 1.5
    # gradient noise falls with B: the cosine to the full gradient rises to 1 at the full batch
    cos = res["noise"]["mean_cosine"]
    assert all(a < b for a, b in zip(cos, cos[1:])) and cos[-1] == pytest.approx(1.0)
    assert {"load_before", "load_after", "cpus"} <= set(res["machine"])
    fig = P.race_figure(res["runs"], time_budget=p["time_budget_s"])
    assert len(fig.axes) == 6 and all(ax.lines for ax in fig.axes)


def test_compare_pairs_the_seeds():
    a = R.SeedValues({0: 1.0, 1: 1.1, 2: 0.9, 3: 1.0})
    b = R.SeedValues({0: 2.0, 1: 2.2, 2: 1.9, 3: 2.1})
    assert R.compare(a, b) == "lower" and R.compare(b, a) == "higher"
    # a seed-to-seed spread larger than the difference: the paired interval still sees a steady shift
    c = R.SeedValues({0: 1.0, 1: 3.0, 2: 5.0, 3: 7.0})
    d = R.SeedValues({0: 1.1, 1: 3.1, 2: 5.2, 3: 7.1})
    assert R.compare(c, d) == "lower"
    e = R.SeedValues({0: 1.0, 1: 2.0, 2: 1.5})
    f = R.SeedValues({0: 1.4, 1: 1.6, 2: 1.5})
    assert R.compare(e, f) == "indistinguishable"
    assert R.compare(R.SeedValues({}), a) == "not measured"
    assert R.compare(R.SeedValues({0: 1.0}), R.SeedValues({0: 2.0})) == "not measured"  # one pair


def test_parallel_limit():
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
    assert all("95 % t-interval, 4 seeds" in rows[i]["evidence"] for i in (4, 5))
    assert f"median of {timing['params']['repeats']} updates" in rows[1]["evidence"]
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


def test_clock_table_sets_the_race_clock_beside_the_timing_cache():
    timing, race = sweeps.load("timing"), sweeps.load("time_to_accuracy")
    rows = R.clock_rows(timing, race)
    t = dict(zip(timing["results"]["batch_sizes"], timing["results"]["per_update_s"]))
    assert [r["batch_size"] for r in rows] == [b for b in race["params"]["batch_sizes"] if b in t]
    for r in rows:
        assert r["timing_median"] == t[r["batch_size"]]
        assert r["race_mean"].n == r["race_median"].n == len(race["params"]["seeds"])
    text = R.clock_table(timing, race)
    assert text.count("\n") == len(rows) + 1 and "95 % t-interval over 4 seeds" in text



def test_loss_after_an_epoch_and_eta_over_b():
    runs = [_run(32, 0, [0.1, 0.2, 0.4], [0.3, 0.55, 0.62], loss=[2.0, 1.5, 1.0]),
            _run(32, 1, [0.1, 0.3, 0.5], [0.2, 0.45, 0.58], loss=[2.2, 1.7, 1.2]),
            _run(4000, 0, [0.2, 0.4], [0.2, 0.3], loss=[2.3, 2.2]), _run(4000, 1, [0.2], [0.25], loss=[2.3])]
    # B = 32: epochs k·32/4000 = 0.008, 0.016, 0.024; B = 4000: 1, 2 epochs
    at = R.loss_at_epochs(runs, 0.02)
    assert at[32].values == {0: 1.5, 1: 1.7} and at[4000].n == 0
    at = R.loss_at_epochs(runs, 2.0)
    assert at[4000].values == {0: 2.2} and at[32].n == 0  # seed 1 of B = 4000 stopped after one epoch
    text = R.per_epoch_text(runs, 2.0)
    assert "B = 32 (η/B = 1/320): – (0 of 2 seeds got that far)" in text
    assert "B = 4000 (η/B = 1/40000): 2.20 (1 of 2 seeds got that far)" in text


def test_the_think_answer_of_section_5_quotes_the_caches():
    """Notebook 01 §5's hidden answer quotes the race cache's per-update and per-epoch losses (not wall-clock:
    they do not change when the race is rebuilt on the same CPU path) and the timing cache's t(512)/t(8)."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "notebooks" / "01_batches_and_epochs.ipynb"
    nb = json.loads(path.read_text())
    text = next("".join(c["source"]) for c in nb["cells"] if c.get("id") == "5ec29b40")
    answer = text[text.index("<details>"):]
    race = sweeps.load("time_to_accuracy")["results"]["runs"]
    t = sweeps.load("timing")["results"]
    t = dict(zip(t["batch_sizes"], t["per_update_s"]))

    def after_100_updates(b):
        rs = [r for r in race if r["batch_size"] == b]
        return R.SeedValues.of([r["seed"] for r in rs],
                               [R.value_at(r["steps"], r["train_loss"], 100) for r in rs])

    epoch = R.loss_at_epochs(race, 1.0)
    for number in (after_100_updates(8).text(".2f"), after_100_updates(512).text(".2f"),
                   epoch[8].text(".2f"), epoch[512].text(".2f"), f"{t[512] / t[8]:.1f}×"):
        assert number in answer


def test_race_verdict_names_the_best_batch_size_with_its_interval():
    record = sweeps.load("time_to_accuracy")
    text = R.race_verdict(record)
    summ = R.summarize(record["results"]["runs"], time_budget=record["params"]["time_budget_s"])
    best = max(summ, key=lambda b: summ[b]["best_test_acc"].mean)
    assert f"highest at B = {best} ({summ[best]['best_test_acc'].text('.3f')})" in text
    assert "B = 1:" in text and "B = 4000:" in text and "95 % t-interval, 4 seeds" in text
