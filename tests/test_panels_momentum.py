"""Notebook 05's panels: numbers behind the captions, divergence messages, redraw time; the checks."""
import re

import numpy as np
import pytest

from lecture_utils import checks
from lecture_utils import quadratic as quad
from lecture_utils.landscapes import LOCAL_GLOBAL, SADDLE
from lecture_utils.optim import momentum_path, momentum_trace
from lecture_utils.panels import momentum as P
from lecture_utils.plotting import use_style

# Speed is measured by the benchmark (make bench: 30 ms per toy slider move), not here: a timed unit test
# fails on a busy machine (it did at load average 18).


@pytest.fixture(scope="module", autouse=True)
def _style():
    use_style()


def _moves_redraw(panel, moves):
    """Every move changes the picture (the slider redraws), whatever the machine's load."""
    for mv in moves:
        before = panel.png()
        panel.update(**mv)
        assert panel.png() != before, mv
    return True


def test_vector_addition_panel_arrows_are_the_rule():
    p = P.vector_addition_panel(beta=0.8, t=5)
    tr = momentum_trace(P.VALLEY.grad, P.VALLEY_THETA0, lr=0.4, beta=0.8, steps=30)
    prev, grad, new = tr.arrows(5)
    assert f"m⁵ = {P._vector_text(new)}" in p.caption_text()
    assert f"β·m⁴ = {P._vector_text(prev)}" in p.caption_text()
    cap = p.update(beta=0.0, t=3)
    assert "β·m² = (+0.00, +0.00)" in cap or "β·m² = (-0.00" in cap or "β·m² = (+0.00, -0.00)" in cap
    p.update(beta=0.5, t=12)
    assert _moves_redraw(p, [dict(t=k) for k in range(2, 9)])
    assert len(p.png()) > 1000 and p.png()[:4] == b"\x89PNG"


def test_weights_panel_numbers():
    p = P.weights_panel(beta=0.9)
    cap = p.caption_text()
    assert "the one 10 steps ago 0.35" in cap                       # 0.9**10 = 0.349
    assert f"add up to {sum(0.9 ** k for k in range(40)):.2f}" in cap
    assert "1/(1−β) = 10" in cap
    cap = p.update(beta=0.5)
    assert "add up to 2.00" in cap and "1/(1−β) = 2" in cap
    cap = p.update(beta=0.0)
    assert "add up to 1.00" in cap
    assert _moves_redraw(p, [dict(beta=b) for b in (0.2, 0.4, 0.6, 0.8, 0.95)])


def test_local_minimum_panel_opens_without_the_answer_to_the_prediction():
    """The stored picture sits below Exercise 2 (where does the ball stop for β = 0, 0.3, 0.6, 0.9?): it opens
    at β = 0 with the scan over every β hidden, and its caption names no threshold."""
    p = P.local_minimum_panel()
    cap = p.caption_text()
    assert "β = 0.00" in cap and "smallest" not in cap and "global" not in cap
    assert "smallest 0.41" in p.update(show_all=True)


def test_beta_sliders_move_in_steps_a_learner_can_use():
    for panel in (P.vector_addition_panel(), P.weights_panel(), P.local_minimum_panel(), P.saddle_panel()):
        assert panel.controls["beta"].step == P.BETA_STEP == 0.05
    assert P.quadratic_panel().controls["beta"].step == 0.01   # its optimum β* = 0.67 needs the fine grid


def test_local_minimum_panel_gd_stays_momentum_rolls_through():
    p = P.local_minimum_panel(beta=0.5, lr=0.1, show_all=True)
    cap = p.caption_text()
    assert f"gradient descent rests at θ = {LOCAL_GLOBAL.local_min:.2f} (the local minimum)" in cap
    assert "momentum rests at θ = 0.00 (the global minimum)" in cap
    # the β-scan in the caption agrees with single runs
    m = re.search(r"(\d+) of the 100 values .* \(the smallest ([0-9.]+)\)", cap)
    assert m
    smallest = float(m.group(2))
    assert checks.where_ball_stops(0.1, smallest) == "global"
    assert checks.where_ball_stops(0.1, round(smallest - 0.01, 2)) == "local"
    cap = p.update(beta=0.2)
    assert "momentum rests at θ = 2.86 (the local minimum)" in cap
    assert _moves_redraw(p, [dict(beta=b) for b in (0.3, 0.35, 0.6, 0.7, 0.9)])


def test_final_positions_vectorised_equals_single_runs():
    betas = np.array([0.0, 0.3, 0.45, 0.6, 0.9])
    finals, _ = P.final_positions(0.1, betas)
    for b, f in zip(betas, finals):
        ref = momentum_path(LOCAL_GLOBAL.grad, [P.LOCAL_THETA0], lr=0.1, beta=b, steps=P.LOCAL_STEPS)[-1, 0]
        assert f == pytest.approx(ref, abs=1e-9)


def test_saddle_panel_momentum_leaves_sooner():
    p = P.saddle_panel(beta=0.9, lr=0.1)
    gd = momentum_path(SADDLE.grad, P.SADDLE_THETA0, lr=0.1, beta=0.0, steps=150)
    mo = momentum_path(SADDLE.grad, P.SADDLE_THETA0, lr=0.1, beta=0.9, steps=150)
    t_gd, t_mo = P.steps_to_leave(gd), P.steps_to_leave(mo)
    # GD: |θ₂| grows by (1 + η) per step near the saddle: 1e-3·1.1^t > 0.5 needs t ≈ ln(500)/ln(1.1) ≈ 65
    assert 60 <= t_gd <= 75
    assert t_mo < t_gd / 2
    assert (f"Gradient descent leaves the saddle (|θ₂| > 0.5) after {t_gd} steps, momentum after {t_mo} steps"
            in p.caption_text())
    assert _moves_redraw(p, [dict(beta=b) for b in (0.5, 0.6, 0.7, 0.8)])


def test_saddle_panel_reports_divergence_on_the_figure():
    p = P.saddle_panel(beta=0.9, lr=0.1)
    cap = p.update(lr=1.2)
    assert "diverge" in cap
    msgs = [a for a in p._dynamic if hasattr(a, "get_text") and a.get_visible() and "diverge" in a.get_text()]
    assert msgs, "the divergence message is not shown on the figure"
    p.update(lr=0.1)
    assert not any(hasattr(a, "get_text") and a.get_visible() and "diverge" in a.get_text()
                   for a in p._dynamic)


def test_quadratic_panel_rates_and_divergence():
    p = P.quadratic_panel(alpha=3.3, beta=0.67)
    lam = np.array([0.01, 1.0])
    th = quad.theoretical_rate(3.3, 0.67, lam)
    assert f"theoretical rate max(|σ₁|, |σ₂|) = {th:.3f}" in p.caption_text()
    m = re.search(r"measured ([0-9.]+)", p.caption_text())
    assert float(m.group(1)) == pytest.approx(th, rel=0.03)
    assert "Optimum α* = 3.31, β* = 0.67, rate 0.818" in p.caption_text()
    cap = p.update(alpha=1.98, beta=0.0)
    assert "theoretical rate max(|σ₁|, |σ₂|) = 0.980, measured 0.980" in cap
    cap = p.update(alpha=3.9, beta=0.2)
    assert "outside the stable region" in cap and "2 + 2β = 2.40" in cap
    assert any(getattr(a, "get_text", lambda: "")() == "diverges" and a.get_visible() for a in p._dynamic)
    assert _moves_redraw(p, [dict(alpha=a) for a in (0.5, 1.0, 1.5, 2.0, 2.5)])


def test_panel_rejects_unknown_controls():
    p = P.weights_panel()
    with pytest.raises(ValueError, match="unknown control"):
        p.update(gamma=0.3)


def _pixels(png):
    import io

    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=int)


def test_panel_png_changes_with_the_slider_and_matches_a_full_redraw():
    import io

    from PIL import Image
    p = P.weights_panel(beta=0.9)
    a = p.png()
    p.update(beta=0.3)
    assert p.png() != a
    # through the widget, as in JupyterLab: the picture shown changes too
    _ = p.widget
    shown = bytes(p._image.value)
    p.set(beta=0.6)
    assert bytes(p._image.value) != shown and bytes(p._image.value) == p.png()
    # the blitted picture equals a full draw of the same figure (a few anti-aliased pixels may differ)
    for art in p._dynamic:
        art.set_animated(False)
    buf = io.BytesIO()
    p.fig.savefig(buf, format="png", dpi=p.fig.dpi)
    full = np.asarray(Image.open(buf).convert("RGB"), dtype=int)
    blit = _pixels(p.png())
    assert full.shape == blit.shape
    assert np.mean(np.any(full != blit, axis=2)) < 0.01


# ----------------------------------------------------------------------------- exercise checks
def _solution_step(theta, m, g, lr, beta):
    m = beta * m - lr * g
    return theta + m, m


def test_check_mystery_beta_accepts_the_right_beta_and_names_each_slip(capsys):
    th = checks.mystery_path()
    assert np.allclose(th, [1.0, 0.9, 0.74])
    m1, m2 = th[1] - th[0], th[2] - th[1]
    assert checks.check_mystery_beta((m2 + 0.1 * th[1]) / m1) is True
    assert checks.check_mystery_beta(0.7) is True
    assert checks.check_mystery_beta(None) is None
    slips = {m2 / m1: "ratio of two movements",           # forgot the gradient step inside m²
             th[2] / th[1]: "ratio of positions",          # divided positions, not movements
             (m2 + 0.1 * th[2]) / m1: "not at θ²",         # gradient at the end of the step
             (m2 - 0.1 * th[1]) / m1: "sign of the gradient step",
             0.0: "gradient descent",
             1.2: "between 0 and 1",
             0.5: "does not reproduce"}
    for value, hint in slips.items():
        capsys.readouterr()
        assert checks.check_mystery_beta(value) is False
        out = capsys.readouterr().out
        assert out.startswith("×") and hint in out and not re.search(r"0\.7(?!\d)", out), (value, out)
    assert checks.check_mystery_beta("0.7") is False


def test_check_momentum_step(capsys):
    assert checks.check_momentum_step(_solution_step) is True
    assert checks.check_momentum_step(lambda *a: None) is None
    assert "not done yet" in capsys.readouterr().out

    def stub(*a):
        raise NotImplementedError

    assert checks.check_momentum_step(stub) is None
    assert checks.check_momentum_step(lambda th, m, g, lr, b: (th - lr * (b * m + g), b * m + g)) is False
    assert "PyTorch" in capsys.readouterr().out
    assert checks.check_momentum_step(lambda th, m, g, lr, b: 1 / 0) is False


def test_check_stop_prediction(capsys):
    truth = {b: checks.where_ball_stops(0.1, b) for b in (0.0, 0.3, 0.6, 0.9)}
    assert truth == {0.0: "local", 0.3: "local", 0.6: "global", 0.9: "global"}
    assert checks.check_stop_prediction(truth) is True
    assert checks.check_stop_prediction({0.0: None}) is None
    assert checks.check_stop_prediction({0.0: "global"}) is False
    assert checks.check_stop_prediction({0.0: "left"}) is False


def test_check_ema_alpha(capsys):
    assert checks.check_ema_alpha(0.1) is True
    assert checks.check_ema_alpha(None) is None
    assert checks.check_ema_alpha(0.001) is False
    assert "other way round" in capsys.readouterr().out


def test_check_torch_lr_tells_right_from_the_common_wrong_answers(capsys):
    assert checks.check_torch_lr(0.01) is True
    assert "agree" in capsys.readouterr().out
    assert checks.check_torch_lr(None) is None
    capsys.readouterr()
    for wrong in (0.1, 1.0, 0.09, 0.001):  # α itself, α/(1−β), α·β, too small
        assert checks.check_torch_lr(wrong) is False
        out = capsys.readouterr().out
        assert out.startswith("×") and "0.01" not in out  # the message does not give the answer away
    assert checks.check_torch_lr("0.01") is False
    assert checks.check_torch_lr(float("nan")) is False


def test_check_stop_prediction_points_to_the_panel_below(capsys):
    checks.check_stop_prediction({0.0: "global", 0.3: "local", 0.6: "global", 0.9: "global"})
    out = capsys.readouterr().out
    assert "panel below" in out and "panel above" not in out


def test_quadratic_panel_window_holds_the_default_path_and_notes_a_path_that_leaves_it():
    p = P.quadratic_panel()
    ax = p.fig.axes[0]
    line = next(a for a in p._dynamic if hasattr(a, "get_xdata") and len(a.get_xdata()) == 301)
    xs, ys = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= xs.min() and xs.max() <= x1 and y0 <= ys.min() and ys.max() <= y1
    notes = [a for a in p._dynamic if hasattr(a, "get_text") and "leaves this window" in a.get_text()]
    assert not any(a.get_visible() for a in notes)
    p.update(alpha=3.9, beta=0.96)
    notes = [a for a in p._dynamic if hasattr(a, "get_text") and "leaves this window" in a.get_text()]
    assert notes and notes[0].get_visible() and "|θ₂| up to" in notes[0].get_text()
    # the legend of the error plot sits in its upper right corner, above the curves: every point of the
    # default's curves and of the best gradient descent's (the slowest of the marked points) lies outside it
    for alpha, beta in ((3.3, 0.67), (1.98, 0.0)):
        p = P.quadratic_panel(alpha=alpha, beta=beta)
        ax2 = p.fig.axes[1]
        legend = ax2.get_legend()
        assert legend._loc == 1  # upper right
        p.fig.canvas.draw()
        _outside_legend(ax2, legend.get_window_extent())


def _outside_legend(ax2, box):
    for line in ax2.get_lines():
        pts = ax2.transData.transform(np.c_[line.get_xdata(), line.get_ydata()])
        pts = pts[np.all(np.isfinite(pts), axis=1)]
        if len(pts):
            inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1)
                      & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1))
            assert not inside.any(), line.get_label()


def test_mnist_figures_draw_unreached_runs_as_open_markers_not_data():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lecture_utils import sweeps

    record = sweeps.load("momentum_mnist")
    cap = record["params"]["max_steps"]
    fig = P.plot_small_batches(record)
    try:
        for ax in fig.axes:
            for ln in ax.lines:
                y = np.asarray(ln.get_ydata(), float)
                if ln.get_linestyle() == "-" and len(y) > 1:  # a joined data line never touches the budget
                    assert not np.any(y == cap)
            tri = [ln for ln in ax.lines if ln.get_marker() == "^"]
            assert tri and all(ln.get_markerfacecolor() == "none" for ln in tri)
    finally:
        plt.close(fig)
    fig = P.plot_sweep(record)
    try:
        heights = [b.get_height() for b in fig.axes[0].patches]
        assert cap not in heights  # the unreached β = 0.99 (fixed η) has no bar at the budget
        assert any(ln.get_marker() == "^" for ln in fig.axes[0].lines)
    finally:
        plt.close(fig)


def test_every_rerun_cell_of_notebook_05_redraws_from_what_it_computed():
    """RERUN = True must recompute *and* draw the recomputed record (issue 12: it once showed the old
    figure): the cell that sets RERUN loads with rerun=RERUN and plots that record in the same cell."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parent.parent / "notebooks" / "05_momentum.ipynb").read_text())
    cells = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    rerun_cells = [s for s in cells if "RERUN =" in s]
    assert len(rerun_cells) == 3        # sections 7, 8 and the deep dive "Momentum × batch size"
    for src in rerun_cells:
        m = re.search(r"^(\w+) = sweeps\.load\(\"(\w+)\", rerun=RERUN\)", src, re.M)
        assert m, src
        assert re.search(rf"plot_\w+\({m.group(1)}\)", src) and "plt.show()" in src
    # and no other cell recomputes a sweep behind the figures' back
    assert sum("rerun=" in s for s in cells) == 3


def test_local_minimum_panel_with_fewer_steps_than_the_middle_plot_shows():
    """steps = 10 (its declared lower end) once crashed: the middle plot drew 150 steps of an 11-step path."""
    p = P.local_minimum_panel(steps=10)
    assert "after 10 steps" in p.caption_text()
    assert "after 10 steps" in p.update(beta=0.9, lr=1.0)


def test_local_minimum_panel_returns_to_an_eta_with_the_same_picture():
    """What an η computed is kept (β scan, gradient descent): going back to it redraws the same picture."""
    p = P.local_minimum_panel()
    first = p.update(beta=0.7, lr=0.3), p.png()
    p.update(beta=0.2, lr=0.05)
    p.update(beta=0.2, lr=1.0)
    assert (p.update(beta=0.7, lr=0.3), p.png()) == first


def test_vector_addition_panel_nesterov_takes_the_gradient_at_the_lookahead_point():
    p = P.vector_addition_panel(beta=0.8, t=4, nesterov=True)
    tr = momentum_trace(P.VALLEY.grad, P.VALLEY_THETA0, lr=0.4, beta=0.8, steps=30, nesterov=True)
    prev, grad, new = tr.arrows(4)
    look = tr.theta[3] + prev
    cap = p.caption_text()
    assert "Nesterov" in cap and f"θ³ + β·m³ = {P._vector_text(look)}" in cap
    np.testing.assert_allclose(grad, -0.4 * P.VALLEY.grad(look), atol=1e-15)   # −η·∇L(θ + β·m)
    assert f"m⁴ = {P._vector_text(new)}" in cap
    # the caption compares with the lecture's momentum and gradient descent after the same steps
    heavy = momentum_path(P.VALLEY.grad, P.VALLEY_THETA0, lr=0.4, beta=0.8, steps=30)
    assert f"the lecture's momentum after 4 steps: {np.linalg.norm(heavy[4]):.2f}" in cap
    assert "Nesterov" not in p.update(nesterov=False)
    assert _moves_redraw(p, [dict(nesterov=True), dict(nesterov=False)])


def test_nqm_panel_reads_its_numbers_from_the_table():
    from lecture_utils import nqm

    table = nqm.steps_table()
    p = P.nqm_panel(table=table)
    s0, e0 = table.best(0.0)
    s9, e9 = table.best(0.9)
    k = list(table.batch_sizes).index(64)
    cap = p.caption_text()
    assert f"SGD {s0[k]:.0f} updates" in cap and f"momentum {s9[k]:.0f} updates" in cap
    assert f"best η/(1−β) = {e9[k]:.3g}, η = {e9[k] * 0.1:.3g}" in cap
    big = p.update(batch_size=4096, beta=0.8)
    assert "the curvature limits the step" in big and "fewer" in big
    small = p.update(batch_size=2, beta=0.9)
    assert "the noise, not the curvature, limits the step" in small and "about the same" in small
    assert _moves_redraw(p, [dict(batch_size=8), dict(beta=0.5), dict(batch_size=1024)])
    with pytest.raises(ValueError, match="batch_size"):
        p.update(batch_size=100)
    with pytest.raises(ValueError, match="beta"):
        P.nqm_panel(beta=0.0, table=table)
