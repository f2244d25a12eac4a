"""The course's benchmark table (`make bench`): what a learner waits for, measured.

1. each notebook's headless restart-and-run-all time (fresh kernel, nbclient), median of 3 —
   budget 20 s on a 2-core CPU;
2. the Python-side time of one update of every slider panel (compute + draw + PNG, the
   ``Panel.last_seconds`` of ``lecture_utils.widgets``), median of 20 — budget 30 ms for toy
   panels, 60 ms for data panels;
3. training throughput of ``lecture_utils.train.train_classifier`` (in-memory tensors indexed by
   ``epoch_batches``) against a ``torch.utils.data.DataLoader(TensorDataset)`` loop with the same
   model, optimiser, number of updates and the same two evaluations (train and test set, before and
   after: ``train_classifier`` reports them and its ``seconds`` include them, ~25 ms each on one
   thread), at B = 1, 32 and 1024, as a ratio measured in the same run;
3b. ``train_classifier`` (the whole call) against a bare torch loop (same MLP, batches sliced from a
   pre-permuted tensor, ``torch.optim.SGD``) at B = 1, 32, 1024: interleaved repeats, median ratio,
   budget 1.25×; the table also says whether both end with the same weights (they should, bit for bit);
4. the time to regenerate each cached sweep (into a temporary folder: the committed caches under
   ``data/`` are not touched).

Prints one table and writes it to ``benchmarks/results/latest.md`` and ``latest.json`` (and into
the marked section of ``docs/benchmarks.md``). Public tools only: nbclient, torch, time.perf_counter.

    python benchmarks/run.py                 # everything (sweeps take minutes)
    python benchmarks/run.py --skip-sweeps   # notebooks, panels, throughput
    python benchmarks/run.py --quick         # smoke run: 1 repeat, few updates, no sweeps
"""
from __future__ import annotations

import argparse
import datetime as dt
import glob
import inspect
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
README = ROOT / "docs" / "benchmarks.md"   # the table lives in docs/benchmarks.md
NOTEBOOK_BUDGET_S = 20.0
TOY_BUDGET_MS, DATA_BUDGET_MS = 30.0, 60.0
SWEEP_BUDGET_S = 180.0
LOOP_BUDGET_X = 1.25   # train_classifier within 1.25x of a bare torch loop

sys.path.insert(0, str(ROOT))


# ----------------------------------------------------------------------------- machine
def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    try:
        load = os.getloadavg()
    except OSError:
        load = None
    return {"date_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "cpu": cpu,
            "cores": os.cpu_count(), "python": platform.python_version(),
            "torch": torch.__version__.split("+")[0],
            "platform": platform.platform(terse=True), "load_avg_at_start": load}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- 1. notebooks
def bench_notebooks(paths, repeats):
    import nbformat
    from nbclient import NotebookClient

    rows = []
    for p in paths:
        times, error = [], None
        for r in range(repeats):
            nb = nbformat.read(p, as_version=4)
            client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": str(Path(p).parent)}})
            t0 = time.perf_counter()
            try:
                client.execute()  # starts a fresh kernel: restart-and-run-all
            except Exception as exc:  # noqa: BLE001  (reported in the table)
                error = (f"{type(exc).__name__}: "
                         f"{str(exc).strip().splitlines()[-1][:120] if str(exc).strip() else ''}")
                break
            times.append(time.perf_counter() - t0)
            log(f"  {Path(p).name} run {r + 1}/{repeats}: {times[-1]:.1f} s")
        med = statistics.median(times) if times else None
        rows.append({"notebook": Path(p).name, "median_s": med, "runs_s": [round(t, 2) for t in times],
                     "budget_s": NOTEBOOK_BUDGET_S,
                     "ok": med is not None and med <= NOTEBOOK_BUDGET_S and not error,
                     "error": error})
    return rows


# ----------------------------------------------------------------------------- 2. panels
def is_data_panel(mod, name, fn, uses_cache):
    """Data panels (MNIST-1D, trained models, cached sweeps) get 60 ms, toy panels 30 ms."""
    if uses_cache:
        return True
    src = inspect.getsource(fn)
    return any(w in src for w in ("load_mnist1d", "train_classifier", "make_mlp", "sweeps.load", "torch"))


def bench_panels(n_updates):
    rows = []
    from lecture_utils.panels import build_default, panel_functions
    from lecture_utils.widgets import control_positions

    for mod, name, fn in panel_functions():
        label = f"{mod.__name__.rsplit('.', 1)[-1]}.{name}"
        try:
            t0 = time.perf_counter()
            panel, how, cached = build_default(fn)
            build_s = time.perf_counter() - t0
        except Exception as exc:  # noqa: BLE001
            rows.append({"panel": label, "error": f"not built: {exc}", "ok": False})
            continue
        data = is_data_panel(mod, name, fn, cached)
        budget = DATA_BUDGET_MS if data else TOY_BUDGET_MS
        # move one slider per update, cycling through the sliders and through positions over each range
        plan = [(k, v) for k, c in panel.controls.items() for v in control_positions(c)]
        times, worst = [], None
        for i in range(n_updates + 2):
            k, v = plan[i % len(plan)]
            panel.update(**{k: v})
            if i >= 2:  # two warm-up updates
                times.append(panel.last_seconds)
                if worst is None or panel.last_seconds > worst[0]:
                    worst = (panel.last_seconds, k, v)
        med_ms = 1000 * statistics.median(times)
        rows.append({"panel": label, "kind": "data" if data else "toy", "built_with": how,
                     "build_s": round(build_s, 2), "median_ms": round(med_ms, 1),
                     "max_ms": round(1000 * max(times), 1),
                     "slowest_at": f"{worst[1]}={worst[2]!r}" if worst else None,
                     "budget_ms": budget, "ok": med_ms <= budget})
        log(f"  {label}: {med_ms:.1f} ms ({'data' if data else 'toy'}, budget {budget:.0f})")
    return rows


# ----------------------------------------------------------------------------- 3. throughput
def bench_throughput(batch_sizes, repeats, scale=1.0):
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    from lecture_utils.data import load_mnist1d
    from lecture_utils.seeding import THREADS, set_threads
    from lecture_utils.train import as_tensors, evaluate, make_mlp, train_classifier

    data = load_mnist1d()
    x, y, xt, yt = as_tensors(data)
    set_threads(THREADS)
    lr = 0.05
    rows = []
    for b in batch_sizes:
        steps = max(10, int(scale * {1: 3000, 32: 600}.get(b, 60)))

        def ours(b=b, steps=steps):
            r = train_classifier(data, batch_size=b, lr=lr, seed=0, max_steps=steps, eval_every=10**9)
            assert r.steps == steps, (r.steps, steps, r.status)
            return r.seconds

        def loader(b=b, steps=steps):
            model = make_mlp(0)
            opt = torch.optim.SGD(model.parameters(), lr=lr)
            dl = DataLoader(TensorDataset(x, y), batch_size=b, shuffle=True,
                            generator=torch.Generator().manual_seed(0))
            model.train()
            done = 0
            t0 = time.perf_counter()
            evaluate(model, x, y), evaluate(model, xt, yt)  # like-for-like: train_classifier's r.seconds
            while done < steps:                               # includes its first and last evaluation
                for xb, yb in dl:
                    loss = F.cross_entropy(model(xb), yb)
                    opt.zero_grad(set_to_none=True)
                    loss.backward()
                    opt.step()
                    done += 1
                    if done >= steps:
                        break
            evaluate(model, x, y), evaluate(model, xt, yt)
            return time.perf_counter() - t0

        t_ours, t_dl = [], []
        ours(), loader()  # warm-up (first-call costs: allocator, kernels, DataLoader setup)
        for _ in range(repeats):  # interleaved, so that load changes hit both alike
            t_ours.append(ours())
            t_dl.append(loader())
        mo, md = statistics.median(t_ours), statistics.median(t_dl)
        rows.append({"batch_size": b, "updates": steps, "examples": steps * b,
                     "lecture_utils_s": round(mo, 3), "dataloader_s": round(md, 3),
                     "lecture_utils_ex_per_s": round(steps * b / mo),
                     "dataloader_ex_per_s": round(steps * b / md),
                     "dataloader_slower_x": round(md / mo, 2)})
        log(f"  B={b}: lecture_utils {mo:.2f} s, DataLoader {md:.2f} s -> {md / mo:.2f}x")
    return rows


# ----------------------------------------------------------------------------- 3b. the loop's floor
LOOP_UPDATES = {1: 3000, 32: 600, 1024: 60}


def bare_loop(x, y, batch_size, steps, lr, seed=0):
    """The floor: the same MLP and ``torch.optim.SGD``, batches sliced from a tensor permuted once
    per epoch, nothing else (no evaluation, no checks). Returns (seconds, model)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from lecture_utils.train import make_mlp

    t0 = time.perf_counter()
    model = make_mlp(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    n, done, ep = len(y), 0, 0
    while done < steps:
        perm = torch.from_numpy(np.random.default_rng([seed, ep]).permutation(n))
        xp, yp = x[perm], y[perm]
        ep += 1
        for i in range(0, n, batch_size):
            loss = F.cross_entropy(model(xp[i:i + batch_size]), yp[i:i + batch_size])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            done += 1
            if done >= steps:
                break
    return time.perf_counter() - t0, model


def bench_loop(batch_sizes, repeats):
    """``train_classifier`` (whole call: model, loop, its two evaluations, result) against
    :func:`bare_loop` with the same number of updates, interleaved, median of ``repeats``."""
    import numpy as np

    from lecture_utils.data import load_mnist1d
    from lecture_utils.seeding import THREADS, set_threads
    from lecture_utils.train import as_tensors, flat_params, train_classifier

    data = load_mnist1d()
    x, y, _, _ = as_tensors(data)
    lr, rows = 0.05, []
    for b in batch_sizes:
        steps = LOOP_UPDATES.get(b, 60)

        def ours(b=b, steps=steps):
            t0 = time.perf_counter()
            r = train_classifier(data, batch_size=b, lr=lr, seed=0, max_steps=steps, eval_every=10**9)
            return time.perf_counter() - t0, r.model

        set_threads(THREADS)
        (_, m_ours), (_, m_bare) = ours(), bare_loop(x, y, b, steps, lr)  # warm-up, and the same weights?
        same = bool(np.array_equal(flat_params(m_ours), flat_params(m_bare)))
        t_ours, t_bare, ratios = [], [], []
        for _ in range(repeats):  # interleaved, so that load changes hit both alike
            t_ours.append(ours()[0])
            t_bare.append(bare_loop(x, y, b, steps, lr)[0])
            ratios.append(t_ours[-1] / t_bare[-1])
        mo, mb, mr = statistics.median(t_ours), statistics.median(t_bare), statistics.median(ratios)
        rows.append({"batch_size": b, "updates": steps, "train_classifier_s": round(mo, 3),
                     "bare_s": round(mb, 3),
                     "ratio": round(mr, 3), "ratio_min": round(min(ratios), 3),
                     "ratio_max": round(max(ratios), 3),
                     "same_weights": same, "budget": LOOP_BUDGET_X, "ok": mr <= LOOP_BUDGET_X})
        log(f"  B={b}: train_classifier {mo:.3f} s, bare loop {mb:.3f} s -> {mr:.2f}x "
            f"(range {min(ratios):.2f}-{max(ratios):.2f}; same weights: {same})")
    return rows


# ----------------------------------------------------------------------------- 4. sweeps
def bench_sweeps(names):
    from lecture_utils import sweeps

    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_sweeps_") as tmp:
        for name in names:
            t0 = time.perf_counter()
            error = None
            try:
                sweeps.compute(name, progress=False, data_dir=tmp)  # never the committed data/ folder
            except Exception as exc:  # noqa: BLE001
                error = f"{type(exc).__name__}: {str(exc)[:120]}"
            s = time.perf_counter() - t0
            rows.append({"sweep": name, "seconds": round(s, 1), "budget_s": SWEEP_BUDGET_S,
                         "ok": error is None and s <= SWEEP_BUDGET_S, "error": error})
            log(f"  sweep {name}: {s:.1f} s{' ' + error if error else ''}")
    return rows


# ----------------------------------------------------------------------------- report
def _mark(ok):
    return "ok" if ok else "**over budget**"


def to_markdown(res):
    from lecture_utils.seeding import THREADS

    m = res["machine"]
    load = m.get("load_avg_at_start")
    lines = [f"Measured {m['date_utc']} on {m['cpu']} ({m['cores']} cores), Python {m['python']}, "
             f"torch {m['torch']} ({THREADS} thread(s) for training), {m['platform']}"
             + (f"; load average at start {load[0]:.1f}" if load else "") + ".", ""]
    if res.get("notebooks") is not None:
        repeats = res["settings"]["notebook_repeats"]
        lines += [f"| notebook (restart and run all) | median of {repeats} | budget | |",
                  "|---|---:|---:|---|"]
        for r in res["notebooks"]:
            t = f"{r['median_s']:.1f} s" if r["median_s"] is not None else "failed"
            lines.append(f"| {r['notebook']} | {t} | {r['budget_s']:.0f} s | "
                         f"{r['error'] or _mark(r['ok'])} |")
        lines.append("")
    if res.get("panels") is not None:
        lines += ["| panel update (compute + draw + PNG) | kind | median of {} | max | budget | |".format(
            res["settings"]["panel_updates"]), "|---|---|---:|---:|---:|---|"]
        for r in res["panels"]:
            if "error" in r:
                lines.append(f"| {r['panel']} | | | | | {r['error']} |")
            else:
                lines.append(f"| {r['panel']} | {r['kind']} | {r['median_ms']:.1f} ms | {r['max_ms']:.0f} "
                             f"ms | "
                             f"{r['budget_ms']:.0f} ms | {_mark(r['ok'])} |")
        lines.append("")
    if res.get("throughput") is not None:
        lines += ["| training throughput | updates | lecture_utils.train | DataLoader(TensorDataset) | "
                  "DataLoader slower by |",
                  "|---|---:|---:|---:|---:|"]
        for r in res["throughput"]:
            lines.append(f"| B = {r['batch_size']} | {r['updates']} | {r['lecture_utils_ex_per_s']:,} ex/s | "
                         f"{r['dataloader_ex_per_s']:,} ex/s | {r['dataloader_slower_x']:.2f}× |")
        lines.append("")
    if res.get("loop") is not None:
        lines += ["| train_classifier vs bare torch loop (same run, interleaved) | updates | "
                  "train_classifier | bare loop "
                  "| ratio (median, range) | budget | |", "|---|---:|---:|---:|---:|---:|---|"]
        for r in res["loop"]:
            lines.append(f"| B = {r['batch_size']} | {r['updates']} | {r['train_classifier_s']:.3f} s | "
                         f"{r['bare_s']:.3f} s "
                         f"| {r['ratio']:.2f}× ({r['ratio_min']:.2f}–{r['ratio_max']:.2f}) | "
                         f"{r['budget']:.2f}× | "
                         f"{_mark(r['ok'])}{'' if r['same_weights'] else ', weights differ'} |")
        lines.append("")
    if res.get("sweeps") is not None:
        lines += ["| cached sweep (regenerate) | time | budget | |", "|---|---:|---:|---|"]
        for r in res["sweeps"]:
            lines.append(f"| {r['sweep']} | {r['seconds']:.0f} s | {r['budget_s']:.0f} s | "
                         f"{r['error'] or _mark(r['ok'])} |")
        lines.append("")
    return "\n".join(lines)


def write_readme_section(md):
    if not README.exists():
        return
    text = README.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        README.write_text(f"{head}{start}\n{md}\n{end}{tail}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skip-sweeps", action="store_true", help="do not regenerate the cached sweeps")
    ap.add_argument("--skip-notebooks", action="store_true")
    ap.add_argument("--skip-panels", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--notebooks", nargs="*", help="only these notebooks (paths)")
    ap.add_argument("--sweeps", nargs="*", help="only these sweeps (names)")
    ap.add_argument("--notebook-repeats", type=int, default=3)
    ap.add_argument("--panel-updates", type=int, default=20)
    ap.add_argument("--throughput-repeats", type=int, default=3)
    ap.add_argument("--skip-loop", action="store_true", help="no train_classifier-vs-bare-loop row")
    ap.add_argument("--loop-repeats", type=int, default=7)
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: 1 repeat, 5 updates, short training, no sweeps")
    ap.add_argument("--out", default=str(RESULTS), help="folder for latest.md / latest.json")
    ap.add_argument("--no-readme", action="store_true", help="do not update docs/benchmarks.md")
    a = ap.parse_args(argv)
    if a.quick:
        a.notebook_repeats, a.panel_updates, a.throughput_repeats, a.skip_sweeps = 1, 5, 1, True
        a.loop_repeats = 3  # the loop row keeps its full update counts: too few updates measure set-up

    os.environ.pop("MPLBACKEND", None)  # the notebooks' kernels inherit this process's environment
    import matplotlib

    matplotlib.use("Agg")
    from lecture_utils.plotting import use_style
    from lecture_utils.seeding import seed_everything

    use_style()
    seed_everything(0)
    res = {"machine": machine(), "settings": {"notebook_repeats": a.notebook_repeats,
                                              "panel_updates": a.panel_updates,
                                              "throughput_repeats": a.throughput_repeats, "quick": a.quick}}
    t_all = time.perf_counter()
    if not a.skip_notebooks:
        paths = a.notebooks or sorted(glob.glob(str(ROOT / "notebooks" / "*.ipynb")))
        log(f"notebooks ({len(paths)}, {a.notebook_repeats} runs each)")
        res["notebooks"] = bench_notebooks(paths, a.notebook_repeats)
    if not a.skip_panels:
        log(f"panels ({a.panel_updates} updates each)")
        res["panels"] = bench_panels(a.panel_updates)
    if not a.skip_throughput:
        log("training throughput")
        res["throughput"] = bench_throughput([1, 32, 1024], a.throughput_repeats,
                                             scale=0.2 if a.quick else 1.0)
    if not a.skip_loop:
        log("train_classifier against a bare torch loop")
        res["loop"] = bench_loop([1, 32, 1024], a.loop_repeats)
    if not a.skip_sweeps:
        from lecture_utils import sweeps

        names = a.sweeps or sweeps.names()
        log(f"sweeps ({len(names)})")
        res["sweeps"] = bench_sweeps(names)
    res["total_s"] = round(time.perf_counter() - t_all, 1)
    md = to_markdown(res)
    print(md)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.md").write_text(md + "\n")
    (out / "latest.json").write_text(json.dumps(res, indent=1) + "\n")
    if not a.no_readme and not a.quick:
        write_readme_section(md)
    log(f"wrote {out / 'latest.md'} and {out / 'latest.json'} ({res['total_s']:.0f} s)")
    over = [r.get("notebook") or r.get("panel") or r.get("sweep") or f"loop B={r.get('batch_size')}"
            for k in ("notebooks", "panels", "loop", "sweeps") for r in res.get(k) or [] if not r.get("ok")]
    print(f"\nover budget or failed: {', '.join(over)}" if over else "\nall within budget")
    return 0


if __name__ == "__main__":
    sys.exit(main())
