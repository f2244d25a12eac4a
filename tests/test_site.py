"""The static site (scripts/build_site.py, lecture_utils/site.py): the grid of positions each panel's controls
declare, a frame's caption = ``panel.update()`` at its grid point, the pages (prose, folded code, exercises
with closed solutions, live reruns as a note, math as MathML), and a rebuild that redraws only what changed.
The built site's budgets are checked by tests/site/ (make site-check); the browser walk over file:// by
tests/browser/test_site_pages.py."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path

import ipywidgets as w
import nbformat
import pytest
from course_files import load_script

from lecture_utils import widgets
from lecture_utils.site import draw_panel, run_cell

ROOT = Path(__file__).resolve().parent.parent




bs = load_script("build_site")


# -- the grid ------------------------------------------------------------------------------------------------
def test_every_position_of_each_kind_of_control():
    assert widgets.every_position(w.IntSlider(value=3, min=1, max=7, step=2)) == [1, 3, 5, 7]
    f = widgets.every_position(w.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.25))
    assert f == [0.0, 0.25, 0.5, 0.75, 1.0]
    # a log slider whose end is not a whole number of steps away: its end is a position, never passed
    lg = widgets.every_position(w.FloatLogSlider(value=0.1, base=10, min=-2, max=0.176, step=0.05))
    assert lg[0] == pytest.approx(0.01) and lg[-1] == pytest.approx(10 ** 0.176) and 0.1 in lg
    assert all(a < b for a, b in zip(lg, lg[1:])) and len(lg) == 45
    assert widgets.every_position(w.Checkbox(value=True)) == [False, True]
    sel = w.SelectionSlider(options=[("one", 1), ("eight", 8)], value=8)
    assert widgets.every_position(sel) == [1, 8] and widgets.position_label(sel, 8) == "eight"


def test_a_default_between_two_steps_is_a_position_itself():
    vals = widgets.every_position(w.FloatSlider(value=0.33, min=0.0, max=1.0, step=0.25))
    assert vals == [0.0, 0.25, 0.33, 0.5, 0.75, 1.0]


def test_one_slider_gets_every_position_up_to_100_then_100_with_ends_and_default():
    assert widgets.site_grid({"b": w.IntSlider(value=5, min=1, max=100)})["b"] == list(range(1, 101))
    g = widgets.site_grid({"b": w.IntSlider(value=77, min=1, max=400)})["b"]
    assert len(g) in (100, 101) and g[0] == 1 and g[-1] == 400 and 77 in g


def test_several_sliders_share_64_frames_with_defaults_and_toggles_kept():
    controls = {"beta": w.FloatSlider(value=0.9, min=0.0, max=0.99, step=0.01),
                "lr": w.FloatLogSlider(value=0.1, base=10, min=-3, max=0, step=0.05),
                "on": w.Checkbox(value=False)}
    g = widgets.site_grid(controls)
    n = len(g["beta"]) * len(g["lr"]) * len(g["on"])
    assert n <= 64 and g["on"] == [False, True]
    assert 0.9 in g["beta"] and 0.1 in g["lr"] and g["beta"][0] == 0.0 and g["beta"][-1] == 0.99
    assert len(g["beta"]) >= 3 and len(g["lr"]) >= 3


def test_a_declared_list_of_positions_is_kept():
    t = w.IntSlider(value=3, min=0, max=29)
    t.site_positions = [0, 3, 10, 29]
    g = widgets.site_grid({"t": t, "beta": w.FloatSlider(value=0.5, min=0, max=1, step=0.1)})
    assert g["t"] == [0, 3, 10, 29] and 0.5 in g["beta"]


# -- frames -----------------------------------------------------------------------------------------------
DEMO = "from lecture_utils.panels.overview import demo_panel\n\ndemo_panel()"


@pytest.fixture(scope="module")
def demo_frames(tmp_path_factory):
    out = tmp_path_factory.mktemp("frames")
    res = draw_panel({"lang": "en", "source": DEMO, "key": ("en", "00", 8, 0), "where": "test",
                      "out": str(out), "grid": {"max_single": 6}})
    return out, res["manifest"]


def test_a_frames_caption_is_what_update_returns_at_its_grid_point(demo_frames):
    from lecture_utils.panels.overview import demo_panel

    out, m = demo_frames
    (ctl,) = m["controls"]
    fresh = demo_panel()
    grid = widgets.site_grid(fresh.controls, max_single=6)["lr"]
    assert len(m["frames"]) == len(grid) == len(ctl["labels"]) and ctl["labels"][ctl["default"]] == "0.20"
    for i, lr in enumerate(grid):
        src, caption = m["frames"][str(i)]
        assert caption == fresh.update(lr=lr), lr
        assert (out / src).is_file()
    captions = {c for _, c in m["frames"].values()}
    assert len(captions) == len(grid), "two grid points said the same"


def test_frames_are_small_palette_pngs_at_the_site_scale(demo_frames):
    from PIL import Image

    out, m = demo_frames
    img = Image.open(out / m["frames"][m["default"]][0])
    assert img.mode == "P" and len(img.getcolors()) <= 64
    assert abs(img.size[0] - m["width"] * 1.25) <= 1 and abs(img.size[1] - m["height"] * 1.25) <= 1
    assert len(set(Image.open(out / src).tobytes() for src, _ in m["frames"].values())) == len(m["frames"])


def test_a_panel_that_does_not_say_what_the_notebook_stores_stops_the_build(tmp_path):
    with pytest.raises(RuntimeError, match="does not say what the notebook stores"):
        draw_panel({"lang": "en", "source": DEMO, "key": ("en", "00", 8, 0), "where": "test",
                    "out": str(tmp_path), "stored_caption": "[demo] something else",
                    "grid": {"max_single": 2}})


def test_a_cell_whose_value_is_not_a_panel_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="not a Panel"):
        draw_panel({"lang": "en", "source": "x = 1\nx + 1", "key": ("en", "00", 1, 0), "where": "test",
                    "out": str(tmp_path)})
    assert run_cell("a = 2\na * 3") == 6 and run_cell("a = 2") is None


def test_chinese_frames_speak_chinese(tmp_path):
    res = draw_panel({"lang": "zh", "source": DEMO, "key": ("zh", "00", 8, 0), "where": "test",
                      "out": str(tmp_path), "grid": {"max_single": 2}})
    m = res["manifest"]
    assert re.search(r"[\u4e00-\u9fff]", m["controls"][0]["label"])
    assert all(re.search(r"[\u4e00-\u9fff]", c) for _, c in m["frames"].values())


# -- pages --------------------------------------------------------------------------------------------------
def _nb(cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    return nb


def test_markdown_math_becomes_mathml_and_solutions_stay_closed():
    out = bs.markdown_html("Update $\\theta \\leftarrow \\theta - \\eta g$.\n\n$$m = \\beta m - \\eta g$$\n\n"
                           "<details>\n<summary><b>Solution</b></summary>\n\n"
                           "```python\nx = 1\n```\n</details>\n")
    assert out.count("<math") == 2 and 'display="block"' in out and "$" not in out
    assert "<details>" in out and "<details open" not in out and "<pre><code" in out


def test_a_page_folds_code_opens_exercises_and_notes_live_reruns(tmp_path):
    exercise = nbformat.v4.new_code_cell("answer = ...   # YOUR CODE HERE", metadata={"tags": ["exercise"]})
    live = nbformat.v4.new_code_cell("live_button(f)")
    live.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
        "text/plain": "Button(description='Run')"})]
    printed = nbformat.v4.new_code_cell("print(1)")
    printed.outputs = [nbformat.v4.new_output("stream", name="stdout", text="θ = 1 < 2\n")]
    nb = _nb([nbformat.v4.new_markdown_cell("# Title\n\nText."), printed, exercise, live])
    page = bs.page_html("en", ROOT / "notebooks" / "00_overview.ipynb", nb, {}, tmp_path)
    assert '<details class="code" id="cell-1"><summary>code</summary>' in page
    assert '<details class="code exercise" open id="cell-2">' in page
    assert "θ = 1 &lt; 2" in page and "make lab" in page and "Button(" not in page
    assert 'href="../zh/00_overview.html"' in page and "<title>Title · " in page


def test_a_viewer_has_its_controls_its_default_frame_and_its_manifest(demo_frames):
    _, m = demo_frames
    page = bs.viewer_html(m, "00_overview/c8-0/")
    assert page.count('type="range"') == 1 and f'value="{m["default"]}"' in page
    assert f'src="00_overview/c8-0/{m["frames"][m["default"]][0]}"' in page
    raw = re.search(r'class="manifest">(.*?)</script>', page, re.S).group(1)
    data = json.loads(raw.replace("<\\/", "</"))
    assert data["frames"] == m["frames"] and data["base"] == "00_overview/c8-0/"


def _panel_cell(source):
    """A code cell as the notebook stores a panel: a widget view with the picture and the caption."""
    from lecture_utils.panels.overview import demo_panel

    p = demo_panel()
    cell = nbformat.v4.new_code_cell(source)
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
        "image/png": "iVBORw0KGgo=", "text/plain": f"[{p.title}] {p.caption_text()}"})]
    return cell


def test_a_rebuild_redraws_only_the_panel_that_changed(tmp_path, monkeypatch):
    src = tmp_path / "nb"
    (src / "zh").mkdir(parents=True)
    for name in ("00_a.ipynb", "01_b.ipynb"):
        nbformat.write(_nb([nbformat.v4.new_markdown_cell(f"# {name}\n\n$x^2$"), _panel_cell(DEMO)]),
                       src / name)
    monkeypatch.setattr(bs, "SITE", tmp_path / "site")
    monkeypatch.setattr(bs, "LANGS", {"en": src, "zh": src / "zh"})
    monkeypatch.setattr(bs, "SITE_GRID", {"max_single": 2})
    quiet = {"jobs": 1, "log": lambda *a: None}
    first = bs.build(**quiet)
    assert first["drawn"] == ["en/00_a cell 1", "en/01_b cell 1"] and first["reused"] == 0
    assert first["pages"] == 2 and first["frames"] == 6   # two ends and the default, twice
    again = bs.build(**quiet)
    assert again["drawn"] == [] and again["reused"] == 2
    nb = nbformat.read(src / "01_b.ipynb", as_version=4)
    nb.cells[0].source += " changed"              # prose only: the page changes, no frame is drawn
    nbformat.write(nb, src / "01_b.ipynb")
    third = bs.build(**quiet)
    assert third["drawn"] == [] and "changed" in (tmp_path / "site" / "en" / "01_b.html").read_text()
    nb.cells[1] = _panel_cell("# a comment\n" + DEMO)   # the panel's cell: that panel alone is drawn again
    nbformat.write(nb, src / "01_b.ipynb")
    fourth = bs.build(**quiet)
    assert fourth["drawn"] == ["en/01_b cell 1"] and fourth["reused"] == 1
    frames = sorted(d.name for d in (tmp_path / "site" / "en" / "01_b").iterdir() if d.is_dir())
    assert len(frames) == 1, f"the old panel's frames were not removed: {frames}"
    index = (tmp_path / "site" / "index.html").read_text()
    assert 'href="en/00_a.html"' in index and 'href="en/01_b.html"' in index


def test_quantized_frames_keep_the_picture(demo_frames):
    """The 64-colour frame differs from the panel's own picture (drawn at the same scale) by little."""
    import matplotlib
    import numpy as np
    from PIL import Image

    from lecture_utils.panels.overview import demo_panel
    from lecture_utils.plotting import use_style

    out, m = demo_frames
    with matplotlib.rc_context():
        use_style()                      # as the notebook (and the site's worker) does
        p = demo_panel()
        p.set_scale(1.25)
        p.update()
    own = np.asarray(Image.open(io.BytesIO(p.png())).convert("RGB"), dtype=float)
    frame = np.asarray(Image.open(out / m["frames"][m["default"]][0]).convert("RGB"), dtype=float)
    assert own.shape == frame.shape and np.abs(own - frame).mean() < 3.0


def test_the_vector_addition_panel_walks_its_steps_on_the_site():
    """Its step slider is the panel's point (the movement added step by step): the site keeps 10 of the 30
    steps (every 4th, the last and the default) with β at its ends and default, within 64 frames."""
    from lecture_utils.panels.momentum import vector_addition_panel

    p = vector_addition_panel()
    g = widgets.site_grid(p.controls)
    assert len(g["t"]) == 10 and g["t"][-1] == 30 and p.controls["t"].value in g["t"]
    assert g["beta"] == [0.0, p.controls["beta"].value, 0.95] and g["nesterov"] == [False, True]
    assert len(g["t"]) * len(g["beta"]) * len(g["nesterov"]) <= 64
