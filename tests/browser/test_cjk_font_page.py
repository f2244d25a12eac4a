"""Chinese shows in the browser without a CJK font on the machine (issue 21 §4): the course's CSS
(``app/voila/templates/course/static/course-cjk.css``, the font as a data: URL, loaded by make lab as
JupyterLab's custom CSS and linked by the Voila template) makes "Course CJK" the last font of JupyterLab's
font stacks. Two small pages with JupyterLab's font rules after the course's CSS: one whose content is added
by a script after the page loaded (as JupyterLab draws), one whose content is in the HTML with the Voila
template's <head> script (as Voila streams cells). The font loads, Chromium draws every Chinese character
of a rendered-markdown element, a stream output and a widget label with it (DevTools' platform fonts of
each node), and no two characters draw alike (a missing glyph draws the same box for each)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "app" / "voila" / "templates" / "course"
CSS = TEMPLATE / "static" / "course-cjk.css"
TEXT = "批次与动量：鞍点、过拟合，测试准确率。"

HEAD = """<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{css}">{script}
<style>/* as JupyterLab's theme and its own rules, added after the course's CSS */
:root {{ --jp-ui-font-family: system-ui, sans-serif; --jp-content-font-family: system-ui, sans-serif;
  --jp-code-font-family-default: monospace; --jp-code-font-family: var(--jp-code-font-family-default); }}
body {{ font-family: var(--jp-ui-font-family); }}
.jp-RenderedHTMLCommon {{ font-family: var(--jp-content-font-family); }}
.jp-OutputArea-output pre {{ font-family: var(--jp-code-font-family); }}</style></head>"""
CONTENT = (f'<div class="jp-RenderedHTMLCommon" id="md">{TEXT} θ ≈ 0.9</div>'
           '<div class="widget-label" id="label">动量 β</div>'
           f'<div class="jp-OutputArea-output"><pre id="pre">{TEXT}</pre></div>')


def _voila_head_script():
    m = re.search(r"<script>document\.fonts.*?</script>", (TEMPLATE / "index.html.j2").read_text())
    assert m, "the Voila template no longer asks for the font in <head>"
    return m.group(0)


def _fonts_for(cdp, root_id, selector):
    node = cdp.send("DOM.querySelector", {"nodeId": root_id, "selector": selector})["nodeId"]
    fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return {f["familyName"]: f["glyphCount"] for f in fonts}


@pytest.mark.parametrize("kind", ["lab", "voila"])
def test_chinese_text_uses_the_course_font(browser, tmp_path, kind):
    script = _voila_head_script() if kind == "voila" else ""
    body = CONTENT if kind == "voila" else ""
    html = tmp_path / "cjk.html"
    html.write_text(HEAD.format(css=CSS.as_uri(), script=script) + f"<body>{body}</body></html>",
                    encoding="utf-8")
    page = browser.new_page()
    try:
        page.goto(html.as_uri())
        if kind == "lab":
            page.wait_for_timeout(200)
            page.evaluate("(html) => { document.body.innerHTML = html; }", CONTENT)
        loaded = page.evaluate("""async () => {
            const faces = await document.fonts.load('16px "Course CJK"', '批次与动量');
            await document.fonts.ready;
            return {n: faces.length, status: faces.map(f => f.status),
                    check: document.fonts.check('16px "Course CJK"', '批次与动量')};
        }""")
        assert loaded["n"] >= 1 and set(loaded["status"]) == {"loaded"} and loaded["check"], loaded

        cdp = page.context.new_cdp_session(page)
        cdp.send("DOM.enable")
        cdp.send("CSS.enable")
        root = cdp.send("DOM.getDocument")["root"]["nodeId"]
        for selector in ("#md", "#pre"):
            fonts = _fonts_for(cdp, root, selector)
            assert fonts.get("Course CJK", 0) == len(TEXT), (kind, selector, fonts)
        fonts = _fonts_for(cdp, root, "#label")
        assert fonts.get("Course CJK", 0) == 2, (kind, fonts)

        # no two characters draw alike (a missing glyph draws one box for all)
        chars = "批次与动量鞍点过拟合测试准确率"
        distinct = page.evaluate("""(text) => {
            const c = document.createElement('canvas'); c.width = 40; c.height = 40;
            const ctx = c.getContext('2d', {willReadFrequently: true});
            const seen = new Set();
            for (const ch of text) {
                ctx.clearRect(0, 0, 40, 40); ctx.font = '32px "Course CJK"'; ctx.fillText(ch, 2, 32);
                seen.add(Array.from(ctx.getImageData(0, 0, 40, 40).data).join(','));
            }
            return seen.size;
        }""", chars)
        assert distinct == len(chars)
    finally:
        page.close()
