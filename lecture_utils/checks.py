"""Self-checks for the exercises: the learner's answer in, one line of feedback out.

Every check prints one line that starts with ✓ (right), × (wrong, with a hint) or
○ (not attempted yet: the stub still returns ``None``) and returns ``True``, ``False`` or ``None``
(not attempted), so tests can call it. A check never raises on an unfinished or buggy answer.

Notebook 01: check_epoch_batches, check_updates_per_epoch, check_epochs_in_time,
check_stable_lr_prediction (and the generic check_number). Notebook 02: check_batch_noise,
check_classifier. Notebook 03: check_rise, check_power_iteration, check_stability_limit. Notebook 04:
check_stability_prediction (with check_scaled_lr), check_noise_estimator,
check_doubling_ratios, check_b_crit (B_crit of the critical_batch fit). Notebook 05: check_momentum_step,
check_ema_alpha, check_torch_lr, check_stop_prediction (its truth:
:func:`lecture_utils.rolling.where_ball_stops`).
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import io
import numbers
import re
import warnings

import numpy as np

from . import _validate as _v
from .data import N_TRAIN, updates_per_epoch
from .i18n import _, ngettext
from .landscapes import SADDLE
from .noise import finite_population_factor
from .optim import momentum_path
from .rolling import where_ball_stops  # exercise 3 of notebook 05: where the ball really stops

#: The three verdicts a check prints at the start of its one line of feedback.
VERDICTS = ("✓", "×", "○")


def _format_value(x, digits=4):
    """A number (or a tuple/list/array of numbers) as a learner reads it: ``8``, ``0.1``, ``1.25e-05``,
    ``nan``, ``(0.5, 2)`` — never ``np.float64(...)``; anything else as a short ``repr``."""
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, numbers.Integral):
        return str(int(x))
    if isinstance(x, numbers.Real):
        v = float(x)
        if not np.isfinite(v):
            return str(v)
        if v == round(v) and abs(v) < 1e12:
            return str(int(round(v)))
        return f"{v:.{digits}g}"
    if isinstance(x, (tuple, list)):
        inner = ", ".join(_format_value(e, digits) for e in x[:8]) + (", …" if len(x) > 8 else "")
        return f"({inner})" if isinstance(x, tuple) else f"[{inner}]"
    if isinstance(x, np.ndarray) and x.dtype.kind in "biuf":
        if x.ndim == 0:
            return _format_value(x.item(), digits)
        return _format_value(x.ravel().tolist(), digits)
    r = repr(x)
    return r if len(r) <= 60 else r[:57] + "…"


def _finite_real(value):
    """``value`` as a finite float, or ``None`` when it is not a real number: strings such as ``'8'``
    (a number typed in quotes), ``True``/``False``, arrays of several values, NaN and ±inf."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return None
    if isinstance(value, np.ndarray):
        if value.size != 1 or value.dtype.kind not in "iuf":
            return None
        value = value.item()
    if not isinstance(value, numbers.Real):
        return None
    v = float(value)
    return v if np.isfinite(v) else None


def _not_a_number(name, value):
    """The × line for an answer that should have been a number (see :func:`_finite_real`)."""
    if isinstance(value, (str, bytes)):
        return _say(False, _("{name} is the text {value!r}: write the number without quotes.").format(
            name=name, value=value))
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return _say(False, _("{name} is {value}: your computation diverged or divided by zero.").format(
            name=name, value=_format_value(value)))
    return _say(False, _("{name} should be one number; got {kind}.").format(name=name, kind=_kind(value)))


def _kind(value):
    """A short description of what the learner gave (for × messages that say what to fix)."""
    if value is None:
        return "None"
    if callable(value) and not isinstance(value, type):
        return _("the function {name}").format(name=getattr(value, '__name__', '?'))
    if isinstance(value, (tuple, list)):
        return ngettext("a {type} of {n} value", "a {type} of {n} values", len(value)).format(
            type=type(value).__name__, n=len(value))
    if isinstance(value, (str, bytes)):
        return _("the text {text!r}").format(text=value[:40])
    if isinstance(value, (numbers.Number, np.ndarray)):
        return _format_value(value)
    return _("a {type}").format(type=type(value).__name__)


_NP_SCALAR = re.compile(r"np\.(?:float|int|uint|bool_?)\d*\(([^()]*)\)")


def _say(ok, text):
    text = _NP_SCALAR.sub(r"\1", text)  # never show np.float64(...) to a learner
    text = text.replace("。 ", "。")     # Chinese sentences joined with " " (English has no "。")
    print(("✓ " if ok else "× ") + text)
    return ok


def _todo(what):
    """Print the ○ line; ``what`` (already translated) says what is left to do."""
    print("○ " + _("not done yet: {what}").format(what=what))
    return None


def _raised_in(tb, functions):
    """True when the traceback passes through one of ``functions`` (the learner's own code)."""
    codes = {getattr(f, "__code__", None) for f in functions} - {None}
    while tb is not None:
        if tb.tb_frame.f_code in codes:
            return True
        tb = tb.tb_next
    return False


def never_raises(check):
    """Decorator for every ``check_*``: whatever the learner passes (None, text, a tuple of the wrong
    length, NaN, a function that raises or returns garbage) the check prints exactly one verdict line
    (✓ / × with what to fix / ○) and returns True / False / None; it never raises and never shows a
    warning. A number typed as text (``'8'``) is never accepted. Applied to every ``check_*`` of this
    module automatically (see the end of the module), also to checks added later."""
    if getattr(check, "_never_raises", False):
        return check
    sig = inspect.signature(check)

    @functools.wraps(check)
    def wrapper(*args, **kwargs):
        buf = io.StringIO()
        result, error = None, None
        with contextlib.redirect_stdout(buf), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                result = check(*args, **kwargs)
            except NotImplementedError:
                result = _todo(_("replace the NotImplementedError (or ...) by your code and run the cell "
                                 "again"))
            except RecursionError:
                error = _("your function calls itself without end (RecursionError)")
            except Exception as exc:  # noqa: BLE001  (a learner's bug is reported, never raised)
                error = _error_text(exc, args, kwargs)
        lines = buf.getvalue().splitlines()
        said = [ln for ln in lines if ln.startswith(VERDICTS)]
        stub = bool(args) and (args[0] is None or args[0] is Ellipsis) and _first_is_answer(sig)
        if stub and (error is not None or result is not None):   # the stub (None / ...) is not an answer
            lines = [ln for ln in lines if not ln.startswith(VERDICTS)]
            lines.append("○ " + _("not done yet: {what}").format(
                what=_("replace None (or ...) by your answer and run the cell again")))
            result, error = None, None
        elif error is not None:
            lines = [ln for ln in lines if not ln.startswith(VERDICTS)]
            lines.append("× " + _NP_SCALAR.sub(r"\1", error))
            result = False
        elif result is True and _text_number_arg(sig, args, kwargs):
            lines = [ln for ln in lines if not ln.startswith(VERDICTS)]
            lines.append("× " + _("{text!r} is text: write the number without quotes.").format(
                text=_text_number_arg(sig, args, kwargs)))
            result = False
        elif not said:
            lines.append({True: "✓ " + _("correct."), None: "○ " + _("not done yet.")}.get(
                result, "× " + _("not right yet.")))
        if result is not None and not isinstance(result, bool):
            result = bool(result) if isinstance(result, (np.bool_, int)) else False
        if lines:
            print("\n".join(lines))
        return result

    wrapper._never_raises = True
    return wrapper


def _error_text(exc, args, kwargs):
    """What a check that raised tells the learner: their own function raised (traceback through it),
    they passed something that is not a function, or their answer cannot be checked at all."""
    name = type(exc).__name__
    msg = str(exc).splitlines()[0][:160] if str(exc) else ""
    learner_fns = [a for a in list(args) + list(kwargs.values()) if callable(a)]
    if _raised_in(exc.__traceback__, learner_fns):
        return _("your function raised {name}: {msg} — fix it and run the cell again").format(
            name=name, msg=msg)
    if isinstance(exc, TypeError) and "not callable" in msg and args and not callable(args[0]):
        return _("{kind} is not a function: define it with def and pass its name").format(
            kind=_kind(args[0]))
    given = ", ".join(_kind(a) for a in args[:1]) or _("nothing")
    return _("your answer ({given}) cannot be checked ({name}: {msg}); give what the exercise asks for (see "
             "the comment in the cell)").format(given=given, name=name, msg=msg)


def _first_is_answer(sig):
    """Whether a check's first parameter is the learner's answer (not a label such as ``name``)."""
    first = next(iter(sig.parameters), None)
    return first is not None and first not in ("name", "label")


def _text_number_arg(sig, args, kwargs):
    """The first argument that is a number written as text ('8', '0.88'), else None."""
    for v in list(args) + list(kwargs.values()):
        if isinstance(v, str):
            try:
                float(v)
            except ValueError:
                continue
            return v
    return None


def check_number(name, value, expected, *, rtol=0.0, atol=0.0, hint=""):
    """Compare a number the learner computed with the value the course computes (|value − expected| ≤
    atol + rtol·|expected|). Text such as ``'8'``, NaN and inf are never right."""
    if value is None or value is Ellipsis:
        return _todo(_("replace ... with your value of {name}").format(name=name))
    v = _finite_real(value)
    if v is None:
        return _not_a_number(name, value)
    ok = bool(np.isclose(v, float(expected), rtol=rtol, atol=atol))
    if ok:
        return _say(True, _("{name} = {value}: correct.").format(name=name, value=_format_value(v)))
    return _say(False, _("{name} = {value} is not right. {hint}").format(
        name=name, value=_format_value(v), hint=hint).strip())


#: The library functions notebook 01's Exercise 1 asks the learner to write, not to call.
_LIBRARY_BATCHES = ("epoch_batches", "batch_assignment")


def _uses_library_batches(fn):
    """True when ``fn`` is (a partial of) :func:`lecture_utils.data.epoch_batches` or its code (nested
    functions included) names ``epoch_batches`` or ``batch_assignment``."""
    from . import data

    for _step in range(10):   # functools.partial(...) and @wraps chains down to a function with code
        if fn is data.epoch_batches or fn is data.batch_assignment:
            return True
        if fn is None or getattr(fn, "__code__", None) is not None:
            break
        fn = getattr(fn, "func", None) or getattr(fn, "__wrapped__", None)
    code = getattr(fn, "__code__", None)
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        if any(name in _LIBRARY_BATCHES for name in c.co_names + c.co_freevars):  # globals, attributes,
            return True                                                            # and closure names
        stack += [k for k in c.co_consts if hasattr(k, "co_names")]
    return False


def check_epoch_batches(fn, n_examples=23, batch_size=5):
    """Check a learner's ``fn(n_examples, batch_size, seed, epoch) -> list of index arrays`` (notebook 01).

    Right means: every example exactly once per epoch; batches of ``batch_size`` with a smaller
    last one; a new order every epoch; the same order for the same ``(seed, epoch)``. The library's own
    :func:`lecture_utils.data.epoch_batches` (or a function that merely calls it) is refused: the exercise
    is to write it.
    """
    if _uses_library_batches(fn):
        return _say(False, _("your function hands the work to the library's epoch_batches (or "
                             "batch_assignment): write it yourself — a permutation of 0…n−1, cut into "
                             "pieces."))
    try:
        first = fn(n_examples, batch_size, 0, 0)
    except NotImplementedError:
        return _todo(_("write the body of the function"))
    if first is None:
        return _todo(_("your function returns None — make it return a list of index arrays"))
    batches = [np.asarray(b).ravel() for b in first]
    sizes = [len(b) for b in batches]
    rest = n_examples % batch_size
    want = [batch_size] * (n_examples // batch_size) + ([rest] if rest else [])
    if sizes != want:
        return _say(False, _("batch sizes {sizes}; expected {want} (the last batch holds the remainder).")
                    .format(sizes=sizes, want=want))
    flat = np.concatenate(batches)
    if sorted(flat.tolist()) != list(range(n_examples)):
        return _say(False, _("an epoch must use every example exactly once (no repeats, none missing)."))
    if flat.tolist() == list(range(n_examples)):
        return _say(False, _("the examples come in order 0, 1, 2, …: shuffle them."))
    second = np.concatenate([np.asarray(b).ravel() for b in fn(n_examples, batch_size, 0, 1)])
    if np.array_equal(flat, second):
        return _say(False, _("epoch 1 has the same order as epoch 0: reshuffle every epoch."))
    again = np.concatenate([np.asarray(b).ravel() for b in fn(n_examples, batch_size, 0, 0)])
    if not np.array_equal(flat, again):
        return _say(False, _("the same (seed, epoch) must give the same batches: seed your generator with "
                             "both."))
    return _say(True, _("every example once per epoch, batch sizes {sizes}, reshuffled each epoch, "
                        "reproducible.").format(sizes=sizes))


def check_updates_per_epoch(value, n_examples=N_TRAIN, batch_size=300):
    """Notebook 01 Ex2a: updates in one epoch, ⌈N/B⌉ (the last, smaller batch is an update too)."""
    if value is None or value is Ellipsis:
        return _todo(_("replace ... with your number of updates per epoch"))
    v = _finite_real(value)
    if v is None:
        return _not_a_number(_("updates per epoch"), value)
    n, b = int(n_examples), int(batch_size)
    want = updates_per_epoch(n, b)
    fv = _format_value(v)
    if v == want:
        return _say(True, _("{v} updates per epoch at B = {b}: {full} full batches and one of {rest}.")
                    .format(v=fv, b=b, full=n // b, rest=n % b))
    if v != round(v):
        return _say(False, _("{v} is not a whole number of updates: each batch, however small, is one "
                             "update.").format(v=fv))
    if v == n // b and n % b:
        return _say(False, _("{v} leaves {rest} examples out of the epoch: what happens to them?").format(
            v=fv, rest=n % b))
    return _say(False, _("{v} updates is not right: count the batches an epoch of N = {n} is cut into.")
                .format(v=fv, n=n))


def check_epochs_in_time(value, record, batch_size=512, seconds=1.0):
    """Notebook 01 Ex2b: epochs B completes in ``seconds`` of training, seconds / (t(B)·⌈N/B⌉), with
    t(B) the cached time per update of the ``timing`` sweep. Accepts 1 % around it (t is printed to 4
    digits). The forgotten ceiling, seconds / (t·N/B) (2.4 % more at B = 512), is checked first and
    gets its own hint, as in part (a)."""
    if value is None or value is Ellipsis:
        return _todo(_("replace ... with your number of epochs"))
    v = _finite_real(value)
    if v is None:
        return _not_a_number(_("epochs"), value)
    res = record["results"]
    b = int(batch_size)
    t = float(res["per_update_s"][res["batch_sizes"].index(b)])
    n = N_TRAIN
    k = updates_per_epoch(n, b)
    want = seconds / (t * k)
    no_ceiling = seconds * b / (t * n)
    v3, secs = _format_value(v, 3), _format_value(seconds)
    if n % b and np.isclose(v, no_ceiling, rtol=0.005):
        return _say(False, _("{v} epochs counts N/B = {nb} updates per epoch: a batch is an update even when "
                             "it is smaller — round up.").format(v=v3, nb=_format_value(n / b, 4)))
    if np.isclose(v, want, rtol=0.01):
        return _say(True, _("{v} epochs in {s} s at B = {b}.").format(v=v3, s=secs, b=b))
    if np.isclose(v, seconds / t, rtol=0.03):
        return _say(False, _("{v} is the number of updates in {s} s, not of epochs.").format(v=v3, s=secs))
    if np.isclose(v, seconds / (t * n), rtol=0.03):
        return _say(False, _("{v} is not right: how many updates does one epoch at B = {b} make?").format(
            v=v3, b=b))
    return _say(False, _("{v} is not right: divide the time by the time of one epoch (time per update × "
                         "updates per epoch).").format(v=v3))


def check_stable_lr_prediction(prediction):
    """Notebook 01 Ex3: is the largest stable η of the toy at B = 1 'smaller', 'same' or 'larger' than at
    B = 20? The right answer is computed on the toy (:func:`lecture_utils.toy_sgd.largest_stable_lr`, the
    numbers of the toy panel)."""
    from .toy_sgd import largest_stable_lr

    if prediction is None or prediction is Ellipsis:
        return _todo(_("replace ... with 'smaller', 'same' or 'larger'"))
    if not isinstance(prediction, str) or prediction.strip().lower() not in ("smaller", "same", "larger"):
        return _say(False, _("answer with one of the words 'smaller', 'same' or 'larger'; got {kind}.")
                    .format(kind=_kind(prediction)))
    one, full = largest_stable_lr(1), largest_stable_lr(20)
    truth = "smaller" if one < full else ("larger" if one > full else "same")
    if prediction.strip().lower() == truth:
        return _say(True, _("{truth}: on the toy the largest stable η is {one:.2f} at B = 1 and {full:.2f} "
                            "at B = 20 — check it with the sliders.").format(truth=truth, one=one, full=full))
    return _say(False, _("'{prediction}' is not what the toy shows: set B = 20, raise η until the figure "
                         "says 'diverged', then do the same at B = 1.").format(prediction=prediction))


# ----------------------------------------------------------------------------- notebook 05 (momentum)
def _call_learner(fn, *args):
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, None
    except Exception as exc:  # a learner's bug: report it, do not crash the notebook
        return None, f"{type(exc).__name__}: {exc}"


def check_momentum_step(step_fn):
    """Exercise 1: ``step_fn(theta, m, g, lr, beta) -> (theta_new, m_new)`` must be the lecture's rule
    m_new = β·m − η·g, θ_new = θ + m_new. Checked on random inputs and on a 40-step path of a quadratic."""
    rng = np.random.default_rng(5)
    for _trial in range(5):
        theta, m, g = rng.standard_normal((3, 3))
        lr, beta = float(rng.uniform(0.01, 0.5)), float(rng.uniform(0, 0.95))
        out, err = _call_learner(step_fn, theta.copy(), m.copy(), g.copy(), lr, beta)
        if err:
            return _say(False, _("your step raised {err}").format(err=err))
        if out is None:
            return _todo(_("fill in momentum_step in this cell and run it again"))
        try:
            theta_new, m_new = (np.asarray(v, dtype=float) for v in out)
        except (TypeError, ValueError):
            return _say(False, _("return two arrays: (theta_new, m_new)"))
        want_m = beta * m - lr * g
        if theta_new.shape != theta.shape or m_new.shape != m.shape:
            return _say(False, _("theta_new and m_new must have the shape of theta {shape}").format(
                shape=theta.shape))
        if not np.allclose(m_new, want_m, atol=1e-12):
            if np.allclose(m_new, beta * m + g):
                return _say(False, _("that is PyTorch's buffer v = βv + g; the lecture's movement includes "
                                     "−η: m = β·m − η·g"))
            return _say(False, _("m_new is off: for β = {beta:.2f}, η = {lr:.2f} expected {want}, got {got}")
                        .format(beta=beta, lr=lr, want=np.round(want_m, 3), got=np.round(m_new, 3)))
        if not np.allclose(theta_new, theta + want_m, atol=1e-12):
            return _say(False, _("θ_new should be θ + m_new (the new movement, not the old one)"))
    a = np.diag([0.2, 1.0])
    theta, m = np.array([1.0, -1.0]), np.zeros(2)
    for _step in range(40):
        theta, m = (np.asarray(v, float) for v in step_fn(theta, m, a @ theta, 0.3, 0.8))
    ref = momentum_path(lambda th: a @ th, [1.0, -1.0], lr=0.3, beta=0.8, steps=40)[-1]
    if not np.allclose(theta, ref, atol=1e-10):
        return _say(False, _("single steps are right but 40 steps drift from momentum_path: is m carried "
                             "from step to step?"))
    return _say(True, _("correct: 40 of your steps land on θ = {theta}, the same as momentum_path.").format(
        theta=np.round(theta, 4)))


#: Exercise 1 of notebook 05: a ball on the bowl L = ½θ² (g = θ) with η = 0.1 and a β the learner reads off
#: its first three positions (the notebook prints them; the value is not shown anywhere).
_MYSTERY = {"lr": 0.1, "beta": 0.7, "theta0": 1.0}


def mystery_path(steps=2):
    """θ⁰, θ¹, …, θ^steps of the lecture's rule on L = ½θ² with η = 0.1 and an unknown β (Exercise 1)."""
    return momentum_path(lambda th: th, [_MYSTERY["theta0"]], lr=_MYSTERY["lr"], beta=_MYSTERY["beta"],
                         steps=steps)[:, 0]


def check_mystery_beta(beta):
    """Exercise 1 (notebook 05): the β of :func:`mystery_path`. From m¹ = θ¹ − θ⁰, m² = θ² − θ¹ and
    m² = β·m¹ − η·g¹ with g¹ = θ¹: β = (m² + η·θ¹)/m¹. Each usual slip gets its own hint."""
    if beta is None or beta is Ellipsis:
        return _todo(_("replace None by your β (a number, or a formula of theta[0], theta[1], theta[2])"))
    v = _finite_real(beta)
    if v is None:
        return _not_a_number("beta", beta)
    lr, want = _MYSTERY["lr"], _MYSTERY["beta"]
    th = mystery_path()
    m1, m2 = th[1] - th[0], th[2] - th[1]

    def near(x):
        return bool(np.isclose(v, x, atol=5e-3))

    if near(want):
        return _say(True, _("β = {beta}: correct. The movement m² = θ² − θ¹ = {m2:.2f} is β·m¹ − η·g¹ = "
                            "{want:g}·({m1:.2f}) − {lr:g}·{theta1:.2f}.").format(
            beta=_format_value(v, 3), m2=m2, want=want, m1=m1, lr=lr, theta1=th[1]))
    if near(m2 / m1):
        return _say(False, _("that is m²/m¹, the ratio of two movements: but m² holds the gradient step "
                             "−η·g¹ as well. Take it out before you divide."))
    if near(th[2] / th[1]) or near(th[1] / th[0]):
        return _say(False, _("that is a ratio of positions θ; the rule's memory acts on the movements "
                             "m = θᵗ − θᵗ⁻¹."))
    if near((m2 + lr * th[2]) / m1):
        return _say(False, _("the gradient of step 2 is taken where that step starts, at θ¹ (g¹ = θ¹), not "
                             "at θ²."))
    if near((m2 - lr * th[1]) / m1):
        return _say(False, _("check the sign of the gradient step: the rule subtracts η·g."))
    if near(0.0):
        return _say(False, _("β = 0 is gradient descent: it would move to θ² = 0.81, not {theta2:.2f}.")
                    .format(theta2=th[2]))
    if v < 0 or v >= 1:
        return _say(False, _("β = {beta}: the rule's β lies between 0 and 1. Write m¹ and m² from the "
                             "positions first.").format(beta=_format_value(v)))
    return _say(False, _("β = {beta} does not reproduce θ² = {theta2:.2f}: write m¹ = θ¹ − θ⁰, m² = θ² − θ¹, "
                         "and put them into m² = β·m¹ − η·g¹.").format(beta=_format_value(v), theta2=th[2]))


def check_stop_prediction(prediction, lr=0.1, theta0=4.0):
    """Exercise 3: ``prediction`` maps β → 'local' or 'global' (where the ball started at θ⁰ = 4 with
    η = 0.1 is after 600 steps). Compared with the simulation."""
    if prediction is None or (isinstance(prediction, dict) and any(v is None for v in prediction.values())):
        return _todo(_("replace every None in this cell by 'local' or 'global' and run it again"))
    if not isinstance(prediction, dict):
        return _say(False, _("prediction should be a dict β → 'local' or 'global'; got {kind}.").format(
            kind=_kind(prediction)))
    wrong = []
    for beta, guess in sorted(prediction.items()):
        if guess not in ("local", "global"):
            return _say(False, _("answers must be 'local' or 'global'; got {guess!r} for β = {beta}").format(
                guess=guess, beta=beta))
        truth = where_ball_stops(lr, float(beta), theta0)
        if truth != guess:
            if truth == "local":
                line = _("β = {beta}: you said {guess}, the ball ends in the local minimum")
            elif truth == "global":
                line = _("β = {beta}: you said {guess}, the ball ends in the global minimum")
            else:
                line = _("β = {beta}: you said {guess}, the ball ends in the {truth} minimum")
            wrong.append(line.format(beta=beta, guess=guess, truth=truth))
    if wrong:
        return _say(False, _("not quite:") + "\n  " + "\n  ".join(wrong) + "\n"
                    + _("Move the β slider of the panel below to see why."))
    return _say(True, _("correct for all {n} values of β.").format(n=len(prediction)))


def check_ema_alpha(alpha, eta=0.01, beta=0.9):
    """Exercise 2: the EMA form's α that gives the same path as the lecture's rule at (η, β): α = η/(1−β)."""
    if alpha is None:
        return _todo(_("replace None in this cell by your α and run it again"))
    want = eta / (1 - beta)
    if not np.isclose(float(alpha), want, rtol=1e-9):
        if np.isclose(float(alpha), eta * (1 - beta)):
            return _say(False, _("other way round: the EMA form multiplies g by (1 − β), so α must be larger "
                                 "than η."))
        return _say(False, _("not quite: compare the two updates; with η = {eta}, β = {beta} the EMA step is "
                             "not {alpha}.").format(eta=eta, beta=beta, alpha=alpha))
    return _say(True, _("correct: α = η/(1 − β) = {want:g}.").format(want=want))


def check_torch_lr(lr, alpha=0.1, beta=0.9, steps=50):
    """Exercise 2 (notebook 05): a paper uses the EMA form v = β·v + (1−β)·g, θ = θ − α·v with α = 0.1,
    β = 0.9; ``lr`` must make ``torch.optim.SGD(lr=lr, momentum=β)`` (the lecture's rule with η = lr)
    follow their path: η = α·(1 − β). Both paths are run on a 2-D quadratic and compared."""
    from .optim import convention_path

    v = _finite_real(lr)
    if v is None:
        return _not_a_number("lr", lr)
    if v <= 0:
        return _say(False, _("lr = {lr}: a learning rate is positive.").format(lr=_format_value(v)))
    a = np.diag([0.2, 1.0])
    theirs, _velocities = convention_path(lambda th: a @ th, [1.0, -1.0], convention="ema", lr=alpha,
                                          beta=beta, steps=steps)
    yours = momentum_path(lambda th: a @ th, [1.0, -1.0], lr=v, beta=beta, steps=steps)
    gap = float(np.max(np.abs(yours - theirs))) if np.all(np.isfinite(yours)) else float("inf")
    want = alpha * (1 - beta)
    if np.isclose(v, want, rtol=1e-6) and gap < 1e-9:
        return _say(True, _("lr = {lr}: torch's path and the paper's agree (to 1e-9) over {steps} steps.")
                    .format(lr=_format_value(v), steps=steps))
    far = dict(lr=_format_value(v), gap=gap, steps=steps)
    if np.isclose(v, alpha):
        return _say(False, _("with lr = {lr} the two paths are up to {gap:.2g} apart within {steps} steps. "
                             "The same number in both forms is not the same step: write the movement of each "
                             "form and compare the factor in front of g.").format(**far))
    if np.isclose(v, alpha / (1 - beta)):
        return _say(False, _("with lr = {lr} the two paths are up to {gap:.2g} apart within {steps} steps. "
                             "Your steps are too long: in the EMA form g enters v with a factor (1 − β).")
                    .format(**far))
    return _say(False, _("with lr = {lr} the two paths are up to {gap:.2g} apart within {steps} steps. "
                         "Unroll one step of each form from m = 0 and match the factor in front of g.")
                .format(**far))


# ----------------------------------------------------------------------------- notebook 02 (noisy gradients)
@_v.validate_params(n_examples=_v.Interval("int", 2, None), sigma=_v.Interval("real", 0.0, None))
def batch_gradient_std(batch_size=8, n_examples=64, sigma=4.0):
    """σ_𝓑 = σ·√c(B): the standard deviation of a batch's mean of B of N numbers of standard deviation σ,
    drawn without replacement, with c(B) = :func:`lecture_utils.noise.finite_population_factor` (notebook
    02, exercise 1; §5 writes it for tr Σ)."""
    batch_size = _v.check_batch_size(batch_size, n_examples)
    return sigma * np.sqrt(finite_population_factor(n_examples, batch_size))


def check_batch_noise(value, batch_size=8, *, n_examples=64, sigma=4.0, rtol=0.03):
    """Exercise 1 of notebook 02: the standard deviation of the batch gradient L_𝓑'(θ*) = c̄_𝓑 over
    the batches of shuffled epochs (tilts of standard deviation σ, N examples, batches of B).

    Right: within ``rtol`` of :func:`batch_gradient_std` (a measurement over 1000 epochs lands
    there: about 1 % off). The common wrong answers — σ/√B (drawn with replacement), a variance, σ/B, σ —
    each get their own hint, none of which states the value.
    """
    if value is None or value is Ellipsis:
        return _todo(_("set my_std in this cell to your number and run the cell again"))
    if isinstance(value, (str, bytes)):
        return _say(False, _("my_std should be a number, not a string (remove the quotes)"))
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):
        return _say(False, _("my_std should be one number; got a {type}").format(type=type(value).__name__))
    if arr.size != 1:
        return _say(False, _("my_std should be one number; got {n} numbers").format(n=arr.size))
    v = float(arr.reshape(()))
    if not np.isfinite(v):
        return _say(False, _("my_std is {v}: it should be a finite number").format(v=v))
    if v < 0:
        return _say(False, _("my_std = {v:.3f} is negative; a standard deviation is ≥ 0").format(v=v))
    want = batch_gradient_std(batch_size, n_examples, sigma)
    if abs(v - want) <= rtol * want:
        return _say(True, _("my_std = {v:.3f}: right (σ·√((N − B)/(B·(N − 1))) = {want:.3f} for B = {b}, "
                            "N = {n}, σ = {sigma:g}).").format(v=v, want=want, b=batch_size, n=n_examples,
                                                               sigma=sigma))
    near = lambda x: abs(v - x) <= 0.01 * abs(x)  # noqa: E731
    b, n = batch_size, n_examples
    if near(sigma / np.sqrt(b)):
        hint = _("that is the spread of a mean of B = {b} examples drawn independently (with replacement). "
                 "Within an epoch a batch holds B *different* examples of the N = {n}: does that make its "
                 "mean vary more or less?").format(b=b, n=n)
    elif near(sigma**2 / b) or near(want**2):
        hint = _("that looks like a variance (units of g²); the exercise asks for the standard deviation "
                 "(units of g).")
    elif near(sigma / b):
        hint = _("the spread of a mean of B numbers does not shrink like 1/B: how does the variance of a "
                 "mean scale?")
    elif near(sigma):
        hint = _("that is the spread of one example's gradient (B = 1); a batch averages B of them.")
    elif abs(v - np.sqrt(2 / np.pi) * want) <= rtol * want:
        hint = _("that looks like the mean of |L_𝓑'(θ*)| (the panel's caption gives it); a standard "
                 "deviation is the root of the mean *square*, which is larger.")
    else:
        hint = _("measure it to see how far off you are: the standard deviation of "
                 "data.grad(theta_star, idx) over every batch idx of 1000 epochs of "
                 "epoch_batches({n}, {b}, ...).").format(n=n, b=b)
    return _say(False, _("my_std = {v:.3f} is not right: {hint}").format(v=v, hint=hint))


#: Hessians the classification exercise is checked on, with their types (tests check them against
#: :func:`lecture_utils.landscapes.classify_critical_point`). Three catch the usual shortcuts: signs of
#: the diagonal, of the trace and of the determinant. The last three have an eigenvalue 0 and no sign
#: mix, where the second-order test cannot decide (issue 19): diag(2, 0) is the Hessian of θ₁² (a
#: minimum) and of θ₁² + θ₂³ (none); [[1, 1], [1, 1]] that of (θ₁ + θ₂)², eigenvalues 0 and 2.
CLASSIFY_CASES = (
    (SADDLE.hessian(np.array([0.0, 0.0])), "saddle"),
    (SADDLE.hessian(np.array([0.0, 1.0])), "minimum"),
    (SADDLE.hessian(np.array([0.0, -1.0])), "minimum"),
    (np.array([[-2.0, 0.5], [0.5, -1.0]]), "maximum"),
    (np.array([[1.0, 2.0], [2.0, 1.0]]), "saddle"),
    (np.array([[3.0, 1.0], [1.0, 2.0]]), "minimum"),
    (np.diag([2.0, 0.0]), "degenerate"),
    (np.diag([0.0, -1.0]), "degenerate"),
    (np.array([[1.0, 1.0], [1.0, 1.0]]), "degenerate"),
)
KINDS = ("minimum", "maximum", "saddle", "degenerate")


def _calls_answer_key(fn, depth=0):
    """True when ``fn`` is :func:`lecture_utils.landscapes.classify_critical_point` or names it in its
    code (directly, as ``landscapes.classify_critical_point``, under another name bound to it, or through
    a function it closes over)."""
    from .landscapes import classify_critical_point as key

    while isinstance(fn, functools.partial):
        fn = fn.func
    target = inspect.unwrap(fn) if callable(fn) else fn
    if fn is key or target is inspect.unwrap(key):
        return True
    code = getattr(target, "__code__", None)
    if code is None or depth > 3:
        return False
    glob = getattr(target, "__globals__", {})
    names = set(code.co_names)
    for const in code.co_consts:                      # names used inside nested functions and lambdas
        if hasattr(const, "co_names"):
            names |= set(const.co_names)
    if key.__name__ in names or any(glob.get(name) is key for name in names):
        return True
    for cell in getattr(target, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:                            # an empty cell
            continue
        if callable(value) and value is not target and _calls_answer_key(value, depth + 1):
            return True
    return False


def check_classifier(fn):
    """Exercise 2 of notebook 02, "tell by the Hessian": does ``fn(H)`` return "minimum" / "maximum" /
    "saddle" / "degenerate" (an eigenvalue 0 and no sign mix: the test cannot decide) for every Hessian
    of :data:`CLASSIFY_CASES`? A wrong case is named with what the learner's function said, never with
    the right kind."""
    if fn is None or fn is Ellipsis:
        return _todo(_("define kind_of_point(H) in this cell and run it again"))
    if not callable(fn):
        return _say(False, _("kind_of_point should be a function H -> one of {kinds}; got a {type}").format(
            kinds=KINDS, type=type(fn).__name__))
    if _calls_answer_key(fn):
        return _say(False, _("kind_of_point hands the work to landscapes.classify_critical_point, the "
                             "course's own classifier: write the test yourself from the signs of the "
                             "eigenvalues (np.linalg.eigvalsh(H))."))
    wrong, wrong_h = [], []
    for h, want in CLASSIFY_CASES:
        got, err = _call_learner(fn, np.array(h))
        if err:
            return _say(False, _("kind_of_point raised {err}").format(err=err))
        if got is None or got is Ellipsis:
            return _todo(_("kind_of_point returns nothing yet: finish its body in this cell"))
        if not isinstance(got, str) or got.strip().lower() not in KINDS:
            return _say(False, _("kind_of_point should return one of the strings {kinds}; got {got}").format(
                kinds=KINDS, got=_format_value(got)))
        if got.strip().lower() != want:
            wrong_h.append(h)
            wrong.append(_("H = {h}: your function says {said!r}").format(h=np.round(h, 2).tolist(),
                                                                          said=got.strip().lower()))
    if wrong:
        shown = [np.round(w, 2).tolist() for w in wrong_h]
        zero = any(np.any(np.abs(np.linalg.eigvalsh(h)) < 1e-8) for h, want in CLASSIFY_CASES
                   if np.round(h, 2).tolist() in shown)
        text = (_("{n} of {total} Hessians misclassified:").format(n=len(wrong), total=len(CLASSIFY_CASES))
                + "\n  " + "\n  ".join(wrong) + "\n"
                + _("Look at the signs of all the eigenvalues (np.linalg.eigvalsh), not at the entries "
                    "of H."))
        if zero:
            text += _(" An eigenvalue 0 is neither sign: what can the signs of the others still tell you? "
                      "(Compare a tiny |λ| with a tolerance, e.g. 1e-8, not with 0: rounding.)")
        return _say(False, text)
    return _say(True, _("all {n} critical points classified").format(n=len(CLASSIFY_CASES)))


# ----------------------------------------------------------------------------- notebook 03 (generalization)
def _is_stub(value):
    return value is None or value is Ellipsis or value is NotImplemented


def _single_float(value):
    """``value`` as a finite float, or None (strings, bools, arrays of several values, NaN, inf)."""
    if isinstance(value, (bool, np.bool_, str, bytes)):
        return None
    try:
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    if arr.size != 1 or not np.isfinite(arr).all():
        return None
    return float(arr.reshape(()))


def _shape_or_type(value):
    if isinstance(value, np.ndarray):
        return _("an array of shape {shape}").format(shape=value.shape)
    if isinstance(value, (str, bytes)):
        return _("the text {text!r}").format(text=value)
    return type(value).__name__


#: Exercise 2's two test matrices (eigenvalues): a minimum (all positive but two) and a saddle,
#: whose eigenvalue of largest magnitude is negative (the Hessian at a saddle has both signs).
POWER_ITERATION_CASES = {"A_min": (5.0, 2.0, 1.0, 0.5, -0.3, -1.0),
                         "A_saddle": (-4.0, 2.0, 1.0, 0.5, -0.3, 0.1)}


def _symmetric_with_eigenvalues(eigenvalues, seed=3):
    q, _r = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigenvalues), len(eigenvalues))))
    return (q * np.asarray(eigenvalues)) @ q.T


def check_power_iteration(fn):
    """Exercise 2 (notebook 03, section 3): ``fn(A, iters)`` returns the eigenvalue of largest
    magnitude |λ| of a symmetric matrix A, with its sign — the one power iteration converges to.

    Two matrices (:data:`POWER_ITERATION_CASES`): eigenvalues 5, 2, 1, 0.5, −0.3, −1 (answer 5) and a
    saddle's −4, 2, 1, 0.5, −0.3, 0.1 (answer −4). The second rejects the length ‖A v‖, which
    agrees with the eigenvalue only when that eigenvalue is positive.
    """
    results = {}
    for name, eig in POWER_ITERATION_CASES.items():
        try:
            got = fn(_symmetric_with_eigenvalues(eig), 200)
        except NotImplementedError:
            got = None
        except Exception as exc:  # a learner's bug: report it, do not crash the notebook
            return _say(False, _("power_iteration raised {name}: {exc}").format(name=type(exc).__name__,
                                                                                exc=exc))
        if _is_stub(got):
            return _todo(_("power_iteration returns None"))
        val = _single_float(got)
        if val is None:
            return _say(False, _("power_iteration should return one finite number (the eigenvalue); got "
                                 "{what}").format(what=_shape_or_type(got)))
        results[name] = (val, eig[0])
    (v1, w1), (v2, w2) = results["A_min"], results["A_saddle"]
    eig_min = ", ".join(f"{e:g}" for e in POWER_ITERATION_CASES["A_min"])
    eig_saddle = ", ".join(f"{e:g}" for e in POWER_ITERATION_CASES["A_saddle"])
    if abs(v1 - w1) >= 1e-3:
        return _say(False, _("for the matrix with eigenvalues {eigs} you return {v:.4f}: is v scaled to "
                             "length 1 at every step, and do you use all iters?").format(eigs=eig_min, v=v1))
    if abs(v2 - w2) >= 1e-3:
        if abs(v2 + w2) < 1e-3:
            return _say(False, _("right for the first matrix, but for the saddle (eigenvalues {eigs}) you "
                                 "return {v:.4f}: a length is never negative, an eigenvalue can be. What "
                                 "else can v and A give?").format(eigs=eig_saddle, v=v2))
        return _say(False, _("right for the first matrix, but for the saddle (eigenvalues {eigs}) you "
                             "return {v:.4f}.").format(eigs=eig_saddle, v=v2))
    return _say(True, _("{v1:.4f} (exact 5) and, at the saddle, {v2:.4f} (exact −4): the sign is kept")
                .format(v1=v1, v2=v2))


def check_rise(fn):
    """Exercise 1 (notebook 03, section 2): ``fn(curvature, shift)`` predicts how much the test loss
    L(w* − δ) exceeds the training loss at a minimum w* of curvature c = L''(w*), for small δ
    (the formula is in the notebook's solution cell). Compared with the exact rise at both minima of
    :func:`lecture_utils.sharpness.flat_sharp_loss`; a wrong answer gets a hint, not the formula."""
    from . import sharpness

    def call(c, d):
        try:
            return fn(c, d), None
        except NotImplementedError:
            return None, None
        except Exception as exc:  # a learner's bug: report it, do not crash the notebook
            return None, _("predicted_rise raised {name}: {exc}").format(name=type(exc).__name__, exc=exc)

    got, err = call(1.0, 0.02)
    if err:
        return _say(False, err)
    if _is_stub(got):
        return _todo(_("predicted_rise returns None"))
    pred, exact = {}, {}
    for key, well in (("flat", sharpness.FLAT), ("sharp", sharpness.SHARP)):
        c = well["depth"] / well["width"] ** 2
        for d in (0.01, 0.02):
            out, err = call(c, d)
            if err:
                return _say(False, err)
            val = _single_float(out)
            if val is None:
                return _say(False, _("predicted_rise should return one finite number; got {what} for c = "
                                     "{c:g}, δ = {d:g}").format(what=_shape_or_type(out), c=c, d=d))
            pred[key, d], exact[key, d] = val, sharpness.flat_sharp_rise(d)[key]
    if all(abs(pred[k] - exact[k]) <= 0.02 * exact[k] for k in pred):
        return _say(True, _("your prediction matches the exact rise at both minima for small δ"))
    hints = [_("at the flat minimum (c = 1, δ = 0.02) you predict {pred:.3g}, the exact rise is {exact:.3g}.")
             .format(pred=pred["flat", 0.02], exact=exact["flat", 0.02])]
    if pred["flat", 0.01] != 0 and abs(pred["flat", 0.02] / pred["flat", 0.01] - 2) < 0.1:
        hints.append(_("When δ doubles your rise doubles, the exact one grows 4×: how does a parabola grow "
                       "with the distance from its bottom?"))
    elif pred["flat", 0.02] != 0 and abs(pred["sharp", 0.02] / pred["flat", 0.02] - 25) > 2:
        hints.append(_("The sharp minimum is 25× more curved: how should the rise scale with c?"))
    elif all(abs(pred[k] / exact[k] - 2) < 0.1 for k in pred):
        hints.append(_("You are off by the same factor at both minima: look at every factor of the parabola "
                       "L(w) ≈ L(w*) + ½·L''(w*)·(w − w*)²."))
    else:
        hints.append(_("Put w = w* − δ into the parabola L(w) ≈ L(w*) + ½·L''(w*)·(w − w*)²."))
    return _say(False, " ".join(hints))


def check_stability_limit(c_max, lr=0.1):
    """Exercise 3 (notebook 03, section 6): ``c_max`` is the learner's largest curvature c for which
    gradient descent θ ← θ − η·g on L(θ) = ½·c·θ² (η = ``lr``) does not blow up; compared with the
    exact limit (derived in the notebook's solution cell). Common wrong answers (1/η, η/2, 2·η, η)
    get a hint, not the formula."""
    if _is_stub(c_max):
        return _todo(_("set c_max to a number"))
    val = _single_float(c_max)
    if val is None:
        return _say(False, _("c_max should be one finite number; got {what}").format(
            what=_shape_or_type(c_max)))
    want = 2.0 / lr
    if abs(val - want) <= 1e-6 * want:
        return _say(True, _("c_max = {want:g} = 2/η: at η = {lr:g}, gradient descent cannot stay in a "
                            "minimum sharper than {want:g}").format(want=want, lr=lr))
    if abs(val - 1.0 / lr) <= 1e-6 / lr:
        return _say(False, _("at c = {c:g} one step lands exactly at the bottom (1 − η·c = 0). A slightly "
                             "sharper minimum makes θ overshoot to the other side, but does its size still "
                             "shrink?").format(c=val))
    if abs(val - lr / 2) < 1e-9 or abs(val - 2 * lr) < 1e-9 or abs(val - lr) < 1e-9:
        return _say(False, _("{c:g} is not right: η·c is a pure number, so the limit on c must grow when η "
                             "shrinks. Write θ after one step as (factor)·θ.").format(c=val))
    return _say(False, _("c_max = {c:g} is not right: write θ after one step as (factor)·θ and ask when the "
                         "size of that factor exceeds 1.").format(c=val))


# ----------------------------------------------------------------------------- notebook 04 (having both)
def _is_none_or_ellipsis(value):
    return value is None or value is Ellipsis


def _float_or_none(value):
    """float(value) for a real number (not bool/str); None otherwise."""
    if isinstance(value, (bool, str, bytes)) or value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return v if np.isfinite(v) else None


def check_scaled_lr(value, batch_size=2048, base_lr=0.1, base_batch_size=32):
    """η for ``batch_size`` by the linear scaling rule η₀·B/B₀ (used inside
    :func:`check_stability_prediction`, notebook 04 exercise 1)."""
    if _is_none_or_ellipsis(value):
        return _todo(_("set lr_big to a number"))
    v = _float_or_none(value)
    if v is None:
        return _say(False, _("η should be a number; got {value!r}").format(value=value))
    want = base_lr * batch_size / base_batch_size
    if abs(v - want) <= 1e-6 * want:
        return _say(True, f"η = {base_lr:g} · {batch_size}/{base_batch_size} = {want:g}")
    if abs(v - base_lr) <= 1e-6 * base_lr:
        return _say(False, _("η = {v:g} is η₀ unchanged: the linear rule changes η with the batch size")
                    .format(v=v))
    if abs(v - base_lr * np.sqrt(batch_size / base_batch_size)) <= 1e-3 * v:
        return _say(False, _("η = {v:g} grows η with √(B/B₀); the linear rule grows it in proportion to B/B₀")
                    .format(v=v))
    if v < base_lr:
        return _say(False, _("η = {v:g} is smaller than η₀: with the linear rule η grows with B").format(v=v))
    return _say(False, _("η = {v:g} is not η_B = η₀·B/B₀ for B = {b}, B₀ = {b0}, η₀ = {lr0:g}").format(
        v=v, b=batch_size, b0=base_batch_size, lr0=base_lr))


def check_stability_prediction(lr, verdict, lam_start, batch_size=2048, base_lr=0.1, base_batch_size=32):
    """Exercise 1 of notebook 04: the linearly scaled η for ``batch_size`` and the prediction
    "stable"/"unstable" for the first updates, from λ_max at the start against the limit 2/η
    (gradient descent on a quadratic of curvature λ is stable iff η·λ < 2)."""
    if _is_none_or_ellipsis(lr) or _is_none_or_ellipsis(verdict):
        return _todo(_("set lr_2048 to a number and verdict to 'stable' or 'unstable'"))
    lam = _float_or_none(lam_start)
    if lam is None or lam <= 0:
        return _say(False, _("lam_start must be the positive λ_max printed above; got {value!r}").format(
            value=lam_start))
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()) as buf:  # reuse the η messages, print one line
        ok_lr = check_scaled_lr(lr, batch_size, base_lr, base_batch_size)
    if not ok_lr:
        return _say(False, buf.getvalue().strip()[2:])
    if not isinstance(verdict, str) or verdict.strip().lower() not in ("stable", "unstable"):
        return _say(False, _("verdict should be the string 'stable' or 'unstable'; got {value!r}").format(
            value=verdict))
    want = "unstable" if float(lr) * lam > 2 else "stable"
    if verdict.strip().lower() == want:
        return _say(True, (_("η = {lr:g}: 2/η = {limit:.2g} against λ_max ≈ {lam:.2g} at the start, so "
                             "unstable. Now move the slider and see.") if want == "unstable" else
                           _("η = {lr:g}: 2/η = {limit:.2g} against λ_max ≈ {lam:.2g} at the start, so "
                             "stable. Now move the slider and see.")).format(
            lr=float(lr), limit=2 / float(lr), lam=lam))
    return _say(False, _("η is right, the verdict is not: compare λ_max with 2/η for your η (stable means "
                         "λ_max < 2/η)"))


#: the library's own estimators: a learner's two_batch that calls one of them is refused (notebook 04 Ex. 2)
_LIBRARY_NOISE = ("noise_scale_from_norms", "estimate_noise_scale")


def _uses_library_noise(fn):
    """True when ``fn`` is one of the library's noise-scale estimators or its code (nested functions
    included) names one of them (:data:`_LIBRARY_NOISE`)."""
    from . import noise

    if any(fn is getattr(noise, name, None) for name in _LIBRARY_NOISE):
        return True
    code = getattr(fn, "__code__", None)
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        if any(name in _LIBRARY_NOISE for name in c.co_names + c.co_freevars):
            return True
        stack += [k for k in c.co_consts if hasattr(k, "co_names")]
    return False


def _noise_slip(vals, small, big, bs, bb):
    """A hint for a known slip in the two-batch estimator (notebook 04 Ex. 2), or None. ``vals`` are
    the learner's (g2, trace) for the expected norms ``small``/``big`` at batch sizes ``bs`` < ``bb``."""
    g2, tr = vals
    true_g2 = (bb * big - bs * small) / (bb - bs)
    true_tr = (small - big) / (1 / bs - 1 / bb)

    def close(a, b):
        return np.isclose(a, b, rtol=1e-6)

    if close(g2, true_tr) and close(tr, true_g2):
        return _("your two numbers are in the wrong order: return (g2, trace), |G|² first")
    if close(tr, -true_tr):
        return _("your tr Σ is negative: a variance cannot be. Which batch has the larger expected |G_B|², "
                 "the small one or the big one? Subtract in that order")
    if close(tr, (small - big) / (bb - bs)) or close(tr, (small - big) * (bb - bs)):
        return _("your tr Σ mixes up B and 1/B: the noise term is tr Σ divided by B, so subtracting the two "
                 "equations leaves tr Σ times a difference of 1/B's")
    if close(g2, big) or close(g2, small):
        return _("your |G|² is one of the measured norms itself: each measured norm still contains its noise "
                 "term tr Σ/B; combine the two so that tr Σ cancels")
    if close(g2, (small + big) / 2):
        return _("averaging the two norms does not remove the noise: weight each equation so that the tr Σ "
                 "terms become equal, then subtract")
    if close(g2, (bs * big - bb * small) / (bb - bs)) or close(g2, (bs * big - bb * small) / (bs - bb)):
        return _("your |G|² has the batch sizes on the wrong norms: multiply each equation by its own batch "
                 "size (B·E|G_B|² = B·|G|² + tr Σ), then subtract")
    return None


def check_noise_estimator(fn):
    """Exercise 2 of notebook 04: ``fn(sq_small, sq_big, b_small, b_big) -> (g2, trace)`` with
    replacement, derived by the learner from E|G_B|² = |G|² + tr Σ/B at two batch sizes. The check feeds
    exact expected norms; each known slip (order, sign, B for 1/B, a raw norm as |G|², an average,
    swapped weights) has its own hint, and the library's estimator is refused."""
    if _is_none_or_ellipsis(fn):
        return _todo(_("write two_batch(sq_small, sq_big, b_small, b_big)"))
    if not callable(fn):
        return _say(False, _("pass your function two_batch itself (not its result); got {type}").format(
            type=type(fn).__name__))
    if _uses_library_noise(fn):
        return _say(False, _("your function hands the work to the library's estimator: write it yourself "
                             "from the two equations E|G_B|² = |G|² + tr Σ/B"))
    from .scaling import noise_scale_from_norms

    rng = np.random.default_rng(0)
    for _trial in range(5):
        g2, tr = rng.uniform(0.1, 2), rng.uniform(1, 50)
        bs, bb = int(rng.integers(1, 50)), int(rng.integers(60, 1000))
        small, big = g2 + tr / bs, g2 + tr / bb
        try:
            got = fn(small, big, bs, bb)
        except Exception as exc:  # a learner's bug: say what happened, do not crash
            return _say(False, _("your function raised {name}: {exc}").format(name=type(exc).__name__,
                                                                              exc=exc))
        if got is None or got is Ellipsis:
            return _todo(_("return (g2, trace)"))
        if not isinstance(got, (tuple, list, np.ndarray)) or len(got) != 2:
            return _say(False, _("two_batch should return two numbers (g2, trace); it returned {got!r}")
                        .format(got=got))
        if any(v is None or v is Ellipsis for v in got):
            return _todo(_("fill in g2 and trace in this cell"))
        vals = [_float_or_none(v) for v in got]
        if any(v is None for v in vals):
            return _say(False, _("g2 and trace should be finite numbers; got {got!r}").format(got=got))
        ref = noise_scale_from_norms(small, big, bs, bb)
        bad = [name for name, v, w in (("|G|²", vals[0], ref.g2), ("tr Σ", vals[1], ref.trace))
               if not np.isclose(v, w, rtol=1e-8)]
        if bad:
            slip = _noise_slip(vals, small, big, bs, bb)
            if slip:
                return _say(False, slip)
            numbers_ = dict(small=small, big=big, bs=bs, bb=bb)
            if len(bad) == 1:
                return _say(False, _("for |G_small|² = {small:.3f}, |G_big|² = {big:.3f}, B_s = {bs}, B_b = "
                                     "{bb} your {what} is off: both expected norms must satisfy E|G_B|² = "
                                     "|G|² + tr Σ/B; solve the two equations for the two unknowns").format(
                    what=bad[0], **numbers_))
            return _say(False, _("for |G_small|² = {small:.3f}, |G_big|² = {big:.3f}, B_s = {bs}, B_b = {bb} "
                                 "your {what} and {other} are off: both expected norms must satisfy E|G_B|² "
                                 "= |G|² + tr Σ/B; solve the two equations for the two unknowns").format(
                what=bad[0], other=" and ".join(bad[1:]), **numbers_))
    return _say(True, _("your estimator recovers |G|² and tr Σ exactly from the two expected norms"))


def check_b_crit(value, record):
    """B_crit = E_min / S_min from S_min and E_min fitted to the ``critical_batch`` cache's seed means
    (``record``; :func:`lecture_utils.tuning.critical_fit`); a value that rounds to the printed integer
    is accepted."""
    if _is_none_or_ellipsis(value):
        return _todo(_("set b_crit to a number"))
    v = _float_or_none(value)
    if v is None:
        return _say(False, _("b_crit should be a number; got {value!r}").format(value=value))
    from .tuning import critical_fit

    want = critical_fit(record)["b_crit"]
    if abs(v - want) <= 0.5 + 1e-9:
        return _say(True, _("B_crit = E_min / S_min ≈ {want:.0f} examples").format(want=want))
    return _say(False, _("divide the minimum number of examples E_min by the minimum number of updates "
                         "S_min"))


def check_doubling_ratios(ratio_below, ratio_above):
    """Exercise 3 of notebook 04: with S(B) = S_min(1 + B_crit/B), the factor by which doubling B
    multiplies the updates S, from B_crit/4 to B_crit/2 (``ratio_below`` = 3/5) and from B_crit to
    2·B_crit (``ratio_above`` = 3/4); two decimals suffice."""
    if _is_none_or_ellipsis(ratio_below) or _is_none_or_ellipsis(ratio_above):
        return _todo(_("set ratio_below and ratio_above to numbers"))
    lo, hi = _float_or_none(ratio_below), _float_or_none(ratio_above)
    if lo is None or hi is None:
        return _say(False, _("both ratios should be numbers; got {below!r} and {above!r}").format(
            below=ratio_below, above=ratio_above))
    want_lo, want_hi = 3 / 5, 3 / 4

    def near(a, b):
        return abs(a - b) <= 0.006

    if near(lo, want_lo) and near(hi, want_hi):
        return _say(True, _("below B_crit doubling B nearly halves S; above it, twice the examples buy only "
                            "25 % fewer updates"))
    if near(lo, want_hi) and near(hi, want_lo):
        return _say(False, _("your two ratios are swapped: which side of B_crit is closer to perfect "
                             "scaling?"))
    if near(lo, 0.5) or near(hi, 0.5):
        return _say(False, _("0.5 is perfect scaling (S ∝ 1/B); S(B) = S_min(1 + B_crit/B) also has the "
                             "constant term S_min"))
    if lo > 1 or hi > 1:
        return _say(False, _("a ratio above 1 means you divided the old S by the new one: the ratio asked is "
                             "S(2B)/S(B), the new count over the old"))
    if near(lo, 1) or near(hi, 1):
        return _say(False, _("a ratio of 1 means doubling B saves nothing: put the two batch sizes into "
                             "S(B) = S_min(1 + B_crit/B) and divide"))
    return _say(False, _("not yet: write S(2B)/S(B) with S(B) = S_min(1 + B_crit/B), then put B = B_crit/4 "
                         "for the first ratio and B = B_crit for the second (S_min cancels)"))


# ----------------------------------------------------------------------------- keep this block last
def _guard_every_check(namespace):
    """Wrap every ``check_*`` function of this module with :func:`never_raises` (also checks added
    later, as long as they are defined above this block; tests/test_checks_never_raise.py verifies)."""
    for name, obj in list(namespace.items()):
        if name.startswith("check_") and inspect.isfunction(obj):
            namespace[name] = never_raises(obj)


_guard_every_check(globals())
