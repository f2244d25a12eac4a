"""Full batch against small batches at the same η, from one initialisation (notebook 02, "Real training").

Every run trains the course MLP on MNIST-1D from the same initial weights (``make_mlp(seed)``)
with plain SGD (θ ← θ − η·∇L_𝓑(θ)) at the same learning rate for the same number of epochs; the
training loss on all N = 4000 examples is recorded after every epoch. One extra full-batch run
continues for ``full_batch_steps`` updates (loss every ``full_eval_every`` updates), so the notebook
can also compare the runs at equal numbers of *updates*, not only of epochs.

It runs torch on one thread (``threads``: 1): on a shared 2-core machine two intra-op threads were
several times slower than one (they wait on each other), and the cached numbers only need to be
reproducible with the same setting, not bit-identical to a notebook's live runs.

``results`` keys:
  ``n_train``     N
  ``lr``          η
  ``runs``        one dict per batch size: batch_size, updates_per_epoch, epoch, step, train_loss,
                  train_acc, test_acc (lists, one entry per epoch, epoch 0 = the initial weights), seconds
  ``full_long``   the long full-batch run: step, train_loss, train_acc, test_acc, seconds
"""
from __future__ import annotations

PARAMS = {
    "dataset": "mnist1d_seed42",
    "seed": 0,
    "lr": 0.1,
    "epochs": 30,
    "batch_sizes": [4000, 512, 64, 8],
    "full_batch_steps": 2000,
    "full_eval_every": 20,
    "hidden": 256,
    "threads": 1,
}


def _r(values, nd=5):
    return [round(float(v), nd) for v in values]


def run(params, progress=True):
    from ..data import load_mnist1d
    from ..train import train_classifier

    data = load_mnist1d()
    n = data.n_train
    jobs = list(params["batch_sizes"]) + ["long"]
    if progress:
        from tqdm.auto import tqdm
        jobs = tqdm(jobs, desc="noisy_training")
    runs, long = [], None
    for b in jobs:
        if b == "long":
            r = train_classifier(data, batch_size=n, lr=params["lr"], seed=params["seed"],
                                 epochs=params["full_batch_steps"], eval_every=params["full_eval_every"],
                                 hidden=params["hidden"], threads=params["threads"])
            h = r.history
            long = {"step": [int(s) for s in h["step"]], "train_loss": _r(h["train_loss"]),
                    "train_acc": _r(h["train_acc"]), "test_acc": _r(h["test_acc"]), "seconds": round(r.seconds, 2)}
            continue
        r = train_classifier(data, batch_size=b, lr=params["lr"], seed=params["seed"], epochs=params["epochs"],
                             hidden=params["hidden"], threads=params["threads"])
        h = r.history
        runs.append({"batch_size": int(b), "updates_per_epoch": -(-n // int(b)),
                     "epoch": [float(e) for e in h["epoch"]], "step": [int(s) for s in h["step"]],
                     "train_loss": _r(h["train_loss"]), "train_acc": _r(h["train_acc"]),
                     "test_acc": _r(h["test_acc"]), "seconds": round(r.seconds, 2)})
    return {"n_train": n, "lr": params["lr"], "runs": runs, "full_long": long}
