"""Data for the course: epochs split into batches, samplers, the lecture's toy set, MNIST-1D.

Used in notebook 01 (batches and shuffling), and by every notebook that trains on MNIST-1D.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._validate import COUNT, SEED, Interval, check_batch_size, check_int, validate_params
from .i18n import _, display_width

#: Folder of cached data and sweep results (``data/`` at the repository root).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"
CHECKSUMS_FILE = DATA_DIR / "checksums.json"
#: Environment variable that names the per-user cache folder (read-only installs, see :func:`user_cache_dir`).
CACHE_ENV = "LECTURE_UTILS_CACHE"


# ----------------------------------------------------------------------------- cache folders
def user_cache_dir():
    """The per-user cache folder, used when ``data/`` is not writable (a read-only, shared install).

    ``$LECTURE_UTILS_CACHE`` if set, else ``$XDG_CACHE_HOME/lecture_utils``, else
    ``~/.cache/lecture_utils``. The same checksum rules apply there (``data/checksums.json``).
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "lecture_utils"


def _writable(folder):
    """True when a file can be created in ``folder`` (tried for real: permission bits do not stop root)."""
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-probe-")
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


def cache_dirs():
    """Where caches are looked for, in order: ``data/`` (shipped with the course), then
    :func:`user_cache_dir`."""
    return [DATA_DIR, user_cache_dir()]


def writable_cache_dir():
    """Where a new cache is written: ``data/`` when writable, else :func:`user_cache_dir` (created)."""
    if _writable(DATA_DIR):
        return DATA_DIR
    folder = user_cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def atomic_write(path, write):
    """Write ``path`` whole or not at all: ``write(f)`` fills a temporary file (binary) in the same folder,
    which then replaces ``path`` (``os.replace``, atomic on POSIX). Two kernels building the same cache
    at once each write their own temporary file; the last replace wins and no reader sees half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f"{path.stem}.", suffix=f".tmp{path.suffix}")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


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
    k = updates_per_epoch(n, b) if k is None else k
    # B is part of the seed: otherwise k·B draws at one B would repeat the stream of another B (at N = 20,
    # B = 5 and B = 10 both draw the same 20 numbers and the index map could not tell them apart)
    rng = np.random.default_rng([seed, epoch, 1, b])
    return [rng.integers(0, n, size=b, dtype=np.int64) for _ in range(k)]


def coverage(batches, n_examples):
    """How often each example was seen in ``batches``: ``(counts, n_unseen, n_repeated)``."""
    n = check_int("n_examples", n_examples, low=1)
    counts = np.bincount(np.concatenate(batches), minlength=n) if len(batches) else np.zeros(n, int)
    return counts, int(np.sum(counts == 0)), int(np.sum(counts > 1))


def epoch_line(epoch, batches):
    """Notebook 01 §1: the batches of one epoch, their indices separated by " | " ("epoch 0: 4 6 2 7 | …")."""
    return _("epoch {epoch}: {batches}").format(
        epoch=epoch, batches=" | ".join(" ".join(f"{i}" for i in b) for b in batches))


def coverage_line(name, batches, n_examples):
    """One line of notebook 01 §1: how many of ``n_examples`` examples ``batches`` never showed and how many
    it showed twice or more (:func:`coverage`); ``name`` is "shuffled epoch" or "with replacement"."""
    _counts, unseen, repeated = coverage(batches, n_examples)
    label = {"shuffled epoch": _("shuffled epoch"), "with replacement": _("with replacement")}.get(name, name)
    label += " " * max(0, 17 - display_width(label))
    return _("{name} {count} batches of {size}: {unseen:4d} of {n} examples never seen, {repeated:4d} seen "
             "twice or more").format(name=label, count=len(batches), size=len(batches[0]) if batches else 0,
                                     unseen=unseen, n=n_examples, repeated=repeated)


@validate_params(n_examples=COUNT, epochs=Interval("int", 1, 10_000))
def batch_assignment(n_examples, batch_size, *, seed, epochs=3, replacement=False):
    """Which batch each example falls in, epoch by epoch (notebook 01, the index map).

    Returns an int array of shape (epochs, N). Without replacement entry [e, i] is the number of
    the batch of epoch e that holds example i (every example exactly once per epoch). With
    replacement (:func:`batches_with_replacement`) it is how many times example i was drawn in
    epoch e (0 = never seen).
    """
    n = n_examples
    b = check_batch_size(batch_size, n)
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


@validate_params(n_examples=Interval("int", 2, None), seed=SEED, noise=Interval("real", 0.0, None))
def make_toy_regression(n_examples=20, *, seed=0, w=2.0, b=-1.0, noise=0.5):
    """N points xᵢ ~ U(−1, 1), yᵢ = w·xᵢ + b + ε, ε ~ N(0, noise²) (notebook 01, batch vs full batch)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, n_examples)
    y = w * x + b + noise * rng.standard_normal(n_examples)
    return ToyRegression(x=x, y=y)


# ----------------------------------------------------------------------------- MNIST-1D
#: N, the size of MNIST-1D's training set (``load_mnist1d().n_train``: the ``mnist1d`` generator's
#: default 5000 sequences, 80 % for training); checked against the loaded data in tests/test_data.py.
N_TRAIN = 4000

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
        n_train = (check_int("n_train", n_train, low=1, high=self.n_train, allow_none=True)
                   or self.n_train)
        n_test = (check_int("n_test", n_test, low=1, high=len(self.y_test), allow_none=True)
                  or len(self.y_test))
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


def _read_cached(path, expected):
    """The four arrays of a cached MNIST-1D file, or None (with a warning) when unreadable or failing
    sha256. The warnings name the line that called :func:`load_mnist1d` (stack: here, load_mnist1d,
    its ``validate_params`` wrapper, the caller)."""
    try:
        with open(path, "rb") as fh, np.load(fh) as f:  # our handle: closed even when np.load fails
            arrays = tuple(f[k] for k in ("x_train", "y_train", "x_test", "y_test"))
    except Exception as exc:  # truncated or not an npz at all
        warnings.warn(f"cached {path.name} is unreadable ({type(exc).__name__}); rebuilding it", stacklevel=4)
        return None
    if expected is not None and array_checksum(*arrays) != expected:
        warnings.warn(f"cached {path.name} fails its sha256 checksum; rebuilding it", stacklevel=4)
        return None
    return arrays


@validate_params(seed=Interval("int", 0, 2**32 - 1))
def load_mnist1d(*, seed=42, cache_dir=None):
    """MNIST-1D (Greydanus 2020): :data:`N_TRAIN` = 4000 training and 1000 test sequences of length 40,
    10 classes.

    Generated locally on first use and cached as ``data/mnist1d_seed{seed}.npz``, or, when ``data/``
    is not writable (a read-only install), in :func:`user_cache_dir`. The content's sha256
    (:func:`array_checksum`) is kept in ``data/checksums.json`` and checked wherever the file lies;
    a cached file that is unreadable or fails the checksum is rebuilt, with a warning. The file is
    written atomically (:func:`atomic_write`). Nothing is downloaded.
    """
    key = f"mnist1d_seed{seed}"
    folders = [Path(cache_dir)] if cache_dir is not None else cache_dirs()
    expected = _known_checksums().get(key)
    arrays = None
    for folder in folders:  # data/ first, then the per-user cache
        if (folder / f"{key}.npz").exists():
            arrays = _read_cached(folder / f"{key}.npz", expected)
            if arrays is not None:
                break
    if arrays is None:
        arrays = _generate_mnist1d(seed)
        digest = array_checksum(*arrays)
        if expected is not None and digest != expected:
            warnings.warn(f"freshly generated MNIST-1D (seed {seed}) differs from the checksum in "
                          f"{CHECKSUMS_FILE.name}: results may differ from the stored notebooks",
                          stacklevel=3)  # the caller of the validate_params wrapper
        path = (Path(cache_dir) if cache_dir is not None else writable_cache_dir()) / f"{key}.npz"
        named = dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays))
        atomic_write(path, lambda f: np.savez_compressed(f, **named))
    return Dataset(*arrays, name="mnist1d")
