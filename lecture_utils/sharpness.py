"""Sharp and flat minima: Hessian eigenvalues, Keskar's ε-sharpness, the line between two solutions,
rescaling.

Used by notebook 03 ("Large batches generalize worse"), sections 2-3 and its deep dives:

* :func:`hvp` — the Hessian-vector product ``H v = ∇_θ (∇_θ L(θ) · v)`` by double backward;
* :func:`top_hessian_eigenvalue` — the largest eigenvalue λ_max of the Hessian of the training
  loss, by power iteration ``v ← H v / ‖H v‖``, ``λ = vᵀ H v`` (section 3; deep dive "Computing sharpness");
  :func:`top_hessian_eigenpair` the same from a warm start, returning v too (λ_max along a run:
  the deep dive "Sharpness during training");
* :func:`hessian_matrix` — the whole Hessian, column by column, for models small enough (tests);
* :func:`epsilon_sharpness` — Keskar et al. (2017), eq. 4: the relative rise of the loss at the
  worst point of the box ``|z_i| ≤ ε(|θ_i| + 1)`` around θ, in percent (deep dive "Computing sharpness");
* :func:`interpolation_curve` — loss and accuracy along ``w(α) = α·w_LB + (1 − α)·w_SB``
  (Keskar's figure 3; deep dive "The line between two solutions");
* :func:`flat_sharp_loss` — the lecture's 1-D picture of a flat and a sharp minimum, with a test
  loss shifted from the training loss (section 2);
* :func:`rescale_layers` — Dinh et al. (2017): multiply one ReLU layer by c and the next by 1/c:
  the same function, another Hessian (deep dive "Sharpness is not a property of the function").
"""
from __future__ import annotations

import copy

import numpy as np

from ._validate import Interval, check_array, check_int, validate_params
from .i18n import _

#: The two wells of :func:`flat_sharp_loss`: centre, width σ and depth of the flat and the sharp minimum.
FLAT = {"center": -2.5, "width": 1.0, "depth": 1.0}
SHARP = {"center": 2.0, "width": 0.2, "depth": 1.0}


# ----------------------------------------------------------------------------- checks
def _check_model(model):
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ValueError("model must be a torch.nn.Module (e.g. TrainResult.model); got "
                         f"{type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model must have trainable parameters (requires_grad=True); it has none")
    return params


def _check_xy(model, x, y, loss_fn=None):
    """x as a 2-D tensor of the model's dtype; y, for the default cross-entropy (``loss_fn=None``), as
    an int64 vector of one label per row of x. With a custom ``loss_fn``, y is whatever that loss takes
    (regression targets of shape (n, 1), soft labels, …): a tensor with one row per row of x (floating
    targets in the model's dtype)."""
    import torch

    dtype = next(model.parameters()).dtype
    if isinstance(x, torch.Tensor):
        x = x.detach()
        if x.ndim != 2 or not torch.isfinite(x).all():
            raise ValueError("x must be a finite 2-D array (examples × features); got shape "
                             f"{tuple(x.shape)}")
        x = x.to(dtype)
    else:
        x = torch.from_numpy(check_array("x", x, ndim=2)).to(dtype)
    if loss_fn is not None:
        return x, _custom_targets(y, len(x), dtype)
    if isinstance(y, torch.Tensor):
        y = y.detach().to(torch.int64)
    else:
        y = torch.from_numpy(check_array("y", y, ndim=1, dtype=np.int64))
    if y.ndim != 1 or len(y) != len(x):
        raise ValueError(f"y must be a 1-D array with one label per row of x ({len(x)}); got shape "
                         f"{tuple(y.shape)}")
    if len(y) == 0:
        raise ValueError("x and y must hold at least one example; got 0")
    return x, y


def _custom_targets(y, n, dtype):
    """The targets of a custom loss: a tensor with ``n`` rows (any further shape), finite, floating
    targets cast to the model's ``dtype`` (integer labels stay integers)."""
    import torch

    if not isinstance(y, torch.Tensor):
        try:
            y = torch.as_tensor(np.asarray(y))
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ValueError(f"y must be an array of targets for loss_fn; got {type(y).__name__}") from exc
    y = y.detach()
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"y must have one row per row of x ({n}); got shape {tuple(y.shape)}")
    if n == 0:
        raise ValueError("x and y must hold at least one example; got 0")
    if y.is_floating_point():
        if not torch.isfinite(y).all():
            raise ValueError("y must contain only finite numbers")
        y = y.to(dtype)
    return y


def _loss_fn(loss_fn):
    import torch.nn.functional as F

    if loss_fn is None:
        return F.cross_entropy
    if not callable(loss_fn):
        raise ValueError("loss_fn must be None (cross-entropy) or a callable loss_fn(outputs, y); got "
                         f"{loss_fn!r}")
    return loss_fn


# ----------------------------------------------------------------------------- Hessian
def _grads(model, x, y, loss_fn):
    import torch

    params = _check_model(model)
    lf = _loss_fn(loss_fn)
    x, y = _check_xy(model, x, y, loss_fn)
    loss = lf(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    return params, grads


def _hvp(params, grads, vs):
    import torch

    return torch.autograd.grad(grads, params, grad_outputs=vs, retain_graph=True)


def hvp(model, x, y, v, *, loss_fn=None):
    """Hessian-vector product ``H v = ∇_θ (∇_θ L(θ) · v)`` of the mean loss on ``(x, y)``.

    Two backward passes ("double backward", Pearlmutter's trick): the Hessian is never formed.
    ``v`` is a flat vector with one entry per parameter (order of ``model.parameters()``);
    returns ``H v`` as a float64 numpy vector. Notebook 03, section 3.
    """
    import torch

    params, grads = _grads(model, x, y, loss_fn)
    n = sum(p.numel() for p in params)
    v = check_array("v", v, ndim=1)
    if len(v) != n:
        raise ValueError(f"v must have one entry per parameter ({n}); got {len(v)}")
    vs, i = [], 0
    for p in params:
        vs.append(torch.as_tensor(v[i:i + p.numel()], dtype=p.dtype).reshape(p.shape))
        i += p.numel()
    hv = _hvp(params, grads, vs)
    return torch.cat([h.reshape(-1) for h in hv]).double().numpy()


@validate_params(max_params=Interval("int", 1, 20000))
def hessian_matrix(model, x, y, *, loss_fn=None, max_params=3000):
    """The whole Hessian ``H_ij = ∂²L/∂θ_i∂θ_j`` (float64 numpy, symmetrised), one HVP per column.

    Only for tiny models (at most ``max_params`` parameters): used by the tests to check
    :func:`top_hessian_eigenvalue` against ``numpy.linalg.eigvalsh``. Notebook 03, section 3.
    """
    import torch

    params, grads = _grads(model, x, y, loss_fn)
    n = sum(p.numel() for p in params)
    if n > max_params:
        raise ValueError(f"model must have at most max_params={max_params} parameters to form its Hessian; "
                         f"it has {n} (use top_hessian_eigenvalue instead)")
    flat_g = torch.cat([g.reshape(-1) for g in grads])
    rows = []
    for i in range(n):
        row = torch.autograd.grad(flat_g[i], params, retain_graph=True)
        rows.append(torch.cat([r.reshape(-1) for r in row]))
    h = torch.stack(rows).double().numpy()
    return 0.5 * (h + h.T)


#: Ranges of the power iteration's settings (:func:`top_hessian_eigenvalue`, :func:`top_hessian_eigenpair`).
POWER_ITERATION = dict(iters=Interval("int", 1, 100000), tol=Interval("real", 0.0, 1.0, closed="right"),
                       seed=Interval("int", 0, 2**63 - 1))


@validate_params(**POWER_ITERATION)
def top_hessian_eigenvalue(model, x, y, *, loss_fn=None, iters=100, tol=1e-4, seed=0):
    """Largest Hessian eigenvalue λ_max of the mean training loss, by power iteration.

    Start from a random unit vector v (fixed by ``seed``), then repeat ``w = H v`` (a
    Hessian-vector product, :func:`hvp`), ``λ = vᵀ w`` (Rayleigh quotient), ``v = w / ‖w‖``
    until λ changes by less than ``tol``·|λ| or after ``iters`` products. Power iteration finds
    the eigenvalue of largest magnitude; at a minimum of the loss that is λ_max > 0.
    ``loss_fn(outputs, y)`` defaults to cross-entropy. Notebook 03, section 3 ("Sharpness, way 1").
    """
    return _power_iteration(model, x, y, None, loss_fn, iters, tol, seed)[0]


@validate_params(**POWER_ITERATION)
def top_hessian_eigenpair(model, x, y, *, v0=None, loss_fn=None, iters=100, tol=1e-4, seed=0):
    """``(λ, v, products)``: the power iteration of :func:`top_hessian_eigenvalue`, started from ``v0``
    when given (a flat vector, one entry per parameter, e.g. the ``v`` of the previous call: a *warm
    start*), and also returning the last unit vector v (float64 numpy) and the number of
    Hessian-vector products used.

    Along a training run the top eigenvector turns slowly between two measurements, so a warm
    start needs a few products where a random start needs tens (notebook 03, deep dive
    "Sharpness during training", sweep ``sharpness_trajectory``). ``v0 = None`` is exactly
    :func:`top_hessian_eigenvalue` (random start fixed by ``seed``).
    """
    return _power_iteration(model, x, y, v0, loss_fn, iters, tol, seed)


def _power_iteration(model, x, y, v0, loss_fn, iters, tol, seed):
    """(λ, v as a float64 numpy vector, Hessian-vector products used)."""
    import torch

    params, grads = _grads(model, x, y, loss_fn)
    if v0 is None:
        gen = torch.Generator().manual_seed(seed)
        vs = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in params]
    else:
        n = sum(p.numel() for p in params)
        v0 = check_array("v0", v0, ndim=1)
        if len(v0) != n or not np.any(v0):
            raise ValueError(f"v0 must be a nonzero vector with one entry per parameter ({n}); "
                             f"got {len(v0)} entries")
        vs, i = [], 0
        for p in params:
            vs.append(torch.as_tensor(v0[i:i + p.numel()], dtype=p.dtype).reshape(p.shape))
            i += p.numel()
    norm = torch.sqrt(sum((v * v).sum() for v in vs))
    vs = [v / norm for v in vs]
    lam = None
    used = 0

    def flat(ws):
        return torch.cat([w.detach().reshape(-1) for w in ws]).double().numpy()

    for _it in range(iters):
        ws = _hvp(params, grads, vs)
        used += 1
        new = float(sum((v * w).sum() for v, w in zip(vs, ws)))
        norm = torch.sqrt(sum((w * w).sum() for w in ws))
        if not np.isfinite(new) or float(norm) == 0.0:
            return (new if np.isfinite(new) else float("nan")), flat(vs), used
        vs = [w / norm for w in ws]
        if lam is not None and abs(new - lam) <= tol * abs(new):
            return new, flat(vs), used
        lam = new
    return lam, flat(vs), used


# ----------------------------------------------------------------------------- ε-sharpness
@validate_params(eps=Interval("real", 0.0, 1.0, closed="right"), steps=Interval("int", 1, 10000))
def epsilon_sharpness(model, x, y, *, eps=1e-3, steps=20, loss_fn=None):
    """Keskar et al. (2017), eq. 4, with A = I: the worst relative loss rise in a small box, in %.

        φ(θ, ε) = 100 · (max_{z ∈ C_ε} L(θ + z) − L(θ)) / (1 + L(θ)),
        C_ε = { z : |z_i| ≤ ε (|θ_i| + 1) }.

    The maximum is approached by ``steps`` steps of projected sign-gradient ascent from z = 0
    (step 2.5·ε(|θ_i|+1)/steps per coordinate, then clipping into the box; Keskar used
    L-BFGS-B); the largest loss seen is used, so the value is a lower bound of the true maximum.
    The model is left unchanged. Notebook 03, section 3 ("Sharpness, way 2").
    """
    import torch

    params = _check_model(model)
    lf = _loss_fn(loss_fn)
    x, y = _check_xy(model, x, y, loss_fn)
    theta = [p.detach().clone() for p in params]
    box = [eps * (t.abs() + 1.0) for t in theta]
    z = [torch.zeros_like(t) for t in theta]
    with torch.no_grad():
        base = float(lf(model(x), y))
    worst = base
    try:
        for _ in range(steps):
            with torch.no_grad():
                for p, t, zi in zip(params, theta, z):
                    p.copy_(t + zi)
            loss = lf(model(x), y)
            worst = max(worst, float(loss.detach()))
            grads = torch.autograd.grad(loss, params)
            with torch.no_grad():
                for zi, g, b in zip(z, grads, box):
                    zi.add_(2.5 * b / steps * torch.sign(g))
                    torch.maximum(torch.minimum(zi, b), -b, out=zi)
        with torch.no_grad():
            for p, t, zi in zip(params, theta, z):
                p.copy_(t + zi)
            worst = max(worst, float(lf(model(x), y)))
    finally:
        with torch.no_grad():
            for p, t in zip(params, theta):
                p.copy_(t)
    return 100.0 * (worst - base) / (1.0 + base)


# ----------------------------------------------------------------------------- parameters
def set_flat_params(model, w):
    """Copy the flat vector ``w`` (order of ``model.parameters()``, as ``train.flat_params``) into
    ``model``."""
    import torch

    params = _check_model(model)
    n = sum(p.numel() for p in params)
    w = check_array("w", w, ndim=1)
    if len(w) != n:
        raise ValueError(f"w must have one entry per parameter of the model ({n}); got {len(w)}")
    with torch.no_grad():
        i = 0
        for p in params:
            p.copy_(torch.as_tensor(w[i:i + p.numel()], dtype=p.dtype).reshape(p.shape))
            i += p.numel()
    return model


def model_from_flat(w, *, hidden=256, depth=2, n_in=40, n_out=10):
    """The course's MLP (:func:`lecture_utils.train.make_mlp`) with its parameters set to ``w``."""
    from .train import make_mlp

    model = make_mlp(0, n_in=n_in, hidden=hidden, n_out=n_out, depth=depth)
    set_flat_params(model, w)
    model.eval()
    return model


def interpolation_curve(w_sb, w_lb, data, *, alphas=None, hidden=256, depth=2):
    """Loss and accuracy along the line ``w(α) = α·w_LB + (1 − α)·w_SB`` (Keskar et al., fig. 3).

    α = 0 is the small-batch solution, α = 1 the large-batch one; α outside [0, 1] extrapolates.
    ``data`` is a :class:`lecture_utils.data.Dataset`; ``alphas`` defaults to 61 points in [−1, 2].
    Returns a dict of numpy arrays: ``alpha``, ``train_loss``, ``train_acc``, ``test_loss``,
    ``test_acc``. Notebook 03, deep dive "The line between two solutions".
    """
    from .train import as_tensors, evaluate

    w_sb = check_array("w_sb", w_sb, ndim=1)
    w_lb = check_array("w_lb", w_lb, shape=(len(w_sb),))
    alphas = np.linspace(-1.0, 2.0, 61) if alphas is None else check_array("alphas", alphas, ndim=1)
    if len(alphas) == 0:
        raise ValueError("alphas must hold at least one value; got an empty array")
    x, y, xt, yt = as_tensors(data)
    model = model_from_flat(w_sb, hidden=hidden, depth=depth, n_in=x.shape[1], n_out=int(y.max()) + 1)
    out = {k: np.empty(len(alphas)) for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
    for i, a in enumerate(alphas):
        set_flat_params(model, a * w_lb + (1.0 - a) * w_sb)
        out["train_loss"][i], out["train_acc"][i] = evaluate(model, x, y)
        out["test_loss"][i], out["test_acc"][i] = evaluate(model, xt, yt)
    out["alpha"] = np.asarray(alphas, dtype=float)
    return out


@validate_params(c=Interval("real", 0.0, None, closed="neither"))
def rescale_layers(model, layer, c):
    """Dinh et al. (2017): a copy of the ReLU network with Linear layer ``layer`` multiplied by c
    (weights and bias) and the next Linear layer's weights divided by c.

    Since ReLU(c·z) = c·ReLU(z) for c > 0, the copy computes exactly the same function (same
    loss, same accuracy), yet its Hessian — and so its "sharpness" — differs.
    ``layer`` counts Linear layers from 0 and must have a next one. Notebook 03, section 5 ("Think!").
    """
    import torch

    _check_model(model)
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    layer = check_int("layer", layer, low=0, high=len(linears) - 2)
    new = copy.deepcopy(model)
    lin = [m for m in new.modules() if isinstance(m, torch.nn.Linear)]
    with torch.no_grad():
        lin[layer].weight.mul_(c)
        if lin[layer].bias is not None:
            lin[layer].bias.mul_(c)
        lin[layer + 1].weight.div_(c)
    return new


# ----------------------------------------------------------------------------- the 1-D picture
def _well(w, center, width, depth):
    return depth * np.exp(-0.5 * ((w - center) / width) ** 2)


#: δ of :func:`flat_sharp_loss` and :func:`flat_sharp_rise`.
SHIFT = Interval("real", -10.0, 10.0)


@validate_params(shift=SHIFT)
def flat_sharp_loss(w, shift=0.0):
    """The lecture's 1-D landscape with a flat and a sharp minimum of equal depth (notebook 03, section 2):

        L(w) = 1 − exp(−(w − w_F)² / 2σ_F²) − exp(−(w − w_S)² / 2σ_S²)

    with the flat well (w_F, σ_F) = (−2.5, 1) and the sharp well (w_S, σ_S) = (2, 0.2)
    (:data:`FLAT`, :data:`SHARP`). The test loss is the same curve moved by ``shift`` δ:
    ``L_test(w) = L(w − δ)``. Near a minimum L rises by about ½·L''·δ² with L'' = 1/σ².
    """
    w = check_array("w", w)
    v = w - shift
    return (1.0 - _well(v, FLAT["center"], FLAT["width"], FLAT["depth"])
            - _well(v, SHARP["center"], SHARP["width"], SHARP["depth"]))


@validate_params(shift=SHIFT)
def flat_sharp_rise(shift):
    """How much the test loss ``L(w − δ)`` exceeds the training loss at each of the two minima:
    ``{"flat": L(w_F − δ) − L(w_F), "sharp": L(w_S − δ) − L(w_S)}`` (notebook 03, section 2)."""
    out = {}
    for name, well in (("flat", FLAT), ("sharp", SHARP)):
        c = np.array([well["center"]])
        out[name] = float(flat_sharp_loss(c, shift)[0] - flat_sharp_loss(c, 0.0)[0])
    return out


def rescale_line(c, loss, acc, lam):
    """Notebook 03, deep dive "Sharpness is not a property of the function": one line per factor ``c`` of
    :func:`rescale_layers` — the training loss and accuracy (unchanged: the same function) and the top
    Hessian eigenvalue (which changes)."""
    return _("c = {c:>4}: training loss {loss:.4f}, training accuracy {acc:.2f}, top eigenvalue λ_max = "
             "{lam:.3g}").format(c=c, loss=loss, acc=acc, lam=lam)
