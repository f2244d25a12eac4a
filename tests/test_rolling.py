"""lecture_utils.rolling: where the ball ends, from the one momentum rule of optim (bit for bit)."""
import numpy as np
import pytest

from lecture_utils import checks, rolling
from lecture_utils.landscapes import LOCAL_GLOBAL, SADDLE
from lecture_utils.optim import momentum_path, momentum_runs, momentum_trace


def _same_bits(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def _final_positions_before_rolling(lr, betas, theta0=4.0, steps=600, landscape=LOCAL_GLOBAL):
    """The loop panels/momentum.py ran before the rule moved to optim.momentum_runs (commit 5c45f51), kept
    as the reference that the numbers did not change."""
    betas = np.asarray(betas, dtype=float)[:, None]
    theta = np.full_like(betas, float(theta0))
    m = np.zeros_like(theta)
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            m = betas * m - lr * landscape.grad(theta)
            theta = theta + m
            theta[np.abs(theta) > 1e6] = np.nan
    bad = ~np.isfinite(theta)
    return np.where(bad, np.nan, theta)[:, 0], np.where(bad, np.nan, np.abs(m))[:, 0]


@pytest.mark.parametrize("lr", [0.01, 0.0316, 0.1, 0.316, 0.7079457843841406, 1.0, 3.0])
def test_final_positions_are_bit_identical_to_the_loop_they_replace(lr):
    new, old = rolling.final_positions(lr), _final_positions_before_rolling(lr, rolling.BETA_GRID)
    assert _same_bits(new[0], old[0]) and _same_bits(new[1], old[1])


@pytest.mark.parametrize("lr", [0.01, 0.1, 1.0])
def test_momentum_runs_rows_are_the_one_beta_rule(lr):
    """The vectorised runs and the one-β rule are the same update: equal to rounding (a batch's gradient
    may differ from one point's in the last bit), diverged runs NaN at the same steps; the ends only
    (every_step=False) are the last rows of the full runs, bit for bit."""
    betas = rolling.BETA_GRID[::7]
    theta, move = momentum_runs(LOCAL_GLOBAL.grad, [rolling.LOCAL_THETA0], lr=lr, betas=betas,
                                steps=rolling.LOCAL_STEPS)
    for k, beta in enumerate(betas):
        tr = momentum_trace(LOCAL_GLOBAL.grad, [rolling.LOCAL_THETA0], lr=lr, beta=beta,
                            steps=rolling.LOCAL_STEPS)
        row = theta[:, k, 0]
        assert np.array_equal(np.isnan(row), np.isnan(tr.theta[:, 0])), beta
        np.testing.assert_allclose(row, tr.theta[:, 0], rtol=0, atol=1e-9)
    end, end_move = momentum_runs(LOCAL_GLOBAL.grad, [rolling.LOCAL_THETA0], lr=lr, betas=betas,
                                  steps=rolling.LOCAL_STEPS, every_step=False)
    assert _same_bits(end, theta[-1]) and _same_bits(end_move, move[-1])


def test_final_positions_numbers_and_rolled_past():
    finals, _ = rolling.final_positions(0.1)
    assert finals.shape == (100,)
    gd = momentum_path(LOCAL_GLOBAL.grad, [4.0], lr=0.1, beta=0.0, steps=600)[-1, 0]
    assert finals[0] == gd and abs(gd - LOCAL_GLOBAL.local_min) < 1e-6      # gradient descent: trapped
    scan = rolling.beta_scan(0.1)
    past = scan.rolled_past()
    assert np.array_equal(past, rolling.BETA_GRID[np.isfinite(finals) & (finals < LOCAL_GLOBAL.barrier)])
    assert 0 < len(past) < 100 and 0.0 not in past


def test_momentum_runs_marks_diverged_runs_nan_and_checks_betas():
    theta, move = momentum_runs(LOCAL_GLOBAL.grad, [4.0], lr=3.0, betas=[0.0, 0.9], steps=50)
    assert theta.shape == (51, 2, 1) and move.shape == (51, 2, 1)
    # gradient descent doubles |θ| each step (1 − 3·k = −2) and diverges; β = 0.9 stays bounded here
    first = np.argmax(np.isnan(theta[:, 0, 0]))
    assert first > 0 and np.all(np.abs(theta[first - 1, 0]) <= 1e6)
    assert np.isnan(theta[first:, 0]).all() and np.isnan(move[first:, 0]).all()
    assert np.isfinite(theta[:, 1]).all()
    tr = momentum_trace(LOCAL_GLOBAL.grad, [4.0], lr=3.0, beta=0.0, steps=50)
    assert tr.diverged_at == first
    with pytest.raises(ValueError, match="betas"):
        momentum_runs(LOCAL_GLOBAL.grad, [4.0], lr=0.1, betas=[0.5, 1.0], steps=5)
    with pytest.raises(ValueError, match="lr"):
        momentum_runs(LOCAL_GLOBAL.grad, [4.0], lr=0.0, betas=[0.5], steps=5)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.6, 0.9])
def test_where_ball_stops_is_the_basin_of_the_last_step(beta):
    """Exercise 3's answers (η = 0.1, θ⁰ = 4, 600 steps) come from the same rule as the panel."""
    th = momentum_path(LOCAL_GLOBAL.grad, [4.0], lr=0.1, beta=beta, steps=600)[-1, 0]
    want = "global" if th < LOCAL_GLOBAL.barrier else "local"
    assert rolling.where_ball_stops(0.1, beta) == want
    assert checks.where_ball_stops(0.1, beta) == want          # the name the checks module keeps
    assert rolling.rest_place([[5.0], [th]])[0] == want
    assert [rolling.where_ball_stops(0.1, b) for b in (0.0, 0.9)] == ["local", "global"]


def test_rest_place_and_steps_to_leave():
    assert rolling.rest_place([[3.0], [np.nan]]) == ("diverged", False)
    assert rolling.rest_place([[0.5], [0.4]]) == ("global", True)
    assert rolling.rest_place([[2.9], [2.9]]) == ("local", False)
    with pytest.raises(ValueError, match="tol"):
        rolling.rest_place([[1.0], [1.0]], tol=0.0)
    gd = momentum_path(SADDLE.grad, rolling.SADDLE_THETA0, lr=0.1, beta=0.0, steps=150)
    mo = momentum_path(SADDLE.grad, rolling.SADDLE_THETA0, lr=0.1, beta=0.9, steps=150)
    t_gd, t_mo = rolling.steps_to_leave(gd), rolling.steps_to_leave(mo)
    assert t_mo is not None and (t_gd is None or t_mo < t_gd)
    along = np.abs(mo @ SADDLE.escape_direction)
    assert along[t_mo] > rolling.LEAVE and np.all(along[:t_mo] <= rolling.LEAVE)
    with pytest.raises(ValueError, match="radius"):
        rolling.steps_to_leave(mo, radius=-1.0)


def test_wilson_interval_is_named_here_with_one_home():
    from lecture_utils import landscapes

    assert rolling.wilson_interval is landscapes.wilson_interval
    lo, hi = rolling.wilson_interval(0, 10)
    assert lo == 0.0 and 0.25 < hi < 0.35
