"""Gradient noise of mini-batches on real data (notebook 02 "Noise on real data"; reused by notebook 04).

For a model with parameters θ and N training examples with per-example gradients gᵢ = ∇ℓᵢ(θ),
the full gradient is g = (1/N)·Σᵢ gᵢ and a batch 𝓑 of B distinct examples drawn at random gives
g_𝓑 = (1/B)·Σ_{i∈𝓑} gᵢ. Its expected squared distance from the full gradient is

    E‖g_𝓑 − g‖² = tr(Σ)/B · (N − B)/(N − 1)        (without replacement; tr(Σ)/B with replacement)

with tr(Σ) = (1/N)·Σᵢ ‖gᵢ − g‖² the total per-example gradient variance. On a log-log plot the
variance against B is a line of slope −1 (bending down only as B approaches N). The *direction*
spreads too: cos(g_𝓑, g) = g_𝓑·g / (‖g_𝓑‖‖g‖) is near 1 for large batches and small for B = 1.

Each batch gradient is one ordinary forward/backward pass; tr(Σ) needs all N per-example gradient
norms, which for a stack of linear layers come exactly from one pass (the "ghost norm" identity
‖δᵢ·aᵢᵀ‖ = ‖δᵢ‖·‖aᵢ‖), so a whole curve over B = 1 … 1024 takes about a second on two cores.

The factor c(B) = (N − B)/(B·(N − 1)) (1/B with replacement) is :func:`finite_population_factor`,
the one place it is written.

Gradient noise scale (McCandlish et al. 2018; notebook 04 §4, deep dive): B_simple = tr(Σ)/|G|². A batch of
B examples has E|G_B|² = |G|² + c(B)·tr(Σ), so two measured batch sizes B_s < B_b give the unbiased
estimates (their appendix A; :func:`noise_scale_from_norms`, :func:`estimate_noise_scale`)

    tr(Σ) ≈ (|G_Bs|² − |G_Bb|²) / (c(B_s) − c(B_b)),      |G|² ≈ |G_Bb|² − c(B_b)·tr(Σ);

:func:`exact_noise_scale` computes both from all per-example gradients (:func:`per_example_gradients`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import COUNT, SEED, Interval, check_array, check_batch_size, check_int, validate_params

#: Batch sizes of notebook 02's noise measurement: 1, 2, 4, …, 1024.
DEFAULT_BATCH_SIZES = tuple(2**k for k in range(11))


@validate_params(n=Interval("int", 2, None, allow_none=True))
def finite_population_factor(n, b):
    """c(B) = (N − B)/(B·(N − 1)): the variance of the mean of B of N numbers drawn *without*
    replacement, per unit of their variance (1/B when ``n`` is None: drawn with replacement).

    So E‖g_𝓑 − g‖² = tr(Σ)·c(B) (notebook 02 §5) and c(B) is the 1/B of the two-batch noise-scale
    estimator (notebook 04 §4, deep dive). ``b`` may be an array of batch sizes; c(N) = 0 (the full batch).
    """
    arr = np.asarray(b)
    if arr.dtype.kind not in "iuf" or arr.size == 0 or not np.all(np.isfinite(arr)) \
            or np.any(arr < 1) or (n is not None and np.any(arr > n)):
        raise ValueError(f"b must be batch sizes in [1, {'N' if n is None else n}]; got {b!r}")
    if arr.ndim == 0:
        b = arr.item()
    return 1.0 / b if n is None else (n - b) / (b * (n - 1))


def _check_model_data(model, x, y, loss_fn):
    import torch
    import torch.nn.functional as F

    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    x = torch.as_tensor(x)
    y = torch.as_tensor(y)
    if x.ndim < 2 or y.ndim < 1 or len(x) != len(y):
        raise ValueError(f"x must have shape (N, …) and y shape (N,) with the same N; got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}")
    if len(x) < 2:
        raise ValueError("x must hold at least 2 examples")
    loss_fn = F.cross_entropy if loss_fn is None else loss_fn
    try:
        with torch.no_grad():
            loss_fn(model(x[:2]), y[:2])
    except (RuntimeError, TypeError, IndexError) as exc:
        raise ValueError(f"x and y do not fit the model and loss_fn (x shape {tuple(x.shape)}, y shape "
                         f"{tuple(y.shape)}): {str(exc).splitlines()[0][:160]}") from exc
    return x, y, loss_fn


def _flat_gradient(model, loss):
    """∇θ ``loss`` over the model's trainable parameters, as one float64 numpy vector."""
    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    g = torch.autograd.grad(loss, params)
    return torch.cat([q.reshape(-1) for q in g]).double().numpy()


def full_gradient(model, x, y, *, loss_fn=None):
    """g = ∇θ (1/N)·Σᵢ ℓᵢ(θ) over all of (x, y), as a float64 numpy vector (parameter order of the model).
    Notebook 02 §5 "Noise on real data" (via :func:`gradient_noise`); notebook 04.

    ``loss_fn(outputs, y)`` must return the *mean* loss of a batch (default: cross-entropy).
    """
    x, y, loss_fn = _check_model_data(model, x, y, loss_fn)
    return _flat_gradient(model, loss_fn(model(x), y))


def batch_gradients(model, x, y, batches, *, loss_fn=None):
    """Gradients g_𝓑 = ∇θ (1/B)·Σ_{i∈𝓑} ℓᵢ(θ) of each batch, shape (K, P) float64; ``batches`` is an
    integer array of shape (K, B). One forward and backward pass per batch (with B = 1 these are the
    per-example gradients gᵢ). Notebook 02 §5 (via :func:`gradient_noise`); notebook 04.
    """
    import torch

    x, y, loss_fn = _check_model_data(model, x, y, loss_fn)
    idx = np.asarray(batches)
    if idx.ndim != 2 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise ValueError(f"batches must be a non-empty integer array of shape (K, B); got shape {idx.shape}")
    if idx.min() < 0 or idx.max() >= len(x):
        raise ValueError(f"batches must hold indices in [0, {len(x) - 1}]")
    rows = torch.from_numpy(idx.astype(np.int64))
    return np.stack([_flat_gradient(model, loss_fn(model(x[ib]), y[ib])) for ib in rows])


def _linear_stack(model):
    """The nn.Linear layers if every parameter of ``model`` belongs to one (else None)."""
    import torch

    lins = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    owned = {id(p) for m in lins for p in m.parameters()}
    if not lins or any(id(p) not in owned for p in model.parameters()):
        return None
    return lins


@validate_params(n_sample=COUNT, seed=SEED)
def mean_sq_example_grad(model, x, y, *, loss_fn=None, n_sample=512, seed=0, exact=True):
    """(1/N)·Σᵢ ‖gᵢ‖², the mean squared norm of the per-example gradients.

    For models whose parameters all sit in ``nn.Linear`` layers (the course MLP) it is exact and
    takes one forward and one backward pass: a linear layer out = a·Wᵀ + b has per-example
    gradient δᵢ·aᵢᵀ (and δᵢ for b), δᵢ = ∂ℓᵢ/∂outᵢ, so ‖gᵢ‖² = Σ_layers (‖aᵢ‖² + 1)·‖δᵢ‖²
    (Goodfellow 2015; it assumes the model treats examples independently, as an MLP does). Other
    models: the mean over ``n_sample`` examples drawn at random (an estimate). Notebook 02 §5; notebook 04.
    """
    import torch

    x, y, loss_fn = _check_model_data(model, x, y, loss_fn)
    n = len(x)
    lins = _linear_stack(model) if exact else None
    if lins is None:
        k = min(n_sample, n)
        idx = np.random.default_rng(seed).choice(n, size=k, replace=False)[:, None]
        gi = batch_gradients(model, x, y, idx, loss_fn=loss_fn)
        return float(np.mean(np.sum(gi**2, axis=1)))
    acts = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: acts.append((inp[0], out))) for m in lins]
    try:
        out = model(x)
    finally:
        for h in hooks:
            h.remove()
    loss = loss_fn(out, y) * n            # Σᵢ ℓᵢ: its gradient w.r.t. outᵢ is δᵢ
    deltas = torch.autograd.grad(loss, [o for _, o in acts])
    if any(a.ndim != 2 for a, _ in acts) or len(acts) != len(lins):   # sequences, reused layers: sample
        return mean_sq_example_grad(model, x, y, loss_fn=loss_fn, n_sample=n_sample, seed=seed, exact=False)
    sq = torch.zeros(n, dtype=torch.float64)
    with torch.no_grad():
        for (a, _), dl, m in zip(acts, deltas, lins):
            d2 = dl.double().pow(2).sum(1)
            sq += a.double().pow(2).sum(1) * d2 + (d2 if m.bias is not None else 0.0)
    return float(sq.mean())


def per_example_variance(model, x, y, *, loss_fn=None, full=None):
    """tr(Σ) = (1/N)·Σᵢ ‖gᵢ − g‖² = (1/N)·Σᵢ ‖gᵢ‖² − ‖g‖² (see :func:`mean_sq_example_grad`).

    The numerator of the prediction E‖g_𝓑 − g‖² = tr(Σ)/B·(N − B)/(N − 1); notebook 02 §5, notebook 04.
    """
    g = full_gradient(model, x, y, loss_fn=loss_fn) if full is None else full
    return mean_sq_example_grad(model, x, y, loss_fn=loss_fn) - float(g @ g)


@validate_params(n_examples=COUNT, n_batches=COUNT, seed=SEED)
def sample_batches(n_examples, batch_size, n_batches, *, seed, replace=False):
    """``n_batches`` random batches of B indices, shape (K, B): each B distinct indices (``replace=False``,
    like one batch of a shuffled epoch) or B independent uniform draws (``replace=True``).

    The generator is seeded by ``(seed, B)``: a batch size's batches do not depend on the others.
    Notebook 02 §5 (via :func:`gradient_noise`).
    """
    n, k = n_examples, n_batches
    b = check_batch_size(batch_size, n)
    rng = np.random.default_rng([seed, b, int(replace)])
    if replace:
        return rng.integers(0, n, size=(k, b))
    return np.argsort(rng.random((k, n)), axis=1)[:, :b]


@dataclass
class GradientNoise:
    """What :func:`gradient_noise` measured (arrays have one entry per batch size)."""

    batch_sizes: np.ndarray
    variance: np.ndarray        # mean over K batches of ‖g_𝓑 − g‖²
    variance_se: np.ndarray     # its standard error
    cosines: list               # one array per batch size: cos(g_𝓑, g) of its K_B batches
    full_grad_norm: float       # ‖g‖
    trace: float | None         # tr(Σ) from per-example gradients (None if not computed)
    n_examples: int
    replace: bool
    sq_distances: list | None = None   # one array per batch size: ‖g_𝓑 − g‖² of its K_B batches

    def predicted(self, batch_sizes=None):
        """tr(Σ)/B·(N − B)/(N − 1) (without replacement) or tr(Σ)/B (with): the theory line."""
        if self.trace is None:
            raise ValueError("trace was not computed: call gradient_noise(..., trace=True)")
        b = np.asarray(self.batch_sizes if batch_sizes is None else batch_sizes, dtype=float)
        return self.trace * finite_population_factor(None if self.replace else self.n_examples, b)

    def slope(self):
        """Slope of log(variance) against log(B), least squares (≈ −1 when the variance falls as 1/B)."""
        return loglog_slope(self.batch_sizes, self.variance)

    def mean_cosine(self):
        """Mean of cos(g_𝓑, g) over the sampled batches, one value per batch size."""
        return np.array([c.mean() for c in self.cosines])

    def variance_ci(self, confidence=0.95):
        """E‖g_𝓑 − g‖² per batch size as :class:`~lecture_utils.stats.MeanCI`: the mean of ‖g_𝓑 − g‖² over
        the K_B sampled batches ± the t-interval with K_B − 1 degrees of freedom (notebook 02 §5).
        Needs ``sq_distances`` (recorded by :func:`gradient_noise`)."""
        from .stats import mean_ci

        if self.sq_distances is None:
            raise ValueError("sq_distances were not recorded: measure with gradient_noise(...)")
        return [mean_ci(d, confidence) for d in self.sq_distances]

    def cosine_ci(self, confidence=0.95):
        """Mean cos(g_𝓑, g) per batch size ± its t-interval over the K_B batches
        (:class:`~lecture_utils.stats.MeanCI`; notebook 02 §5)."""
        from .stats import mean_ci

        return [mean_ci(c, confidence) for c in self.cosines]


def loglog_slope(x, y):
    """Least-squares slope s of log y = s·log x + c (a power law y ∝ xˢ is a line of slope s);
    notebook 02 §5."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.size < 2:
        raise ValueError("x and y must be arrays of the same shape with at least 2 entries")
    if np.any(x <= 0) or np.any(y <= 0):
        raise ValueError("x and y must be positive (logarithms)")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


@validate_params(n_batches=Interval("int", 2, None), examples_per_size=COUNT, seed=SEED,
                 threads=Interval("int", 1, 256))
def gradient_noise(model, x, y, batch_sizes=None, *, n_batches=64, min_batches=16,
                   examples_per_size=16384, seed=0, replace=False, trace=True, loss_fn=None, threads=1):
    """Measure how far mini-batch gradients scatter around the full gradient (notebooks 02 and 04).

    ``batch_sizes`` defaults to 1, 2, 4, …, 1024 (those ≤ N). For each B: draw K_B random batches
    (:func:`sample_batches`; K_B = ``n_batches`` for small B, fewer for large B so that
    K_B·B ≤ ``examples_per_size``, never fewer than ``min_batches``), compute every g_𝓑
    (:func:`batch_gradients`) and record ‖g_𝓑 − g‖² (each batch's, their mean and standard error) and
    cos(g_𝓑, g).
    With ``trace=True`` also tr(Σ) (:func:`per_example_variance`) for the prediction
    E‖g_𝓑 − g‖² = tr(Σ)·c(B) (:func:`finite_population_factor`). ``loss_fn(outputs, y)`` is the mean loss of
    a batch (default cross-entropy). The model is not changed.

    torch runs on ``threads`` intra-op threads during the call (the previous setting is restored):
    one thread by default, because these many small passes gain nothing from a second one and two
    threads on a busy 2-core machine were measured ~8x slower; the numbers agree to ~1e-9 relative.
    """
    import torch

    x, y, _ = _check_model_data(model, x, y, loss_fn)
    n = len(y)
    k_max, budget = n_batches, examples_per_size
    k_min = check_int("min_batches", min_batches, low=2, high=k_max)
    if batch_sizes is None:
        batch_sizes = [b for b in DEFAULT_BATCH_SIZES if b <= n]
    elif np.isscalar(batch_sizes):
        batch_sizes = [batch_sizes]
    bs = np.array([check_batch_size(b, n, name="batch_sizes") for b in batch_sizes], dtype=int)
    if bs.size == 0:
        raise ValueError(f"batch_sizes must hold at least one batch size in [1, {n}]")
    was_training = model.training
    old_threads = torch.get_num_threads()
    model.eval()
    try:
        if old_threads != threads:
            torch.set_num_threads(threads)
        g = full_gradient(model, x, y, loss_fn=loss_fn)
        gnorm = float(np.linalg.norm(g))
        var, se, cos, sq = [], [], [], []
        for b in bs:
            k = int(np.clip(budget // b, k_min, k_max))
            gb = batch_gradients(model, x, y, sample_batches(n, int(b), k, seed=seed, replace=replace),
                                 loss_fn=loss_fn)
            d2 = np.sum((gb - g) ** 2, axis=1)
            sq.append(d2)
            var.append(d2.mean())
            se.append(d2.std(ddof=1) / np.sqrt(k))
            cos.append(gb @ g / (np.linalg.norm(gb, axis=1) * gnorm + 1e-300))
        tr = per_example_variance(model, x, y, loss_fn=loss_fn, full=g) if trace else None
    finally:
        model.train(was_training)
        if torch.get_num_threads() != old_threads:
            torch.set_num_threads(old_threads)
    return GradientNoise(batch_sizes=bs, variance=np.array(var), variance_se=np.array(se), cosines=cos,
                         full_grad_norm=gnorm, trace=tr, n_examples=n, replace=bool(replace), sq_distances=sq)


# ----------------------------------------------------------------------------- noise scale (notebook 04)
@dataclass
class NoiseScale:
    """|G|², tr(Σ) and their ratio B_simple = tr(Σ)/|G|² (McCandlish et al. 2018)."""

    g2: float
    trace: float

    @property
    def b_simple(self):
        return self.trace / self.g2 if self.g2 > 0 else float("inf")


@validate_params(sq_norm_small=Interval("real", 0.0, None), sq_norm_big=Interval("real", 0.0, None),
                 n_examples=Interval("int", 2, None, allow_none=True))
def noise_scale_from_norms(sq_norm_small, sq_norm_big, b_small, b_big, *, n_examples=None):
    """The unbiased two-batch estimator (McCandlish et al. 2018, appendix A).

    From mean squared gradient norms |G_Bs|² and |G_Bb|² at batch sizes B_s < B_b:
    tr(Σ) = (|G_Bs|² − |G_Bb|²)/(c(B_s) − c(B_b)) and |G|² = |G_Bb|² − c(B_b)·tr(Σ), with
    c(B) = :func:`finite_population_factor` (1/B with replacement, (N − B)/(B(N − 1)) when
    ``n_examples`` N is given: batches of distinct examples). Returns a :class:`NoiseScale`
    (notebook 04, section 3).
    """
    n = n_examples
    bs = check_int("b_small", b_small, low=1, high=n)
    bb = check_int("b_big", b_big, low=bs + 1, high=n)
    cs, cb = finite_population_factor(n, bs), finite_population_factor(n, bb)
    trace = (sq_norm_small - sq_norm_big) / (cs - cb)
    return NoiseScale(g2=sq_norm_big - cb * trace, trace=trace)


@validate_params(n_batches=COUNT, seed=SEED)
def batch_sq_norms(model, x, y, batch_size, n_batches, *, seed, replace=False):
    """|G_B|² of ``n_batches`` random batches of ``batch_size`` examples (float64 array), the
    inputs of the two-batch estimator (notebook 04, section 3).

    Each batch holds distinct examples (``replace=False``) or independent draws; one
    forward/backward pass per batch, gradient of the mean cross-entropy.
    """
    import torch
    import torch.nn.functional as F

    n = len(y)
    b = check_batch_size(batch_size, n)
    rng = np.random.default_rng([seed, b])
    params = [p for p in model.parameters() if p.requires_grad]
    out = np.empty(n_batches)
    for i in range(n_batches):
        idx = rng.integers(0, n, b) if replace else rng.choice(n, b, replace=False)
        ib = torch.from_numpy(np.asarray(idx, dtype=np.int64))
        grads = torch.autograd.grad(F.cross_entropy(model(x[ib]), y[ib]), params)
        out[i] = float(sum((q.double() ** 2).sum() for q in grads))
    return out


@validate_params(n_pairs=COUNT)
def estimate_noise_scale(model, x, y, *, b_small=32, b_big=512, n_pairs=16, seed=0, replace=False):
    """B_simple of ``model`` on ``(x, y)`` by the two-batch estimator (notebook 04, section 3).

    Averages |G_B|² over ``n_pairs`` batches at each size (the same pairs a data-parallel run
    gets for free: per-worker batch B_s, global batch B_b), then applies
    :func:`noise_scale_from_norms` (ratio of the averaged |G|² and tr(Σ), as McCandlish et al.
    recommend). ``replace=False`` uses the finite-N correction.
    """
    import torch

    x, y = torch.as_tensor(x), torch.as_tensor(y)
    n = len(y)
    small = batch_sq_norms(model, x, y, b_small, n_pairs, seed=seed, replace=replace).mean()
    big = batch_sq_norms(model, x, y, b_big, n_pairs, seed=seed, replace=replace).mean()
    return noise_scale_from_norms(small, big, b_small, b_big, n_examples=None if replace else n)


@validate_params(chunk=COUNT)
def per_example_gradients(model, x, y, *, chunk=512):
    """gᵢ = ∇θ ℓᵢ(θ) for every example (cross-entropy), shape (N, P) float64, by ``torch.func``
    (vmap of grad). Exact but memory-hungry (N·P numbers): for small models and checks (notebook 04)."""
    import torch
    import torch.nn.functional as F
    from torch.func import functional_call, grad, vmap

    x, y = torch.as_tensor(x), torch.as_tensor(y)
    names = [k for k, p in model.named_parameters() if p.requires_grad]
    params = {k: p.detach() for k, p in model.named_parameters() if p.requires_grad}

    def loss(p, xi, yi):
        out = functional_call(model, p, (xi.unsqueeze(0),))
        return F.cross_entropy(out, yi.unsqueeze(0))

    g = vmap(grad(loss), in_dims=(None, 0, 0))
    rows = []
    for i in range(0, len(y), chunk):
        gi = g(params, x[i:i + chunk], y[i:i + chunk])
        rows.append(torch.cat([gi[k].reshape(gi[k].shape[0], -1) for k in names], 1).double())
    return torch.cat(rows).numpy()


def exact_noise_scale(per_example_grads):
    """|G|² and tr(Σ) exactly from per-example gradients gᵢ (rows): G = (1/N)Σgᵢ,
    tr(Σ) = (1/N)Σ‖gᵢ − G‖² (the population covariance of the training set); notebook 04."""
    g = check_array("per_example_grads", per_example_grads, ndim=2)
    if g.shape[0] < 2:
        raise ValueError("per_example_grads must hold at least 2 rows (examples)")
    mean = g.mean(0)
    return NoiseScale(g2=float(mean @ mean), trace=float(((g - mean) ** 2).sum(1).mean()))
