import json

import pytest

from lecture_utils import sweeps
from lecture_utils.data import load_mnist1d
from lecture_utils.sweeps import (
    _schema,
    critical_batch,
    generalization,
    have_both,
    sharpness_matched,
    tuned_lr,
    warmup,
)
from lecture_utils.train import train_classifier


def test_every_sweep_is_cached_with_its_parameters():
    for name in sweeps.names():
        record = sweeps.load(name)
        assert isinstance(record, sweeps.SweepRecord) and isinstance(record, dict)
        assert record["name"] == record.name == name
        assert record["params"] == record.params == json.loads(json.dumps(sweeps.module(name).PARAMS))
        assert record.results is record["results"]
        assert record.schema_version == sweeps.module(name).SCHEMA_VERSION
        assert {"torch", "numpy", "lecture_utils"} <= set(record["versions"])
        assert record["params"]["dataset"] == {"name": "mnist1d", "seed": 42}   # one name for the dataset


def _copy(name, tmp_path, edit):
    """Write ``sweep_<name>.json`` (one file of the whole sweep, as a file written before parts) to
    ``tmp_path`` after ``edit``; a sweep stored in parts is read merged from data/."""
    path = sweeps.cache_path(name)
    record = json.loads(path.read_text()) if path.exists() else json.loads(json.dumps(sweeps.load(name)))
    edit(record)
    (tmp_path / f"sweep_{name}.json").write_text(json.dumps(record))


def test_a_cache_with_other_parameters_is_refused(tmp_path):
    _copy("batch_accuracy", tmp_path, lambda r: r["params"].update(lr=0.5))
    with pytest.raises(sweeps.CacheMismatch,
                       match=r"other parameters \(lr\).*python -m lecture_utils.sweeps batch_accuracy"):
        sweeps.load("batch_accuracy", data_dir=tmp_path)
    with pytest.raises(sweeps.CacheMismatch, match="no cached sweep"):
        sweeps.load("timing", data_dir=tmp_path / "empty")
    with pytest.raises(ValueError, match="name"):
        sweeps.load("nonexistent")


def test_workers_is_how_a_sweep_ran_not_what_it_measured(tmp_path):
    _copy("tuned_lr", tmp_path, lambda r: r["params"].update(workers=7))
    assert sweeps.load("tuned_lr", data_dir=tmp_path)["params"]["workers"] == 7
    _copy("tuned_lr", tmp_path, lambda r: r["params"].pop("workers"))
    assert sweeps.load("tuned_lr", data_dir=tmp_path)["params"]["workers"] == tuned_lr.PARAMS["workers"]


def test_a_cache_of_another_schema_version_is_refused(tmp_path):
    _copy("tuned_lr", tmp_path, lambda r: r.update(schema_version=2))
    with pytest.raises(sweeps.CacheMismatch, match="schema version 2, the module's is 1.*sweeps tuned_lr"):
        sweeps.load("tuned_lr", data_dir=tmp_path)
    _copy("tuned_lr", tmp_path, lambda r: r.update(schema_version=1))     # written with the field: accepted
    assert sweeps.load("tuned_lr", data_dir=tmp_path).schema_version == 1
    _copy("tuned_lr", tmp_path, lambda r: r.pop("schema_version", None))  # written before it: version 1
    assert sweeps.load("tuned_lr", data_dir=tmp_path).schema_version == sweeps.LEGACY_VERSION == 1


def test_a_cache_whose_entries_break_the_schema_is_refused(tmp_path):
    k = tuned_lr.run_key(128, 0.4, 2)
    _copy("tuned_lr", tmp_path, lambda r: r["results"]["runs"][k].pop("test_acc"))
    with pytest.raises(sweeps.CacheMismatch, match=r"schema version 1 .*'128\|0.4\|2'.*test_acc"):
        sweeps.load("tuned_lr", data_dir=tmp_path)
    _copy("tuned_lr", tmp_path, lambda r: r["results"]["runs"][k].update(steps="many"))
    with pytest.raises(sweeps.CacheMismatch, match="steps"):
        sweeps.load("tuned_lr", data_dir=tmp_path)
    (tmp_path / "sweep_tuned_lr.json").write_text("{not json")
    with pytest.raises(sweeps.CacheMismatch, match="not a sweep record"):
        sweeps.load("tuned_lr", data_dir=tmp_path)


def _migration_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "migrate_status_words.py"
    spec = importlib.util.spec_from_file_location("migrate_status_words", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_critical_batch_stores_the_training_loops_status_words(tmp_path):
    """One word per way a run ends (train.STATUSES); schema 1's "reached" is migrated, nothing else moves."""
    from lecture_utils.train import STATUSES

    rec = sweeps.load("critical_batch")
    words = [t[2] for r in rec["results"]["runs"].values() for t in r["tried"]]
    assert rec.schema_version == critical_batch.SCHEMA_VERSION == 2 and set(words) <= set(STATUSES)
    for r in rec["results"]["runs"].values():   # the best η's run reached the target in ``steps`` updates
        best = [r["best_lr"], r["steps"], "target_reached"]
        assert r["steps"] is None or best in [t[:3] for t in r["tried"]]
    bad = _copy_json(rec["results"])
    next(iter(bad["runs"].values()))["tried"][0][2] = "reached"
    with pytest.raises(_schema.SchemaError, match="train.STATUSES"):
        critical_batch.validate(bad)
    # the migration: a schema-1 file (what the cache was) becomes the cached file, byte for byte
    mig = _migration_script()
    for k in sweeps.parts("critical_batch"):
        now = sweeps.cache_path("critical_batch", part=k).read_text()
        old = json.loads(now.replace('"target_reached"', '"reached"'))
        old["schema_version"] = 1
        path = tmp_path / f"part{k}.json"
        path.write_text(mig._text(old))
        assert mig.migrate_file(path) == now.count('"target_reached"') > 0
        assert path.read_text() == now
        assert mig.migrate_file(path) == 0 and path.read_text() == now   # schema 2: left alone
    path.write_text(json.dumps(old))                                      # another format: refused
    with pytest.raises(ValueError, match="format"):
        mig.migrate_file(path)


def test_have_both_schema_2_is_schema_1_without_the_one_seed_critical_parts(tmp_path):
    """have_both's migration drops ``critical`` and ``noise`` and says max_steps for a LARS/SGD run
    that made all its updates; every other byte of the cache stays (its numbers as computed)."""
    mig = _migration_script()
    now = sweeps.cache_path("have_both").read_text()
    old = json.loads(now)
    assert old["schema_version"] == have_both.SCHEMA_VERSION == 2
    assert not set(mig.DROPPED) & (set(old["params"]) | set(old["results"]) | set(have_both.PARAMS))
    for part in ("params", "results"):
        old[part].update({k: {"one seed": True} for k in mig.DROPPED})
    lars = old["results"]["lars"]
    runs = lars["sgd"] + lars["lars"] + [lars["best_sgd"], lars["best_lars"]]
    assert {r["status"] for r in runs} == {"max_steps", "diverged"}
    done = [r for r in runs if r["status"] == "max_steps"]
    for r in done:
        r["status"] = "completed"
    old["schema_version"] = 1
    path = tmp_path / "sweep_have_both.json"
    path.write_text(mig._text(old))
    assert mig.migrate_file(path) == len(done) == 10 and path.read_text() == now


def test_the_older_dataset_spellings_read_as_today():
    assert _schema.upgrade_params({"dataset": "mnist1d_seed42", "lr": 0.1}) == {
        "dataset": {"name": "mnist1d", "seed": 42}, "lr": 0.1}
    assert _schema.upgrade_params({"data_seed": 42, "n_train": 4000}) == {
        "dataset": {"name": "mnist1d", "seed": 42}, "n_train": 4000}
    with pytest.raises(ValueError, match="dataset"):
        _schema.load_dataset({"dataset": {"name": "cifar", "seed": 0}})


def test_keys_are_built_and_parsed_in_one_place():
    assert have_both.grid_key(512, "scaled", True) == "512|scaled|1"
    assert have_both.parse_grid_key("512|scaled|1") == (512, "scaled", 1)
    with pytest.raises(ValueError, match="mode"):
        have_both.grid_key(512, "linear", 0)
    assert tuned_lr.run_key(32, 0.8, 0) == "32|0.8|0" and tuned_lr.parse_run_key("32|0.8|0") == (32, 0.8, 0)
    assert warmup.run_key(1024, 400, 5) == "1024|400|5" and warmup.parse_run_key("1024|20|5") == (1024, 20, 5)
    assert critical_batch.parse_run_key(critical_batch.run_key(64, 2)) == (64, 2)
    assert sharpness_matched.config_key(32, 0.1) == "B=32,lr=0.1"
    assert sharpness_matched.parse_config_key("B=400,lr=0.4") == (400, 0.4)
    assert generalization.batch_key(400) == "400"
    rec = sweeps.load("have_both")
    runs = rec["results"]["grid"]["runs"]
    assert set(runs) == set(have_both.grid_keys(rec["params"]))
    cell = _schema.entry(have_both.GridRun, runs[have_both.grid_key(32, "fixed", 0)])
    assert cell.lr == 0.1 and cell.warmup_steps == 0 and 0.5 < cell.test_acc < 1


def test_check_entry_names_the_field_and_type():
    ok = {"status": "completed", "steps": 3, "epochs": 1, "train_acc": None, "test_acc": 0.5}
    assert _schema.check_entry(tuned_lr.Run, ok, "runs['x']") is ok
    with pytest.raises(_schema.SchemaError, match=r"runs\['x'\]\['steps'\] must be"):
        _schema.check_entry(tuned_lr.Run, {**ok, "steps": 2.5}, "runs['x']")
    with pytest.raises(_schema.SchemaError, match="steps"):
        _schema.check_entry(tuned_lr.Run, {**ok, "steps": True}, "runs['x']")
    with pytest.raises(_schema.SchemaError, match="must be a dict"):
        _schema.check_entry(tuned_lr.Run, [1, 2], "runs['x']")


def test_compute_writes_the_schema_version_and_its_work(tmp_path, monkeypatch):
    from lecture_utils.sweeps import timing

    monkeypatch.setitem(timing.PARAMS, "batch_sizes", [64, 4000])
    monkeypatch.setitem(timing.PARAMS, "repeats", 2)
    record = sweeps.compute("timing", progress=False, data_dir=tmp_path)
    stored = json.loads((tmp_path / "sweep_timing.json").read_text())
    assert stored["schema_version"] == timing.SCHEMA_VERSION
    assert stored["cpu_seconds"] > 0 and record.cpu_seconds == stored["cpu_seconds"]
    assert sweeps.load("timing", data_dir=tmp_path)["results"] == record["results"]


@pytest.mark.recompute
def test_one_cached_point_recomputes():
    """batch_accuracy, B = 512, seed 0, trained again, against the cache (made on an AMD EPYC).

    Spread across CPU code paths (issue 20; ``scripts/portability_survey.py --recompute batch_accuracy``,
    Intel Xeon, six paths: default, avx2, SSE4.2, MKL_CBWR=COMPATIBLE, oneDNN AVX2, avx512): 80 updates
    and test accuracy 0.268 on every path (exact, so compared exactly / to one test example); the final
    training loss 1.7615865-1.7615868 (relative spread 1.4e-7; default = cache to the last bit).
    Tolerance on the loss: rel 1e-5, about 70x the measured spread."""
    record = sweeps.load("batch_accuracy")
    p = record["params"]
    run = next(r for r in record["results"]["runs"] if r["batch_size"] == 512 and r["seed"] == 0)
    r = train_classifier(load_mnist1d(), batch_size=512, lr=p["lr"], seed=0, epochs=p["epochs"],
                         hidden=p["hidden"])
    assert r.steps == run["steps"]
    assert r.test_acc == pytest.approx(run["test_acc"], abs=1e-3 + 1e-9)   # at most one test example
    assert r.train_loss == pytest.approx(run["train_loss"], rel=1e-5)


# ----------------------------------------------------------------------------- tasks → results
def _copy_json(obj):
    return json.loads(json.dumps(obj))


def _cached_task(name, res, params):
    """For sweep ``name``: the function task -> its cached result (what ``run_one`` computed)."""
    seeds = params.get("seeds")
    if name in ("batch_accuracy", "noisy_training"):
        return lambda t: next(r for r in res["runs"] if (r["batch_size"], r["seed"]) == tuple(t))
    if name == "momentum_mnist":
        return lambda t: res[t[0]][t[1]]
    if name == "momentum_saddle":
        return lambda t: res["starts"][seeds.index(t[1])] if t[0] == "start" else next(
            r for r in res["runs"] if (r["seed"], r["eff_lr"], r["beta"]) == t[1:])
    if name == "generalization":
        from lecture_utils.sweeps.generalization import load_weights

        w = load_weights(res)

        def gap_run(t):
            kind, b, s = t
            if kind == "scaled":
                return res["scaled_lr"]["runs"][seeds.index(s)]
            d = dict(res["runs"][generalization.batch_key(b)][seeds.index(s)])
            if s == params["weights_seed"] and b in (params["sb"], params["lb"]):
                d["weights"] = w["sb" if b == params["sb"] else "lb"]
            return d
        return gap_run
    if name == "sharpness_matched":
        return lambda t: res["runs"][sharpness_matched.config_key(t[0], t[1])][seeds.index(t[2])]
    if name == "have_both":
        by_kind = {"protocol": lambda a: res["protocol"]["per_seed"][have_both.seed_key(a)],
                   "grid": lambda a: res["grid"]["runs"][a]}
        return lambda t: by_kind.get(t[0], lambda a: res[t[0]])(t[1])
    if name in ("tuned_lr", "warmup", "critical_batch", "momentum_batch"):
        return lambda t: res["runs"][sweeps.module(name).run_key(*t)]
    if name == "noise_scale":
        from lecture_utils.sweeps import noise_scale
        return lambda t: res["per_seed"][noise_scale.seed_key(t)]
    raise KeyError(name)


POOLED = ("batch_accuracy", "critical_batch", "generalization", "have_both", "momentum_mnist",
          "momentum_saddle", "momentum_batch",
          "noise_scale", "noisy_training", "sharpness_matched", "tuned_lr", "warmup")


@pytest.mark.parametrize("name", POOLED)
def test_the_results_assemble_from_their_tasks_as_cached(name, monkeypatch):
    """Every pooled sweep's ``run`` builds, from its tasks' results, exactly the cached results (the
    tasks replaced by their cached entries): the split into tasks changes no stored number."""
    from lecture_utils.sweeps import _pool

    rec = sweeps.load(name)
    mod = sweeps.module(name)
    lookup = _cached_task(name, rec["results"], rec["params"])
    seen = []

    def fake_map(fn, params, args, *, desc, progress=True):
        args = list(args)
        assert len(set(args)) == len(args), "every task once"
        seen.extend(args)
        return {a: _copy_json(lookup(a)) if not isinstance(lookup(a), dict) or "weights" not in lookup(a)
                else lookup(a) for a in args}

    monkeypatch.setattr(_pool, "map_tasks", fake_map)
    if name == "have_both":
        monkeypatch.setattr(mod, "run_parallel", lambda params: rec["results"]["parallel"])
    got = sweeps._normalise(mod.run(rec["params"], progress=False))
    assert seen, "the sweep runs its work through _pool.map_tasks"
    assert got == rec["results"]


@pytest.mark.parametrize("name", [n for n in sweeps.names() if sweeps.parts(n)])
def test_a_sweep_in_parts_merges_to_the_results_of_one_run(name, tmp_path, monkeypatch):
    """A sweep over the 3-min budget is cached in parts; each part stores the full PARAMS and only its
    own runs, and ``load`` merges them into the results one run gives (here: the stored cache)."""
    from lecture_utils.sweeps import _pool

    mod, rec = sweeps.module(name), sweeps.load(name)
    key = next(iter(mod.PARTS[0]))
    assert sorted(v for part in mod.PARTS for v in part[key]) == sorted(mod.PARAMS[key]), "every value once"
    lookup = _cached_task(name, rec["results"], rec["params"])
    monkeypatch.setattr(_pool, "map_tasks",
                        lambda fn, params, args, **kw: {a: _copy_json(lookup(a)) for a in args})
    for k in sweeps.parts(name):
        part = sweeps.compute(name, part=k, progress=False, data_dir=tmp_path)
        assert part["part"] == k and part["params"] == rec["params"]
        assert len(part["results"]["runs"]) < len(rec["results"]["runs"])
    assert sweeps.load(name, data_dir=tmp_path)["results"] == rec["results"]
    (tmp_path / f"sweep_{name}.part2.json").unlink()   # a part missing: only a file of the whole would do
    with pytest.raises(sweeps.CacheMismatch, match=f"no cached sweep sweep_{name}.json"):
        sweeps.load(name, data_dir=tmp_path)
    with pytest.raises(ValueError, match="part"):
        sweeps.compute(name, part=9, save=False)


def test_the_command_line_lists_and_builds_parts(capsys, monkeypatch):
    from lecture_utils.sweeps.__main__ import _todo, main

    assert main(["--list"]) == 0
    listed = capsys.readouterr().out.split()
    assert {"tuned_lr.1", "tuned_lr.2", "critical_batch.1", "timing"} <= set(listed)
    assert "tuned_lr" not in listed
    assert _todo(["tuned_lr.2", "timing"]) == [("tuned_lr", 2), ("timing", None)]
    assert ("critical_batch", 1) in _todo(["all"]) and ("timing", None) in _todo(["all"])
