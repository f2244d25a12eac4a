import json

import numpy as np
import pytest

from lecture_utils import sweeps
from lecture_utils.data import load_mnist1d
from lecture_utils.train import train_classifier


def test_every_sweep_is_cached_with_its_parameters():
    for name in sweeps.names():
        record = sweeps.load(name)
        assert record["name"] == name
        assert record["params"] == json.loads(json.dumps(sweeps.module(name).PARAMS))
        assert {"torch", "numpy", "lecture_utils"} <= set(record["versions"])


def test_a_cache_with_other_parameters_is_refused(tmp_path, monkeypatch):
    record = sweeps.load("batch_accuracy")
    record["params"]["lr"] = 0.5
    (tmp_path / "sweep_batch_accuracy.json").write_text(json.dumps(record))
    with pytest.raises(sweeps.CacheMismatch, match="python -m lecture_utils.sweeps batch_accuracy"):
        sweeps.load("batch_accuracy", data_dir=tmp_path)
    with pytest.raises(sweeps.CacheMismatch, match="no cached sweep"):
        sweeps.load("timing", data_dir=tmp_path / "empty")
    with pytest.raises(ValueError, match="name"):
        sweeps.load("nonexistent")


def test_one_cached_point_recomputes():
    record = sweeps.load("batch_accuracy")
    p = record["params"]
    run = next(r for r in record["results"]["runs"] if r["batch_size"] == 512 and r["seed"] == 0)
    r = train_classifier(load_mnist1d(), batch_size=512, lr=p["lr"], seed=0, epochs=p["epochs"], hidden=p["hidden"])
    assert r.steps == run["steps"]
    assert r.test_acc == pytest.approx(run["test_acc"], abs=0.01)
    assert r.train_loss == pytest.approx(run["train_loss"], rel=1e-3)
