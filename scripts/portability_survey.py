"""Which checked notebook outputs move when the CPU code path changes? (issue 20, item 1)

Executes each notebook in a fresh kernel (nbclient, as ``scripts/execute_notebooks.py`` does) once per
CPU code path below, each in its own process with the path's environment variables, and diffs every
output that strict nbval checks against the stored notebook. "Checked" follows nbval exactly
(``--nbval`` without ``--nbdime``): every output key except images (image/png, image/jpeg), metadata,
tracebacks, execution counts and widget-view ids; stream outputs coalesced per stream name; cells whose
source has ``# NBVAL_IGNORE_OUTPUT`` / ``# NBVAL_SKIP`` (or the matching tags) are not compared.

It never writes to ``notebooks/``: the notebooks, the package and the caches are taken from one git
commit (``git archive``, default HEAD) into a temporary folder, and the kernels import
``lecture_utils`` from there (``PYTHONPATH``), so notebooks being edited in the working tree do not mix
in. The MNIST-1D file (git-ignored, made on demand) is copied from ``data/`` when present.

Usage::

    python scripts/portability_survey.py [--commit REV] [--paths default,avx2,...] [--report FILE]
                                         [notebooks/NN_x.ipynb ...]

Prints, for each differing cell: notebook, cell index, cell id and the differing lines per path;
``--report`` also writes a markdown table (notebook · cell · id → values per path).
"""
from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: CPU code paths that stand in for other machines (see /work/shared/notes/portability.md).
PATHS = {
    "default": {},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"},
    "sse42": {"ATEN_CPU_CAPABILITY": "default", "MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "cbwr_compat": {"MKL_CBWR": "COMPATIBLE"},
    "onednn_avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "aten_avx512": {"ATEN_CPU_CAPABILITY": "avx512"},
}
#: Variables that select a code path; cleared before a path's own are set.
PATH_VARS = sorted({k for env in PATHS.values() for k in env} | {"MKL_CBWR"})

# nbval (plugin.py, IPyNbFile.__init__): keys not compared when --nbdime is off
SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


def snapshot(commit, dest):
    """Extract ``commit``'s tree into ``dest`` (git archive); return the full commit hash."""
    full = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    archive = subprocess.run(["git", "archive", "--format=tar", full], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    for npz in (ROOT / "data").glob("mnist1d_seed*.npz"):
        shutil.copy2(npz, Path(dest) / "data" / npz.name)
    return full


def execute_one(nb_path, out_path):
    """Worker: execute ``nb_path`` in a fresh kernel (cwd = its folder), write the result to ``out_path``."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(nb_path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(nb_path).parent)}})
    t0 = time.perf_counter()
    client.execute()
    nbformat.write(nb, out_path)
    print(json.dumps({"wall_s": time.perf_counter() - t0}))


def checked_outputs(cell):
    """The outputs nbval compares for ``cell``, as {key: [values]} (nbval's flattening), or None."""
    from nbval.plugin import coalesce_streams, find_comment_markers, find_metadata_tags

    if cell.cell_type != "code":
        return None
    options = {}
    for kind, value in find_comment_markers(cell.source):
        options[kind] = value
    for kind, value in find_metadata_tags(cell.metadata):
        options[kind] = value
    if options.get("skip") or options.get("check") is False:
        return None
    flat = defaultdict(list)
    for out in coalesce_streams([o.copy() for o in cell.get("outputs", [])]):
        if out.output_type == "stream":
            flat[f"stream:{out.name}"].append(out.text)
            continue
        for key, value in out.items():
            if key in SKIP_COMPARE:
                continue
            if key == "data":
                for dkey, dval in value.items():
                    if dkey not in SKIP_COMPARE:
                        flat[dkey].append(dval if isinstance(dval, str) else json.dumps(dval))
            else:
                flat[key].append(value if isinstance(value, str) else json.dumps(value))
    return dict(flat)


def differing_lines(ref, got):
    """Lines of ``got`` that differ from ``ref`` (per key), as [(key, ref_lines, got_lines)]."""
    diffs = []
    for key in sorted(set(ref) | set(got)):
        a = "\n".join(ref.get(key, [])).splitlines()
        b = "\n".join(got.get(key, [])).splitlines()
        if a == b:
            continue
        sm = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for tag, i1, i2, j1, j2 in sm.get_opcodes():
            if tag != "equal":
                diffs.append((key, a[i1:i2], b[j1:j2]))
    return diffs


def survey_notebook(nb_rel, snap, paths, workdir):
    """Run one notebook under every path; return (rows, timings): rows[cell] = {path: diffs}."""
    import nbformat

    src = Path(snap) / nb_rel
    stored = nbformat.read(src, as_version=4)
    env_base = {k: v for k, v in os.environ.items() if k not in PATH_VARS}
    env_base["PYTHONPATH"] = str(snap) + os.pathsep + env_base.get("PYTHONPATH", "")
    rows, timings = defaultdict(dict), {}
    for name in paths:
        out = Path(workdir) / f"{Path(nb_rel).stem}.{name}.ipynb"
        env = dict(env_base, **PATHS[name])
        c0 = os.times()
        proc = subprocess.run([sys.executable, __file__, "--worker", str(src), str(out)], env=env,
                              capture_output=True, text=True, cwd=src.parent)
        c1 = os.times()
        cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
        if proc.returncode != 0:
            timings[name] = {"error": proc.stderr.strip().splitlines()[-1:] or ["?"], "cpu_s": cpu}
            rows[("error", -1, "")][name] = [("error", [], timings[name]["error"])]
            continue
        timings[name] = dict(json.loads(proc.stdout.strip().splitlines()[-1]), cpu_s=cpu)
        ran = nbformat.read(out, as_version=4)
        for idx, (a, b) in enumerate(zip(stored.cells, ran.cells, strict=True)):
            ref = checked_outputs(a)
            if ref is None:
                continue
            diffs = differing_lines(ref, checked_outputs(b))
            if diffs:
                rows[(idx, a.get("id", ""))][name] = diffs
    return rows, timings


def _cell(lines):
    text = " ⏎ ".join(line.strip() for line in lines) or "∅"
    return text.replace("|", "\\|")[:400]


def kind(per, paths, timings):
    """"stale" when every path that ran gives one and the same new output (the stored output is old, not
    fragile); "CPU-fragile" when the paths disagree among themselves."""
    ran = [p for p in paths if p in timings and "error" not in timings[p]]
    got = {json.dumps([g for _, _, g in per[p]]) if p in per else "stored" for p in ran}
    return "stale (same on every path)" if len(got) == 1 else "CPU-fragile"


def render(results, paths, meta):
    """Markdown report: one table per notebook, row = cell, column = path, value = changed lines."""
    described = ", ".join(f"`{p}` = {PATHS[p] or 'no variables'}" for p in paths)
    out = [f"### Survey run {meta['started']} — commit `{meta['commit'][:10]}`",
           "",
           f"Paths: {described}. "
           f"Load at start {meta['load']}. Cells not listed matched the stored output on every path.", ""]
    for nb, (rows, timings) in results.items():
        t = ", ".join(f"{p}: {v.get('wall_s', float('nan')):.1f} s wall / {v['cpu_s']:.1f} s CPU"
                      + (f" ERROR {v['error']}" if "error" in v else "") for p, v in timings.items())
        out += [f"**{nb}** ({t})", ""]
        if not rows:
            out += ["All checked outputs identical to the stored ones on every path.", ""]
            continue
        out.append("| cell · id | kind | stored | " + " | ".join(paths) + " |")
        out.append("|---|---|---|" + "---|" * len(paths))
        for (idx, cid), per in sorted(rows.items(), key=lambda kv: kv[0][0]):
            refs = []  # the stored chunks that differ on some path, in order, once each
            for diffs in per.values():
                for _, r, _ in diffs:
                    if _cell(r) not in refs:
                        refs.append(_cell(r))
            stored_txt = " // ".join(refs)
            vals = []
            for p in paths:
                if p in per:
                    vals.append(" // ".join(_cell(g) for _, _, g in per[p]))
                elif p in timings and "error" not in timings[p]:
                    vals.append("= stored")
                else:
                    vals.append("–")
            out.append(f"| {idx} · `{cid}` | {kind(per, paths, timings)} | {stored_txt} | "
                       + " | ".join(vals) + " |")
        out.append("")
    return "\n".join(out)


# ------------------------------------------------------------------ recomputed cached points (item 2)
def _recompute(name):
    """What the test that recomputes cached point ``name`` compares, recomputed now, and the cached values.

    Each entry mirrors one test (same call, same arguments); ``--recompute`` runs it under every code
    path in its own process, so the spread across paths sets the test's tolerance.
    """
    from lecture_utils import sweeps
    from lecture_utils.data import load_mnist1d
    from lecture_utils.seeding import THREADS, set_threads
    from lecture_utils.train import train_classifier

    def f(x):
        return None if x is None else float(x)

    name, _, point = name.partition(":")   # "tuned_lr:32,6.4,0": another cell than the test's
    if name == "tuned_lr":          # tests/test_have_both.py::test_tuned_lr_one_run_recomputed
        from lecture_utils.sweeps import tuned_lr
        rec = sweeps.load("tuned_lr")
        p = rec["params"]
        b, lr, seed = (max(p["batch_sizes"]), max(p["lrs"]), 0)
        if point:
            b, lr, seed = int(point.split(",")[0]), float(point.split(",")[1]), int(point.split(",")[2])
        try:
            got = tuned_lr.run_one(p, (b, lr, seed))
        finally:
            set_threads(THREADS)
        cached = rec["results"]["runs"][tuned_lr.run_key(b, lr, seed)]
        return {f"B={b},lr={lr},seed={seed}": {"got": got, "cached": cached}}
    if name == "sharpness_matched":  # tests/test_sharpness_matched.py::test_a_cached_point_is_reproduced
        from lecture_utils.sweeps import sharpness_matched as M
        from lecture_utils.sweeps.generalization import measure_sharpness
        rec = sweeps.load("sharpness_matched")
        p, res = rec["params"], rec["results"]
        c = max((c for c in res["configs"] if c["batch_size"] == 32), key=lambda c: c["lr"])
        if point:                   # "sharpness_matched:B=400,lr=0.4"
            c = next(c for c in res["configs"] if c["key"] == point)
        cached = res["runs"][c["key"]][0]
        r = M.train_point(p, c["batch_size"], c["lr"], p["seeds"][0])
        lam, _ = measure_sharpness(p, r.model)
        KEYS = ("status", "steps", "train_loss", "top_eigenvalue")
        return {c["key"]: {"got": {"status": r.status, "steps": r.steps, "train_loss": f(r.train_loss),
                                   "top_eigenvalue": f(lam)},
                           "cached": {k: cached[k] for k in KEYS}}}
    if name == "momentum_mnist":     # tests/test_sweep_momentum_mnist.py::test_one_cached_point_recomputes
        from lecture_utils.sweeps import momentum_mnist as M
        rec = sweeps.load("momentum_mnist")
        p = rec["params"]
        run = next(r for r in rec["results"]["matched"] if r["beta"] == 0.9 and r["seed"] == 0)
        data = load_mnist1d(seed=p["dataset"]["seed"]).subset(p["n_train"])
        r = M.steps_to_loss(data, batch_size=run["batch_size"], lr=run["lr"], beta=run["beta"], seed=0,
                            target_loss=p["target_loss"], max_steps=p["max_steps"],
                            eval_every=p["eval_every"], blowup=p["blowup"], threads=p["threads"])
        keys = ("status", "steps", "curve_loss")
        return {"beta=0.9,seed=0": {"got": {k: r.get(k) for k in keys},
                                    "cached": {k: run.get(k) for k in keys}}}
    if name == "momentum_saddle":    # tests/test_sweep_momentum_saddle.py::test_one_cached_run_recomputes
        from lecture_utils.sweeps import momentum_saddle as M
        rec = sweeps.load("momentum_saddle")
        p = rec["params"]
        run = min(rec["results"]["runs"], key=lambda r: r["steps"])
        data = load_mnist1d(seed=p["dataset"]["seed"]).subset(p["n_train"])
        r = train_classifier(data, batch_size=p["batch_size"], lr=run["lr"], seed=run["seed"],
                             momentum=run["beta"], max_steps=p["max_steps"],
                             target_train_loss=rec["results"]["level"], eval_every_steps=p["eval_every"],
                             max_train_loss=p["blowup"], init_state=M.scaled_init(run["seed"], p["scale"]),
                             threads=p["threads"])
        steps = M.steps_to_leave(r.history["step"], r.history["train_loss"], rec["results"]["level"])
        return {"fastest": {"got": {"steps_to_leave": steps}, "cached": {"steps_to_leave": run["steps"]}}}
    if name == "batch_accuracy":     # tests/test_sweeps.py::test_one_cached_point_recomputes
        rec = sweeps.load("batch_accuracy")
        p = rec["params"]
        run = next(r for r in rec["results"]["runs"] if r["batch_size"] == 512 and r["seed"] == 0)
        r = train_classifier(load_mnist1d(), batch_size=512, lr=p["lr"], seed=0, epochs=p["epochs"],
                             hidden=p["hidden"])
        return {"B=512,seed=0": {"got": {"steps": r.steps, "test_acc": f(r.test_acc),
                                         "train_loss": f(r.train_loss)},
                                 "cached": {k: run[k] for k in ("steps", "test_acc", "train_loss")}}}
    if name == "noisy_training":     # tests/test_panels_noisy.py::test_cached_training_recomputes
        from lecture_utils.sweeps.noisy_training import eval_steps
        rec = sweeps.load("noisy_training")
        p = rec["params"]
        out = {}
        for b in (512, 4000):
            cached = next(r for r in rec["results"]["runs"]
                          if r["batch_size"] == b and r["seed"] == p["seeds"][0])
            per_epoch = cached["updates_per_epoch"]
            steps = [s for s in eval_steps(per_epoch, p["epochs"], per_epoch * p["epochs"],
                                           p["matched_updates"], p["points_per_decade"])
                     if s <= 2 * per_epoch]
            r = train_classifier(load_mnist1d(), batch_size=b, lr=p["lr"], seed=p["seeds"][0], epochs=2,
                                 eval_at_steps=steps, hidden=p["hidden"], threads=p["threads"])
            k = len(r.history["step"])
            out[f"B={b}"] = {"got": {"step": r.history["step"], "train_loss": r.history["train_loss"]},
                             "cached": {"step": cached["step"][:k], "train_loss": cached["train_loss"][:k]}}
        return out
    if name == "generalization_rerun":  # tests/test_generalization.py::test_panel_rerun_recomputes_...
        from lecture_utils.sweeps import generalization as G
        rec = sweeps.load("generalization")
        b = rec["params"]["sb"]
        r = G.train_point({**rec["params"], "threads": 1}, b, 0)
        cached = rec["results"]["runs"][str(b)][0]
        keys = ("status", "test_acc", "steps")
        return {f"B={b}": {"got": {"status": r.status, "test_acc": f(r.test_acc), "steps": r.steps},
                           "cached": {k: cached[k] for k in keys}}}
    if name == "generalization_weights":  # tests/test_generalization.py::test_stored_weights_reproduce_...
        from lecture_utils import sharpness
        from lecture_utils.sweeps import generalization as G
        from lecture_utils.train import as_tensors
        rec = sweeps.load("generalization")
        res = rec["results"]
        w = G.load_weights(rec)
        data = load_mnist1d()
        x, y, _, _ = as_tensors(data)
        out = {}
        for key, b in (("sb", res["gap"]["sb"]), ("lb", res["gap"]["lb"])):
            run = res["runs"][str(b)][0]
            curve = sharpness.interpolation_curve(w[key], w[key], data, alphas=[0.0])
            got = {"train_acc": f(curve["train_acc"][0]), "test_acc": f(curve["test_acc"][0])}
            if key == "lb":
                s = rec["params"]["sharpness"]
                model = sharpness.model_from_flat(w[key])
                got["top_eigenvalue"] = f(sharpness.top_hessian_eigenvalue(model, x, y, iters=s["iters"],
                                                                         tol=s["tol"], seed=s["seed"]))
            out[key] = {"got": got, "cached": {k: run[k] for k in got}}
        return out
    if name == "have_both":         # tests/test_have_both.py::test_live_rerun_matches_cache_and_criterion
        from lecture_utils.sweeps import have_both as H
        rec = sweeps.load("have_both")
        p = rec["params"]
        try:
            small = H.train_point(p, 32, "fixed", False, 0)
            large = H.train_point(p, 512, "scaled", True, 0)
        finally:
            set_threads(THREADS)
        cached = rec["results"]["protocol"]["per_seed"]["0"]
        keys = ("status", "steps", "test_acc")
        return {name: {"got": {"status": r.status, "steps": r.steps, "test_acc": f(r.test_acc)},
                       "cached": {k: cached[name].get(k) for k in keys}}
                for name, r in (("small", small), ("large_scaled_warmup", large))}
    raise KeyError(name)


#: Recomputed points (test name -> what is recomputed); ``--recompute all`` runs every one.
RECOMPUTES = ("tuned_lr", "sharpness_matched", "momentum_mnist", "momentum_saddle", "batch_accuracy",
              "noisy_training", "generalization_rerun", "generalization_weights", "have_both")


def _jsonable(x):
    import numpy as np
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.generic):
        return x.item()
    return x


def recompute_spread(names, paths, out_json, tree=ROOT):
    """Recompute each point under each path (one process each, code and caches from ``tree``);
    write {name: {path: values}}."""
    env_base = {k: v for k, v in os.environ.items() if k not in PATH_VARS}
    env_base["PYTHONPATH"] = str(tree) + os.pathsep + env_base.get("PYTHONPATH", "")
    results = json.loads(Path(out_json).read_text()) if Path(out_json).exists() else {}
    for name in names:
        for p in paths:
            c0 = os.times()
            proc = subprocess.run([sys.executable, __file__, "--recompute-worker", name],
                                  env=dict(env_base, **PATHS[p]), capture_output=True, text=True, cwd=tree)
            c1 = os.times()
            cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
            if proc.returncode:
                value = {"error": proc.stderr.strip().splitlines()[-3:]}
            else:
                value = json.loads(proc.stdout.strip().splitlines()[-1])
            results.setdefault(name, {})[p] = dict(value, cpu_s=round(cpu, 1))
            print(name, p, json.dumps(value)[:600], f"{cpu:.1f} s CPU", flush=True)
            Path(out_json).write_text(json.dumps(results, indent=1))


def main(argv):
    if argv[:1] == ["--worker"]:
        execute_one(argv[1], argv[2])
        return
    if argv[:1] == ["--recompute-worker"]:
        print(json.dumps(_jsonable(_recompute(argv[1]))))
        return
    if argv[:1] == ["--recompute"]:
        ap = argparse.ArgumentParser(description="recompute cached points under every code path")
        ap.add_argument("names", nargs="*", default=list(RECOMPUTES))
        ap.add_argument("--paths", default=",".join(PATHS))
        ap.add_argument("--out", default="recompute_spread.json")
        ap.add_argument("--commit", help="take code and caches from this commit (default: the working tree)")
        a = ap.parse_args(argv[1:])
        if not a.commit:
            recompute_spread(a.names, a.paths.split(","), a.out)
            return
        with tempfile.TemporaryDirectory(prefix="portability_") as tmp:
            print("commit", snapshot(a.commit, tmp), flush=True)
            recompute_spread(a.names, a.paths.split(","), str(Path(a.out).resolve()), tree=Path(tmp))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="*")
    ap.add_argument("--commit", default="HEAD")
    ap.add_argument("--paths", default=",".join(PATHS))
    ap.add_argument("--report", help="write the markdown table here (rewritten after each notebook)")
    args = ap.parse_args(argv)
    paths = args.paths.split(",")
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        raise SystemExit(f"--paths: unknown {unknown}; valid: {list(PATHS)}")
    with tempfile.TemporaryDirectory(prefix="portability_") as tmp:
        snap = Path(tmp) / "tree"
        snap.mkdir()
        commit = snapshot(args.commit, snap)
        nbs = [str(Path(n).relative_to(ROOT) if Path(n).is_absolute() else n) for n in args.notebooks]
        nbs = nbs or sorted(str(p.relative_to(snap)) for p in (snap / "notebooks").glob("*.ipynb"))
        meta = {"commit": commit, "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                "load": Path("/proc/loadavg").read_text().split()[:3]}
        print(f"commit {commit}, paths {paths}")
        results = {}
        for nb in nbs:
            rows, timings = survey_notebook(nb, snap, paths, tmp)
            results[nb] = (rows, timings)
            for (idx, cid), per in sorted(rows.items(), key=lambda kv: kv[0][0]):
                print(f"{nb} cell {idx} id {cid}: {kind(per, paths, timings)}")
                for p, diffs in per.items():
                    for key, ref, got in diffs:
                        print(f"  [{p}] {key}: stored {ref!r}\n  {' ' * len(p)}    got    {got!r}")
            print(f"{nb}: {len(rows)} differing cell(s); " +
                  ", ".join(f"{p} {v.get('cpu_s', 0):.1f} s CPU" for p, v in timings.items()), flush=True)
            if args.report:
                Path(args.report).write_text(render(results, paths, meta) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
