"""Data for the course: epochs split into batches, samplers, the lecture's toy set, MNIST-1D.

Used in notebook 01 (batches and shuffling), and by every notebook that trains on MNIST-1D.
"""
from __future__ import annotations

import hashlib
import json
import random
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validate import check_batch_size, check_int, check_real

#: Folder of cached data and sweep results (``data/`` at the repository root).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CHECKSUMS_FILE = DATA_DIR / "checksums.json"


# ----------------------------------------------------------------------------- batches
def epoch_batches(n_examples, batch_size, *, seed, epoch=0, shuffle=True, drop_last=False):
    """The index batches of one epoch (notebook 01, "Batches and shuffling").

    An epoch visits every example exactly once: a permutation π of 0..N-1 (fresh for every
    ``(seed, epoch)``; the identity when ``shuffle=False``) cut into ⌈N/B⌉ consecutive
    pieces of B indices. The last piece has N mod B indices unless ``drop_last``, which drops it.

    Returns a list of int64 arrays.
    """
    n = check_int("n_examples", n_examples, low=1)
    b = check_batch_size(batch_size, n)
    seed = check_int("seed", seed, low=0)
    epoch = check_int("epoch", epoch, low=0)
    order = np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)
    order = order.astype(np.int64)
    stop = (n // b) * b if drop_last else n
    return [order[i:i + b] for i in range(0, stop, b)]


def batches_with_replacement(n_examples, batch_size, *, seed, epoch=0, n_batches=None):
    """Batches drawn *with* replacement, for contrast with :func:`epoch_batches` (notebook 01).

    Each of the ``n_batches`` (default ⌈N/B⌉, the same number of updates as one epoch) batches
    holds B indices drawn independently and uniformly from 0..N-1, so an "epoch" may repeat
    some examples and never show others (on average a fraction (1 − 1/N)^N ≈ e⁻¹ ≈ 37 % unseen).
    """
    n = check_int("n_examples", n_examples, low=1)
    b = check_batch_size(batch_size, n)
    seed = check_int("seed", seed, low=0)
    epoch = check_int("epoch", epoch, low=0)
    k = check_int("n_batches", n_batches, low=1, allow_none=True)
    k = -(-n // b) if k is None else k
    rng = np.random.default_rng([seed, epoch, 1])
    return [rng.integers(0, n, size=b, dtype=np.int64) for _ in range(k)]


def coverage(batches, n_examples):
    """How often each example was seen in ``batches``: ``(counts, n_unseen, n_repeated)``."""
    n = check_int("n_examples", n_examples, low=1)
    counts = np.bincount(np.concatenate(batches), minlength=n) if len(batches) else np.zeros(n, int)
    return counts, int(np.sum(counts == 0)), int(np.sum(counts > 1))


def batch_assignment(n_examples, batch_size, *, seed, epochs=3, replacement=False):
    """Which batch each example falls in, epoch by epoch (notebook 01, the index map).

    Returns an int array of shape (epochs, N). Without replacement entry [e, i] is the number of
    the batch of epoch e that holds example i (every example exactly once per epoch). With
    replacement (:func:`batches_with_replacement`) it is how many times example i was drawn in
    epoch e (0 = never seen).
    """
    n = check_int("n_examples", n_examples, low=1)
    b = check_batch_size(batch_size, n)
    epochs = check_int("epochs", epochs, low=1, high=10_000)
    out = np.zeros((epochs, n), dtype=np.int64)
    for e in range(epochs):
        if replacement:
            out[e] = coverage(batches_with_replacement(n, b, seed=seed, epoch=e), n)[0]
        else:
            for k, idx in enumerate(epoch_batches(n, b, seed=seed, epoch=e)):
                out[e, idx] = k
    return out


def updates_per_epoch(n_examples, batch_size, drop_last=False):
    """⌈N/B⌉ (or ⌊N/B⌋ with ``drop_last``): how many parameter updates one epoch makes."""
    n = check_int("n_examples", n_examples, low=1)
    b = check_batch_size(batch_size, n)
    return n // b if drop_last else -(-n // b)


# ----------------------------------------------------------------------------- toy set
@dataclass(frozen=True)
class ToyRegression:
    """The lecture's small case: N examples, a model with 2 parameters θ = (w, b).

    Prediction ŷ = w·x + b; loss of a batch 𝓑: L_𝓑(θ) = (1/|𝓑|) Σ_{i∈𝓑} (w·xᵢ + b − yᵢ)².
    """

    x: np.ndarray
    y: np.ndarray

    @property
    def n(self):
        return len(self.x)

    def loss(self, theta, idx=None):
        """L_𝓑(θ) for θ of shape (..., 2) (broadcasts, so a grid of θ gives a contour map)."""
        theta = np.asarray(theta, dtype=float)
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        r = theta[..., :1] * x + theta[..., 1:2] - y
        return np.mean(r**2, axis=-1)

    def grad(self, theta, idx=None):
        """∇L_𝓑(θ) = (2/|𝓑|) Σ rᵢ·(xᵢ, 1) with rᵢ = w·xᵢ + b − yᵢ."""
        theta = np.asarray(theta, dtype=float)
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        r = theta[..., :1] * x + theta[..., 1:2] - y
        return np.stack([2 * np.mean(r * x, axis=-1), 2 * np.mean(r, axis=-1)], axis=-1)

    def minimizer(self):
        """The least-squares θ* of the full loss."""
        a = np.stack([self.x, np.ones_like(self.x)], axis=1)
        return np.linalg.lstsq(a, self.y, rcond=None)[0]


def make_toy_regression(n_examples=20, *, seed=0, w=2.0, b=-1.0, noise=0.5):
    """N points xᵢ ~ U(−1, 1), yᵢ = w·xᵢ + b + ε, ε ~ N(0, noise²) (notebook 01, batch vs full batch)."""
    n = check_int("n_examples", n_examples, low=2)
    seed = check_int("seed", seed, low=0)
    noise = check_real("noise", noise, low=0.0)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n)
    y = w * x + b + noise * rng.standard_normal(n)
    return ToyRegression(x=x, y=y)


# ----------------------------------------------------------------------------- MNIST-1D
@dataclass(frozen=True)
class Dataset:
    """Train and test arrays (inputs float32 (n, 40), labels int64 (n,))."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str = "mnist1d"

    @property
    def n_train(self):
        return len(self.y_train)

    @property
    def n_classes(self):
        return int(max(self.y_train.max(), self.y_test.max()) + 1)

    def subset(self, n_train=None, n_test=None):
        """The first ``n_train`` training and ``n_test`` test examples (for quick, small runs)."""
        n_train = check_int("n_train", n_train, low=1, high=self.n_train, allow_none=True) or self.n_train
        n_test = check_int("n_test", n_test, low=1, high=len(self.y_test), allow_none=True) or len(self.y_test)
        return Dataset(self.x_train[:n_train], self.y_train[:n_train], self.x_test[:n_test],
                       self.y_test[:n_test], name=f"{self.name}[:{n_train}]")


def array_checksum(*arrays):
    """sha256 over dtype, shape and bytes of each array: the identity of a dataset's content."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def _known_checksums():
    if CHECKSUMS_FILE.exists():
        return json.loads(CHECKSUMS_FILE.read_text())
    return {}


def _generate_mnist1d(seed):
    """Build MNIST-1D with the ``mnist1d`` package's own generator (offline; never its download path).

    ``make_dataset`` reseeds Python's and numpy's global generators; we restore them afterwards.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        args = get_dataset_args()
        args.seed = seed
        d = make_dataset(args)
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return (d["x"].astype(np.float32), d["y"].astype(np.int64),
            d["x_test"].astype(np.float32), d["y_test"].astype(np.int64))


def load_mnist1d(*, seed=42, cache_dir=None):
    """MNIST-1D (Greydanus 2020): 4000 training and 1000 test sequences of length 40, 10 classes.

    Generated locally on first use and cached as ``data/mnist1d_seed{seed}.npz``. The content's
    sha256 (:func:`array_checksum`) is kept in ``data/checksums.json``; a cached file that is
    unreadable or fails the checksum is rebuilt, with a warning. Nothing is downloaded.
    """
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    cache_dir = Path(cache_dir) if cache_dir is not None else DATA_DIR
    path = cache_dir / f"mnist1d_seed{seed}.npz"
    key = f"mnist1d_seed{seed}"
    expected = _known_checksums().get(key)
    arrays = None
    if path.exists():
        try:
            with np.load(path) as f:
                arrays = tuple(f[k] for k in ("x_train", "y_train", "x_test", "y_test"))
        except Exception as exc:  # truncated or not an npz at all
            warnings.warn(f"cached {path.name} is unreadable ({type(exc).__name__}); rebuilding it", stacklevel=2)
        if arrays is not None and expected is not None and array_checksum(*arrays) != expected:
            warnings.warn(f"cached {path.name} fails its sha256 checksum; rebuilding it", stacklevel=2)
            arrays = None
    if arrays is None:
        arrays = _generate_mnist1d(seed)
        digest = array_checksum(*arrays)
        if expected is not None and digest != expected:
            warnings.warn(f"freshly generated MNIST-1D (seed {seed}) differs from the checksum in "
                          f"{CHECKSUMS_FILE.name}: results may differ from the stored notebooks", stacklevel=2)
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
        tmp.replace(path)
    return Dataset(*arrays, name="mnist1d")
