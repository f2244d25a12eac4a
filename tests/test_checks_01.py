"""Notebook 01's exercise checks: right answers pass, the common wrong ones fail with a message that
does not give the answer away."""
import numpy as np

from lecture_utils import checks, sweeps


def _says(capsys):
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    return out[0]


def test_updates_per_epoch(capsys):
    assert checks.check_updates_per_epoch(14) is True and _says(capsys).startswith("✓")
    assert checks.check_updates_per_epoch(...) is None and _says(capsys).startswith("○")
    for wrong, hint in [(13, "leaves 100 examples out"), (13.333, "not a whole number"),
                        (4000 / 300, "whole"),
                        (15, "count the batches"), ("14", "without quotes"), (float("nan"), "diverged")]:
        assert checks.check_updates_per_epoch(wrong) is False
        line = _says(capsys)
        assert line.startswith("×") and hint in line and "14" not in line.replace("'14'", "")


def test_epochs_in_time(capsys):
    record = sweeps.load("timing")
    res = record["results"]
    t = res["per_update_s"][res["batch_sizes"].index(512)]
    right = 1.0 / (t * 8)
    assert checks.check_epochs_in_time(right, record) is True and _says(capsys).startswith("✓")
    assert checks.check_epochs_in_time(right * 1.005, record) is True  # t read off the printed 4 digits
    _says(capsys)
    # the forgotten ceiling (N/B = 7.8 updates per epoch: 2.4 % more epochs) has its own hint, as in (a)
    forgot = 1.0 / (t * 4000 / 512)
    assert checks.check_epochs_in_time(forgot, record) is False
    line = _says(capsys)
    assert "round up" in line and f"{right:.3g}" not in line
    assert checks.check_epochs_in_time(round(forgot, 1), record) is False and "round up" in _says(capsys)
    assert checks.check_epochs_in_time(1.0 / t, record) is False and "updates" in _says(capsys)
    assert checks.check_epochs_in_time(1.0 / (t * 4000), record) is False and "one epoch" in _says(capsys)
    assert checks.check_epochs_in_time(right * 2, record) is False and "divide the time" in _says(capsys)
    assert checks.check_epochs_in_time(str(right), record) is False and "np.float64" not in _says(capsys)


def test_stable_lr_prediction(capsys):
    assert checks.check_stable_lr_prediction("smaller") is True and _says(capsys).startswith("✓")
    assert checks.check_stable_lr_prediction(" Smaller ") is True
    _says(capsys)
    for wrong in ("larger", "same"):
        assert checks.check_stable_lr_prediction(wrong) is False
        line = _says(capsys)
        assert "smaller" not in line and "raise η" in line
    assert checks.check_stable_lr_prediction(0.5) is False and "one of the words" in _says(capsys)
    assert checks.check_stable_lr_prediction(None) is None and _says(capsys).startswith("○")


def test_number_check_refuses_text_and_shows_plain_numbers(capsys):
    assert checks.check_number("updates", "8", 8) is False and "without quotes" in _says(capsys)
    assert checks.check_number("x", np.float64(7.0), 8) is False and "np.float64" not in _says(capsys)


def _my_batches(n, batch_size, seed, epoch):
    order = np.random.default_rng([seed, epoch]).permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def test_epoch_batches_right_and_common_slips(capsys):
    assert checks.check_epoch_batches(_my_batches) is True and _says(capsys).startswith("✓")
    assert checks.check_epoch_batches(lambda n, b, s, e: None) is None and _says(capsys).startswith("○")
    in_order = lambda n, b, s, e: [np.arange(n)[i:i + b] for i in range(0, n, b)]  # noqa: E731
    assert checks.check_epoch_batches(in_order) is False and "shuffle" in _says(capsys)
    same = lambda n, b, s, e: _my_batches(n, b, s, 0)  # noqa: E731
    assert checks.check_epoch_batches(same) is False and "reshuffle every epoch" in _says(capsys)


def test_epoch_batches_refuses_the_library_function(capsys):
    """Returning (or merely calling) the imported epoch_batches does not pass: 'write it yourself'."""
    import functools

    from lecture_utils import data
    from lecture_utils.data import epoch_batches

    def wraps_it(n, batch_size, seed, epoch):
        return epoch_batches(n, batch_size, seed=seed, epoch=epoch)

    def via_module(n, batch_size, seed, epoch):
        return list(data.epoch_batches(n, batch_size, seed=seed, epoch=epoch))

    def nested(n, batch_size, seed, epoch):
        def inner():
            return data.batch_assignment(n, batch_size, seed=seed, epochs=1)
        return _my_batches(n, batch_size, seed, epoch) if n else inner()

    for fn in (epoch_batches, wraps_it, via_module, nested, functools.partial(epoch_batches),
               lambda n, b, s, e: epoch_batches(n, b, seed=s, epoch=e)):
        assert checks.check_epoch_batches(fn) is False, fn
        line = _says(capsys)
        assert line.startswith("×") and "write it yourself" in line
