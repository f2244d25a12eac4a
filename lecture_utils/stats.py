"""Honest statistics over seeds: the one "mean ± interval" helper of the course (issue 19).

Every interval the notebooks print comes from here and says what it is, e.g.
``0.661 ± 0.012 (95 % t-interval, 5 seeds)``.

* :func:`mean_ci` — mean x̄ of n seeds and the half-width of the two-sided t-interval

      x̄ ± t_{(1+c)/2, n−1} · s/√n,   s² = Σ (xᵢ − x̄)² / (n − 1),

  with c the confidence (0.95) and t the Student-t quantile with n − 1 degrees of freedom
  (``scipy.stats.t.ppf``). With 3 seeds t = 4.30, not the 1.96 of a normal interval (or the 1 of
  "± one standard error"): few seeds give wide intervals, honestly. One value has no interval:
  ``half`` is NaN and the text says "1 seed, no interval".
* :func:`paired_diff_ci` — the same interval for the per-seed differences dᵢ = aᵢ − bᵢ (two
  settings run on the same seeds, evaluated on the same test set): the shared seed and test-set
  noise cancel in dᵢ, so this is the interval for "a beats b", not two overlapping intervals.
* :func:`binomial_se` — the test set's own sampling error of one accuracy, √(p(1−p)/n)
  (1,000 test examples at p = 0.7: 0.0145).

Used by every notebook that prints a seed average: 01 (the race table, :mod:`lecture_utils.race`),
02 §6 (noisy training, :mod:`lecture_utils.panels.noisy`), 03 (sharpness at matched loss,
:mod:`lecture_utils.sweeps.sharpness_matched`), 04 (tuned η, warm-up, critical batch,
:mod:`lecture_utils.tuning`), 05 (momentum at the saddle).

Values are refused, not filtered: a NaN or ±inf (a diverged run) raises ``ValueError`` naming
``values``, so a caller decides — and says — which runs it left out.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as _scipy_stats

from ._validate import COUNT, Interval, check_array, validate_params
from .i18n import _

__all__ = ["MeanCI", "binomial_se", "mean_ci", "paired_diff_ci"]

#: the confidence c of an interval, in (0, 1)
CONFIDENCE = Interval("real", 0.0, 1.0, closed="neither")
#: an accuracy p, in [0, 1]
ACCURACY = Interval("real", 0.0, 1.0)


@dataclass(frozen=True)
class MeanCI:
    """A mean over ``n`` seeds and the half-width ``half`` of its ``confidence`` t-interval
    (``half`` is NaN for a single value: no interval)."""

    mean: float
    half: float
    n: int
    confidence: float = 0.95

    @property
    def low(self):
        """x̄ − half (NaN for one value)."""
        return self.mean - self.half

    @property
    def high(self):
        """x̄ + half (NaN for one value)."""
        return self.mean + self.half

    @property
    def label(self):
        """What the interval is: "95 % t-interval, 5 seeds" (or "1 seed, no interval")."""
        if self.n < 2:
            return _("1 seed, no interval")
        return _("{percent} t-interval, {n} seeds").format(percent=_percent(self.confidence), n=self.n)

    def short(self, spec=".3f"):
        """"0.661 ± 0.012" at format ``spec`` (a table cell; the table says what the ± is).
        One value: "0.661 (1 seed, no interval)"."""
        if self.n < 2:
            return _("{mean} (1 seed, no interval)").format(mean=format(self.mean, spec))
        return f"{self.mean:{spec}} ± {self.half:{spec}}"

    def format(self, spec=".3f"):
        """"0.661 ± 0.012 (95 % t-interval, 5 seeds)" at format ``spec``.
        One value: "0.661 (1 seed, no interval)"."""
        if self.n < 2:
            return self.short(spec)
        return _("{value} ({label})").format(value=self.short(spec), label=self.label)

    def __str__(self):
        return self.format()


def _percent(confidence):
    return f"{100 * confidence:.10g} %"


def _t_interval(v, confidence, name):
    """MeanCI of the 1-D finite array ``v`` (checked by the caller)."""
    n = int(v.size)
    if n == 0:
        raise ValueError(f"{name} must contain at least one number; got none")
    mean = float(v.mean())
    if n == 1:
        return MeanCI(mean, float("nan"), 1, confidence)
    s = float(v.std(ddof=1))
    t = float(_scipy_stats.t.ppf((1.0 + confidence) / 2.0, n - 1))
    return MeanCI(mean, t * s / math.sqrt(n), n, confidence)


def _finite_vector(name, values):
    """``values`` as a 1-D float array of finite numbers (a generator is read into a list first)."""
    if not hasattr(values, "__len__") and hasattr(values, "__iter__"):
        values = list(values)
    return check_array(name, values, ndim=1, dtype=float)


@validate_params(confidence=CONFIDENCE)
def mean_ci(values, confidence=0.95):
    """Mean and t-interval half-width over the seeds' ``values``: x̄ ± t_{(1+c)/2, n−1}·s/√n.

    ``values`` — a 1-D sequence of finite numbers (one per seed); NaN/±inf/None or an empty
    sequence raise ``ValueError``. ``confidence`` c in (0, 1). One value gives ``half = nan``.
    """
    return _t_interval(_finite_vector("values", values), confidence, "values")


@validate_params(confidence=CONFIDENCE)
def paired_diff_ci(a, b, confidence=0.95):
    """The t-interval of the per-seed differences dᵢ = aᵢ − bᵢ: d̄ ± t_{(1+c)/2, n−1}·s_d/√n.

    ``a`` and ``b`` — finite values of two settings on the same seeds, in the same seed order
    (same length). Use it for "setting a beats setting b": seed and test-set noise shared by a
    pair cancel, which two separate intervals cannot show.
    """
    va, vb = _finite_vector("a", a), _finite_vector("b", b)
    if va.size != vb.size:
        raise ValueError(f"a and b must have the same length (one value per seed, paired); "
                         f"got {va.size} and {vb.size}")
    return _t_interval(va - vb, confidence, "a and b")


@validate_params(acc=ACCURACY, n=COUNT)
def binomial_se(acc, n):
    """Standard error √(p(1−p)/n) of an accuracy p measured on n test examples (the test set's
    own sampling error; 1,000 examples at p = 0.7 give 0.0145). ``acc`` in [0, 1], ``n`` ≥ 1."""
    return math.sqrt(acc * (1.0 - acc) / n)
