"""Notebook 01's exercise checks: right answers pass, the common wrong ones fail with a message that
does not give the answer away."""
import numpy as np

from lecture_utils import checks, sweeps


def _says(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return out[0]


def test_updates_per_epoch(capsys):
    assert checks.check_updates_per_epoch(14) is True and _says(capsys).startswith("✅")
    assert checks.check_updates_per_epoch(...) is None and _says(capsys).startswith("⏳")
    for wrong, hint in [(13, "leaves 100 examples out"), (13.333, "not a whole number"),
                        (4000 / 300, "whole"),
                        (15, "count the batches"), ("14", "without quotes"), (float("nan"), "diverged")]:
        assert checks.check_updates_per_epoch(wrong) is False
        line = _says(capsys)
        assert line.startswith("❌") and hint in line and "14" not in line.replace("'14'", "")


def test_epochs_in_time(capsys):
    record = sweeps.load("timing")
    res = record["results"]
    t = res["per_update_s"][res["batch_sizes"].index(512)]
    right = 1.0 / (t * 8)
    assert checks.check_epochs_in_time(right, record) is True and _says(capsys).startswith("✅")
    assert checks.check_epochs_in_time(right * 1.02, record) is True  # t read off a table with 3 digits
    _says(capsys)
    assert checks.check_epochs_in_time(1.0 / t, record) is False and "updates" in _says(capsys)
    assert checks.check_epochs_in_time(1.0 / (t * 4000), record) is False and "one epoch" in _says(capsys)
    assert checks.check_epochs_in_time(right * 2, record) is False and "divide the time" in _says(capsys)
    assert checks.check_epochs_in_time(str(right), record) is False and "np.float64" not in _says(capsys)


def test_stable_lr_prediction(capsys):
    assert checks.check_stable_lr_prediction("smaller") is True and _says(capsys).startswith("✅")
    assert checks.check_stable_lr_prediction(" Smaller ") is True
    _says(capsys)
    for wrong in ("larger", "same"):
        assert checks.check_stable_lr_prediction(wrong) is False
        line = _says(capsys)
        assert "smaller" not in line and "raise η" in line
    assert checks.check_stable_lr_prediction(0.5) is False and "one of the words" in _says(capsys)
    assert checks.check_stable_lr_prediction(None) is None and _says(capsys).startswith("⏳")


def test_number_check_refuses_text_and_shows_plain_numbers(capsys):
    assert checks.check_number("updates", "8", 8) is False and "without quotes" in _says(capsys)
    assert checks.check_number("x", np.float64(7.0), 8) is False and "np.float64" not in _says(capsys)
