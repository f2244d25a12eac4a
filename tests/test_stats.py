"""lecture_utils.stats: the one "mean ± interval" helper (issue 19) — numbers against hand values
(t-table quantiles) and scipy's own interval, the texts, and the refusals."""
import math

import numpy as np
import pytest
from scipy import stats as scipy_stats

from lecture_utils import stats
from lecture_utils.stats import MeanCI, binomial_se, mean_ci, paired_diff_ci

# Student-t quantiles t_{0.975, dof} from a printed t-table (dof 1, 2, 4, 9).
T975 = {1: 12.706204736, 2: 4.302652730, 4: 2.776445105, 9: 2.262157163}


def test_mean_ci_by_hand_three_seeds():
    ci = mean_ci([1.0, 2.0, 3.0])  # x̄ = 2, s = 1, half = 4.3027 / √3
    assert ci.n == 3 and ci.confidence == 0.95
    assert ci.mean == pytest.approx(2.0, abs=1e-15)
    assert ci.half == pytest.approx(T975[2] / math.sqrt(3), rel=1e-9)
    assert ci.half == pytest.approx(2.484138, abs=1e-6)
    assert (ci.low, ci.high) == pytest.approx((2.0 - ci.half, 2.0 + ci.half))


@pytest.mark.parametrize("values", [[0.65, 0.66, 0.67, 0.655, 0.675], [3.1, -2.0],
                                    list(np.linspace(0.0, 1.0, 10) ** 2)])
def test_mean_ci_agrees_with_scipy_interval(values):
    v = np.asarray(values)
    lo, hi = scipy_stats.t.interval(0.95, len(v) - 1, loc=v.mean(), scale=scipy_stats.sem(v))
    ci = mean_ci(values)
    assert (ci.low, ci.high) == pytest.approx((lo, hi), rel=1e-12, abs=1e-15)
    assert ci.half == pytest.approx(T975[len(v) - 1] * v.std(ddof=1) / math.sqrt(len(v)), rel=1e-8)


def test_mean_ci_other_confidence():
    ci = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0], confidence=0.9)  # s = √2.5, t_{0.95, 4} = 2.131847
    assert ci.half == pytest.approx(2.131846786 * math.sqrt(2.5) / math.sqrt(5), rel=1e-8)
    assert ci.format(".2f") == "3.00 ± 1.51 (90 % t-interval, 5 seeds)"


def test_texts():
    ci = mean_ci([0.65, 0.66, 0.67, 0.655, 0.675])  # x̄ = 0.662, s² = 430e-6/4, half = 0.012874
    assert ci.half == pytest.approx(T975[4] * math.sqrt(430e-6 / 4) / math.sqrt(5), rel=1e-8)
    assert ci.format() == "0.662 ± 0.013 (95 % t-interval, 5 seeds)"
    assert ci.short() == "0.662 ± 0.013"
    assert ci.short(".1%") == "66.2% ± 1.3%"
    assert str(ci) == ci.format()
    assert MeanCI(0.661, 0.012, 5).format() == "0.661 ± 0.012 (95 % t-interval, 5 seeds)"


def test_single_value_has_no_interval():
    ci = mean_ci([0.661])
    assert ci.mean == 0.661 and ci.n == 1 and math.isnan(ci.half)
    assert ci.format() == "0.661 (1 seed, no interval)"
    assert ci.short() == "0.661 (1 seed, no interval)"
    assert ci.format(".1f") == "0.7 (1 seed, no interval)"


def test_identical_seeds_give_zero_width():
    assert mean_ci([4, 4, 4]) == MeanCI(4.0, 0.0, 3, 0.95)


def test_accepts_generators_ints_and_arrays():
    assert mean_ci(x for x in (1, 2, 3)) == mean_ci(np.array([1.0, 2.0, 3.0]))


@pytest.mark.parametrize("bad", [[], [1.0, float("nan")], [1.0, float("inf")], [-math.inf],
                                 [1.0, None], 3.0, [[1.0, 2.0]], ["a"]])
def test_bad_values_are_refused_naming_values(bad):
    with pytest.raises(ValueError, match="values"):
        mean_ci(bad)


@pytest.mark.parametrize("c", [0.0, 1.0, -0.5, 95, float("nan")])
def test_bad_confidence(c):
    with pytest.raises(ValueError, match="confidence"):
        mean_ci([1.0, 2.0], confidence=c)


def test_paired_diff_by_hand():
    a, b = [0.70, 0.72, 0.71, 0.73], [0.68, 0.71, 0.70, 0.70]  # d = .02 .01 .01 .03
    ci = paired_diff_ci(a, b)
    d = np.array([0.02, 0.01, 0.01, 0.03])
    assert ci.mean == pytest.approx(0.0175, abs=1e-12)
    assert ci.half == pytest.approx(3.182446305 * d.std(ddof=1) / 2.0, rel=1e-8)
    assert ci == mean_ci(np.subtract(a, b))
    assert ci.format(".4f") == "0.0175 ± 0.0152 (95 % t-interval, 4 seeds)"
    # the pair removes what the seeds share: separate intervals overlap, the paired one excludes 0
    assert mean_ci(a).low < mean_ci(b).high and ci.low > 0


def test_paired_diff_refusals():
    with pytest.raises(ValueError, match="same length"):
        paired_diff_ci([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="^b "):
        paired_diff_ci([1.0, 2.0], [1.0, float("nan")])
    with pytest.raises(ValueError, match="^a "):
        paired_diff_ci([], [])


def test_binomial_se():
    assert binomial_se(0.7, 1000) == pytest.approx(math.sqrt(0.21 / 1000), rel=1e-15)
    assert binomial_se(0.7, 1000) == pytest.approx(0.014491377, abs=1e-9)
    assert binomial_se(0.5, 100) == pytest.approx(0.05, rel=1e-15)
    assert binomial_se(1.0, 10) == 0.0 and binomial_se(0, 10) == 0.0


@pytest.mark.parametrize("acc, n, name", [(-0.01, 10, "acc"), (1.01, 10, "acc"), (float("nan"), 10, "acc"),
                                          (0.5, 0, "n"), (0.5, -3, "n"), (0.5, 2.5, "n")])
def test_binomial_se_refusals(acc, n, name):
    with pytest.raises(ValueError, match=f"^{name} "):
        binomial_se(acc, n)


def test_public_names():
    assert set(stats.__all__) == {"MeanCI", "mean_ci", "paired_diff_ci", "binomial_se"}
    with pytest.raises(AttributeError):  # frozen
        mean_ci([1.0, 2.0]).half = 0.0
