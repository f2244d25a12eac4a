"""The closing scorecard (notebook 06, lecture_utils/scorecard.py): its numbers are the ones the notebooks
compute with the same functions, its verdicts follow the stated rules, and every link names a heading
that exists."""
import json
import re

import pytest
from course_files import ROOT

from lecture_utils import scorecard, stats, sweeps


@pytest.fixture(scope="module")
def rows():
    return {r["key"]: r for r in scorecard.rows()}


@pytest.mark.parametrize("key", sorted(scorecard.LINKS))
def test_every_link_names_a_heading_of_its_notebook(key):
    nb, text = scorecard.LINKS[key]
    assert (ROOT / "notebooks" / nb).is_file(), nb
    bare = [scorecard.bare(h) for h in scorecard.headings(nb)]
    assert text in bare, f"{nb} has no heading {text!r} (update scorecard.LINKS): {bare}"
    label, target = scorecard.link(key)
    assert target.startswith(nb + "#") and " " not in target


def test_the_stored_table_of_notebook_06_links_the_current_headings():
    cells = json.loads((ROOT / "notebooks" / "06_scorecard.ipynb").read_text())["cells"]
    stored = "".join("".join(o.get("data", {}).get("text/markdown", "")) for c in cells
                     if c["cell_type"] == "code" for o in c["outputs"])
    for key in scorecard.LINKS:
        _, target = scorecard.link(key)
        assert f"]({target})" in stored, f"re-execute notebooks/06_scorecard.ipynb: link {target} is stale"


def test_tuned_gap_is_what_notebook_04_computes(rows):
    from lecture_utils.panels import have_both as hb

    mine = rows["have_both"]["tuned"]["ci"]
    theirs = next(d for d in hb.tuned_differences(sweeps.load("tuned_lr")) if d["batch_size"] == 512)["ci"]
    assert (mine.mean, mine.half, mine.n) == (theirs.mean, theirs.half, theirs.n)
    line = f"{theirs.mean:+.3f} ± {theirs.half:.3f}".replace("-", "−")
    assert line in scorecard.markdown_table(list(rows.values()))
    assert line in hb.tuned_verdict(sweeps.load("tuned_lr")).replace("-", "−")


def test_fixed_gap_is_what_notebook_03_computes(rows):
    from lecture_utils.panels.generalization import gap_interval
    from lecture_utils.sweeps.generalization import batch_key

    record = sweeps.load("generalization")
    gap = gap_interval(record)
    assert rows["generalization"]["gap"] == gap
    res = record["results"]
    sb, lb = ([r["test_acc"] for r in res["runs"][batch_key(res["gap"][k])]] for k in ("sb", "lb"))
    assert stats.paired_diff_ci(sb, lb) == gap


def test_momentum_saddle_is_what_notebook_05_computes(rows):
    from lecture_utils.sweeps import momentum_saddle

    record = sweeps.load("momentum_saddle")
    eff = max(record["params"]["eff_lrs"])
    assert rows["momentum"]["diff"] == momentum_saddle.summary(record)[eff]["diff_ci"]
    steps = {b: [r["steps"] for r in sorted(record["results"]["runs"], key=lambda r: r["seed"])
                 if r["eff_lr"] == eff and r["beta"] == b] for b in (0.0, 0.9)}
    assert rows["momentum"]["diff"] == stats.paired_diff_ci(steps[0.9], steps[0.0])


def test_noise_row_is_notebook_02s_training_table(rows):
    from lecture_utils.panels.noisy import training_stats

    full = next(r for r in training_stats(sweeps.load("noisy_training")["results"]) if r["full"])
    assert rows["noise"]["full"] == full["loss_matched"] and rows["noise"]["start"] == full["loss_start"]
    toy = rows["noise"]["toy"]
    assert toy[0][0] == "1" and toy[1][0] == "full" and 0 <= toy[1][2] <= toy[0][2] <= 1


def test_speed_row_is_the_race_clock(rows):
    from lecture_utils.race import clock_rows

    cr = clock_rows(sweeps.load("timing"), sweeps.load("time_to_accuracy"))
    t1, tb = cr[0]["race_mean"].values, cr[-1]["race_mean"].values
    ratio = stats.mean_ci([tb[s] / t1[s] for s in sorted(t1)])
    assert rows["speed"]["update_ratio"] == ratio
    assert rows["speed"]["toy_updates"] == (20, 1)


def _ci(mean, half, n=3):
    return stats.MeanCI(mean, half, n, 0.95)


def test_verdict_rules(monkeypatch):
    """The rules on made-up intervals: the verdict follows the numbers, not the text."""
    tuned = {"batch_size": 512, "ci": _ci(-0.002, 0.014), "base": {"lr": 0.4}}
    monkeypatch.setattr(scorecard, "tuned_gap", lambda batch_size=512: tuned)
    assert scorecard.have_both()["verdict"] == scorecard.HOLDS
    tuned["ci"] = _ci(-0.05, 0.01)
    assert scorecard.have_both()["verdict"] == scorecard.NOT_HERE
    tuned["ci"] = _ci(0.05, 0.01)          # a tuned gap that stays: the fixed-η gap then holds outright
    assert scorecard.generalization()["verdict"] in (scorecard.HOLDS, scorecard.NOT_HERE)


def test_table_and_key_results_are_text_at_stable_precision(rows):
    table = scorecard.markdown_table(list(rows.values()))
    assert table.count("\n") == 1 + len(scorecard.LINKS)
    for r in rows.values():
        assert r["verdict"] in (scorecard.HOLDS, scorecard.CONDITION, scorecard.NOT_HERE)
    key = scorecard.key_results(list(rows.values()))
    assert len(key) == 6
    # no number printed with more than 3 decimals (other CPUs could flip a 4th)
    assert not re.search(r"\d\.\d{4}", table + "".join(key))
