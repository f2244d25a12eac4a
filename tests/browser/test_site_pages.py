"""The static site (make site) in Chromium, opened from disk (file://), as a student with only a browser
would: on every page, every control of every panel is moved from the keyboard (arrow keys on a focused
slider, Space on a checkbox); each move shows another frame — the picture drawn changes (screenshots
differ) and is not blank — and the caption changes with it. No console error, no request outside site/.
The frame swap is measured from the input event to the new picture's load (reported; the median must be
within 100 ms: a busy machine may make a few moves slow, a site that loads frames from far away makes them all
slow). On the
Chinese pages every Chinese character of the navigation, the title and the first paragraph is drawn with the
course font (DevTools' platform fonts), not as a box. The site is built first when it is missing or stale
(scripts/build_site.py, incremental)."""
from __future__ import annotations

import io
import json
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "site"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def site():
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_site.py")], check=True, cwd=ROOT)
    return SITE


def _pages():
    return sorted((SITE).glob("*/*.html"))


def _distinct_colours(png):
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    return len(img.getcolors(maxcolors=1 << 20) or [])


MOVE_JS = """async ([v, j]) => {
  const fig = document.querySelectorAll('figure.viewer')[v];
  const el = fig.querySelectorAll('[data-control]')[j];
  return {key: fig.dataset.shown, max: el.max ? +el.max : 1,
          value: el.type === 'checkbox' ? +el.checked : +el.value, kind: el.type};
}"""

SHOWN_JS = """([v, want]) => { const fig = document.querySelectorAll('figure.viewer')[v];
  const img = fig.querySelector('img.frame');
  return fig.dataset.shown === want && img.complete && img.naturalWidth > 0; }"""


def test_every_slider_on_every_page_moves_its_picture(site, browser):
    pages = _pages()
    assert len(pages) >= 14, f"site/ has {len(pages)} pages"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(60_000)
    prefix = site.resolve().as_uri() + "/"
    outside, errors, problems, ms, moves = [], [], [], [], 0
    try:
        for path in pages:
            page = context.new_page()
            page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(prefix) else None)
            page.on("console",
                    lambda m, p=path: errors.append(f"{p.name}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e, p=path: errors.append(f"{p.name}: {e}"))
            page.goto(path.resolve().as_uri())
            n = page.locator("figure.viewer").count()
            page.wait_for_function(f"document.querySelectorAll('figure.viewer[data-ready]').length === {n}")
            for v in range(n):
                fig = page.locator("figure.viewer").nth(v)
                img = fig.locator("img.frame")
                controls = fig.locator("[data-control]")
                for j in range(controls.count()):
                    el = controls.nth(j)
                    st = page.evaluate(MOVE_JS, [v, j])
                    before_shot = img.screenshot()
                    before_caption = fig.locator(".caption").inner_text()
                    before_src = img.get_attribute("src")
                    el.focus()
                    if st["kind"] == "checkbox":
                        page.keyboard.press("Space")
                    else:
                        page.keyboard.press("ArrowRight" if st["value"] < st["max"] else "ArrowLeft")
                    keys = fig.get_attribute("data-pending")
                    page.wait_for_function(SHOWN_JS, arg=[v, keys])
                    moves += 1
                    ms.append(float(fig.get_attribute("data-ms")))
                    after_shot = img.screenshot()
                    where = f"{path.parent.name}/{path.name} panel {v} control {j}"
                    if img.get_attribute("src") == before_src or after_shot == before_shot:
                        problems.append(f"{where}: the picture did not change")
                    if _distinct_colours(after_shot) < 8:
                        problems.append(f"{where}: the picture is blank")
                    if fig.locator(".caption").inner_text() == before_caption:
                        problems.append(f"{where}: the caption did not change")
            page.close()
    finally:
        context.close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {"pages": len(pages), "moves": moves, "swap_ms_median": statistics.median(ms) if ms else None,
              "swap_ms_max": max(ms) if ms else None}
    (ARTIFACTS / "site_swaps.json").write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nsite: {report}")
    assert moves > 40, f"only {moves} controls moved"
    assert not outside, f"requests outside site/: {sorted(set(outside))[:10]}"
    assert not errors, "console errors:\n" + "\n".join(errors[:20])
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)
    assert report["swap_ms_median"] <= 100, report


def test_chinese_pages_draw_chinese_with_the_course_font(site, browser):
    page = browser.new_page()
    try:
        for path in sorted((site / "zh").glob("*.html"))[:3]:
            page.goto(path.resolve().as_uri())
            page.evaluate("async () => { await document.fonts.ready; }")
            cdp = page.context.new_cdp_session(page)
            cdp.send("DOM.enable")
            cdp.send("CSS.enable")
            root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
            for selector in ("nav a", "h1", "section.md p"):
                node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
                text = page.locator(selector).first.inner_text()
                fonts = {f["familyName"]: f["glyphCount"]
                         for f in cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]}
                n = len(CJK.findall(text))
                assert n > 0, (path.name, selector, text)
                assert fonts.get("Course CJK", 0) >= n, (path.name, selector, text, fonts)
            cdp.detach()
    finally:
        page.close()


def test_the_site_works_from_a_static_web_server(site, browser):
    """As published on a static host (GitHub Pages): served by a plain HTTP server, the index links to a
    page whose slider moves, with every request to that server."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{server.server_address[1]}/"
    page = browser.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(origin + "index.html")
        page.locator('a[href="zh/02_noisy_gradients.html"]').click()
        page.wait_for_selector("figure.viewer[data-ready]")
        fig = page.locator("figure.viewer").first
        before = fig.get_attribute("data-shown")
        fig.locator('input[type="range"]').first.focus()
        page.keyboard.press("ArrowRight")
        want = fig.get_attribute("data-pending")
        assert want != before
        page.wait_for_function(SHOWN_JS, arg=[0, want])
        assert re.search(CJK, fig.locator(".caption").inner_text())
    finally:
        page.close()
        server.shutdown()
    assert requests and all(u.startswith(origin) for u in requests), sorted(set(requests))[:10]
