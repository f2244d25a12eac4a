"""Write teaching/cheat_sheet.html: the course on one A4 page (formulas, a worked example for each, and the
six key measured results).

Every number on the page is computed here: the worked examples by the course's own functions
(lecture_utils.data, .noise, .scaling), the measured results by lecture_utils.scorecard from the caches
under data/. The page is self-contained (no fonts, scripts or images from outside) and prints on one A4
page (tests/test_cheat_sheet.py prints it with Chromium and counts the pages).

    python scripts/build_cheat_sheet.py            # write teaching/cheat_sheet.html
    python scripts/build_cheat_sheet.py --check    # exit 1 if the committed page is stale
"""
from __future__ import annotations

import argparse
import html
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "teaching" / "cheat_sheet.html"

CSS = """
@page { size: A4; margin: 12mm }
* { box-sizing: border-box }
body { font-family: "DejaVu Sans", "Noto Sans", Arial, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei",
       sans-serif; font-size: 9.6pt; line-height: 1.32;
       color: #111; margin: 0 auto; max-width: 186mm }
h1 { font-size: 15pt; margin: 0 0 1mm }
h2 { font-size: 11pt; margin: 3mm 0 1mm; border-bottom: 1px solid #999 }
p.sub { margin: 0 0 2mm; color: #333 }
table { border-collapse: collapse; width: 100% }
td, th { border: 1px solid #bbb; padding: 1.1mm 1.6mm; vertical-align: top; text-align: left }
th { background: #eee } td.f { white-space: nowrap; font-weight: bold; width: 30% }
ol { margin: 0; padding-left: 6mm } li { margin: 0.6mm 0 }
.foot { margin-top: 2mm; font-size: 8pt; color: #333 }
"""


def examples():
    """(name, formula, what it means, worked example) rows; every number of the examples is computed."""
    from lecture_utils import scorecard
    from lecture_utils.data import N_TRAIN, updates_per_epoch
    from lecture_utils.noise import finite_population_factor
    from lecture_utils.scaling import scaled_lr

    n, b = N_TRAIN, 32
    c = finite_population_factor(n, b)
    have = scorecard.have_both()
    gen = scorecard.generalization()
    lam = gen["lam"][gen["lb"]].mean
    beta, lr = 0.9, 0.1
    b_big = 512
    return [
        ("Updates per epoch (轮)", "⌈N/B⌉",
         "one epoch = every example once, in batches of B (the last batch may be smaller)",
         f"N = {n}, B = {b} → {updates_per_epoch(n, b)} updates; B = 300 → {updates_per_epoch(n, 300)}; "
         f"B = N → {updates_per_epoch(n, n)}"),
        ("Noise of a batch gradient", "Var(g_B) = (N−B)/(B(N−1))·σ²",
         "σ²: the variance of one example's gradient; batches drawn without replacement",
         f"N = {n}, B = {b}: factor {c:.5f} (1/B = {1 / b:.5f}); B = N → "
         f"{finite_population_factor(n, n):g}: the full batch has no noise"),
        ("Linear scaling + warm-up", "η ∝ B up to B_crit",
         "double B, double η; start η small for the first updates (warm-up); beyond B_crit more B buys "
         "few updates",
         f"η₀ = {lr:g} at B₀ = {b}: B = {b_big} → η = {scaled_lr(b_big, base_lr=lr, base_batch_size=b):g}; "
         f"measured B_crit ≈ {have['b_crit'].mean:.0f} ± {have['b_crit'].half:.0f} (MNIST-1D MLP)"),
        ("Momentum (动量)", "m ← βm − ηg,  θ ← θ + m",
         "the lecture's λ is β; m is the movement, a weighted sum of all past gradients",
         f"β = {beta:g}, η = {lr:g}: m after 3 equal gradients g = 1: "
         f"{_signed(_momentum_after(3, beta, lr))} (plain GD: {_signed(-3 * lr)} in total)"),
        ("Effective step", "η/(1−β)",
         "on a long, constant slope momentum moves 1/(1−β) times as far as plain GD with the same η",
         f"β = {beta:g} → ×{1 / (1 - beta):.0f}; β = 0.99 → ×{1 / (1 - 0.99):.0f}"),
        ("Stability limit", "η < 2/λ_max",
         "λ_max: the largest eigenvalue of the Hessian (the sharpest direction); above it GD overshoots",
         f"λ_max = {lam:.1f} (B = {gen['lb']}, measured) → η < {2 / lam:.2f}; "
         f"at η = {lr:g} the valley may be as sharp as λ_max = {2 / lr:.0f}"),
    ]


def _signed(x, spec=".3f"):
    return f"{x:+{spec}}".replace("-", "−")


def _momentum_after(steps, beta, lr):
    m = 0.0
    for _ in range(steps):
        m = beta * m - lr * 1.0
    return m


def build():
    """The page as a string (deterministic: no dates, no machine names)."""
    from lecture_utils import scorecard

    rows = scorecard.rows()
    e = html.escape
    formula_rows = "\n".join(
        f"<tr><td class=f>{e(name)}<br>{e(f)}</td><td>{e(what)}<br><i>Example:</i> {e(ex)}</td></tr>"
        for name, f, what, ex in examples())
    results = "\n".join(f"<li>{e(line)}</li>" for line in scorecard.key_results(rows))
    verdicts = "\n".join(f"<tr><td>{e(scorecard.CLAIMS[r['key']])}</td><td><b>{e(r['verdict'])}</b>"
                         f"{(': ' + e(r['condition'])) if r['condition'] else ''}</td></tr>" for r in rows)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Mini-batches and momentum — cheat sheet</title>
<style>{CSS}</style></head>
<body>
<h1>Mini-batches and momentum (批次与动量) — cheat sheet</h1>
<p class=sub>The lecture <i>Batch and Momentum</i> (Hung-yi Lee, ML 2021) on one page. Every number below is
computed by <code>scripts/build_cheat_sheet.py</code> from the course's code and cached experiments.</p>
<h2>Formulas, each with a worked example</h2>
<table>
{formula_rows}
</table>
<h2>Six measured results (MLP on MNIST-1D unless said; mean ± 95 % t-interval over seeds)</h2>
<ol>
{results}
</ol>
<h2>The lecture's claims: verdicts (notebook 06)</h2>
<table>
<tr><th>claim</th><th>verdict here</th></tr>
{verdicts}
</table>
<p class=foot>Batch 1 = 连续平A (quick, noisy steps); full batch = 大招 (one strong step per epoch);
鱼与熊掌兼得 = having both. Notebooks 01–05: the experiments; 06: the scorecard; teaching/: the plan.</p>
</body></html>
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if teaching/cheat_sheet.html is stale")
    a = ap.parse_args(argv)
    page = build()
    if a.check:
        current = OUT.read_text(encoding="utf-8") if OUT.is_file() else ""
        if current != page:
            print(f"{OUT.relative_to(ROOT)} is stale: run python scripts/build_cheat_sheet.py")
            return 1
        print(f"{OUT.relative_to(ROOT)} is current")
        return 0
    OUT.write_text(page, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
