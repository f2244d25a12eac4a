"""Make the course's Chinese font: a subset of Noto Sans CJK SC (SIL OFL 1.1), vendored in the repository.

The Chinese edition (notebooks/zh/, ``LECTURE_LANG=zh``) draws Chinese figure labels and shows Chinese
prose in JupyterLab and Voila. A fresh Linux machine often has no CJK font at all (every character a box),
and the set-up must not run apt or download anything at run time, so the course carries its own font:

* ``lecture_utils/fonts/NotoSansSC-course.otf``: Noto Sans CJK SC Regular 1.004, cut down to the
  characters the course needs, its family renamed "Course CJK" (a Modified Version under the OFL; the
  font's copyright and licence entries are kept). matplotlib reads it
  (:func:`lecture_utils.plotting.use_cjk_font`).
* ``lecture_utils/fonts/OFL.txt``: the licence; ``lecture_utils/fonts/README.md``: where it comes from.
* ``app/voila/templates/course/static/course-cjk.css``: an ``@font-face`` "Course CJK" whose source is the
  same font as a ``data:`` URL (WOFF, nothing requested from any server), added as the last fallback of
  JupyterLab's font stacks; make lab serves that folder as JupyterLab's custom CSS (``custom.css`` there
  imports it) and the Voila template links it (and asks for the font in <head>).

Characters kept: every character of the Chinese catalogs (``locale/zh_CN/*.po``, the notebooks;
``lecture_utils/locale/zh_CN/*.po``, the runtime messages) and of ``notebooks/zh/*.ipynb``, the ASCII,
Latin-1, Greek, general-punctuation, arrow and math-operator characters Noto has (figures: mathtext tick
labels use the first font of ``font.family`` only; the page uses its own fonts first),
plus the 3,755 characters of GB 2312 level 1 (the
common characters; Python's ``gb2312`` codec gives them offline, a close stand-in for the 3,500 of level 1
of 《通用规范汉字表》), CJK punctuation (U+3000–U+303F) and the full-width forms (U+FF01–U+FF65).

Re-run it after a translation adds a character (tests/test_cjk_font.py says so)::

    pip download mplfonts==0.0.11 --no-deps -d /tmp/pipdl      # the source font, once (85 MB wheel)
    .venv/bin/python scripts/make_cjk_font.py --source /tmp/pipdl/mplfonts-0.0.11-py3-none-any.whl

``--source`` takes the wheel or the .otf itself (``mplfonts/fonts/NotoSansCJKsc-Regular.otf`` in it,
sha256 below). Subsetting takes about 1.5 CPU minutes; ``--css-only`` rewrites the CSS alone.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import sys
import unicodedata
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FONT_DIR = ROOT / "lecture_utils" / "fonts"
FONT = FONT_DIR / "NotoSansSC-course.otf"
CSS = ROOT / "app" / "voila" / "templates" / "course" / "static" / "course-cjk.css"
FAMILY = "Course CJK"
MEMBER = "mplfonts/fonts/NotoSansCJKsc-Regular.otf"
SOURCE_SHA256 = "1652500938055a232cfbfa321de6ebaadfc5635dd9f75e369bc991d14a6512dd"

#: Blocks left to the other fonts: Latin, IPA and modifier letters, combining marks, Greek, superscripts
#: and subscripts, letterlike symbols, number forms, arrows, mathematical operators and symbols.
EXCLUDED = [(0x0000, 0x007F), (0x0080, 0x036F), (0x0370, 0x03FF), (0x1D00, 0x1DBF), (0x1E00, 0x1FFF),
            (0x2070, 0x209F), (0x2100, 0x22FF), (0x2300, 0x23FF), (0x27C0, 0x27EF), (0x2980, 0x2AFF),
            (0x1D400, 0x1D7FF)]
EXTRA_RANGES = [(0x3000, 0x303F), (0xFF01, 0xFF65)]
#: Kept too, for figures: matplotlib's tick labels are mathtext (``$\\mathdefault{10^{-1}}$``), drawn in
#: the first font of ``font.family`` without glyph fallback, so the course font carries its own digits,
#: Latin letters, Greek and common math symbols (those Noto Sans CJK SC has).
FIGURE_RANGES = [(0x0020, 0x007E), (0x00A0, 0x00FF), (0x0370, 0x03FF), (0x2010, 0x206F), (0x2070, 0x209F),
                 (0x2190, 0x21FF), (0x2200, 0x22FF)]
#: JupyterLab 4's default font stacks (theme-light/-dark: --jp-ui-font-family, --jp-content-font-family,
#: --jp-code-font-family-default); the CSS adds "Course CJK" at their end.
UI_STACK = ('system-ui, -apple-system, blinkmacsystemfont, "Segoe UI", helvetica, arial, sans-serif, '
            '"Apple Color Emoji", "Segoe UI Emoji", "Segoe UI Symbol"')
CODE_STACK = 'menlo, consolas, "DejaVu Sans Mono", monospace'


def wanted(ch):
    """True for a character the course font should carry (not ASCII/Latin/Greek/math, not a control)."""
    cp = ord(ch)
    if any(lo <= cp <= hi for lo, hi in EXCLUDED):
        return False
    return unicodedata.category(ch)[0] not in "CZ" or ch == "\u3000"


def is_chinese(ch):
    """A character of Chinese text: CJK ideographs (with extensions and compatibility forms), CJK
    punctuation, full-width forms, and the dashes, quotes and ellipsis of Chinese prose (——, “”, ‘’, …)."""
    cp = ord(ch)
    return (0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF
            or 0x20000 <= cp <= 0x2FFFF or 0x3000 <= cp <= 0x303F or 0xFF00 <= cp <= 0xFFEF
            or ch in "\u2014\u2018\u2019\u201c\u201d\u2026")


def course_texts(root=ROOT):
    """The files whose characters the font must cover: every Chinese catalog and built Chinese notebook."""
    paths = sorted(root.glob("locale/**/*.po")) + sorted(root.glob("lecture_utils/locale/**/*.po"))
    paths += sorted(root.glob("notebooks/zh/*.ipynb"))
    return paths


def used_chars(root=ROOT):
    """Characters of :func:`course_texts` the font should carry (``.ipynb``: the JSON decoded, so a
    ``\\uXXXX`` escape counts as its character)."""
    chars = set()
    for path in course_texts(root):
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = json.dumps(json.loads(text), ensure_ascii=False)
        chars.update(ch for ch in text if wanted(ch))
    return chars


def gb2312_level1():
    """The 3,755 hanzi of GB 2312 level 1 (rows 16–55), from Python's codec."""
    out = set()
    for row in range(0xB0, 0xD8):
        for col in range(0xA1, 0xFF):
            try:
                out.add(bytes([row, col]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return out


def read_source(path):
    path = Path(path)
    data = zipfile.ZipFile(path).read(MEMBER) if path.suffix == ".whl" else path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        print(f"warning: source font sha256 {digest} differs from {SOURCE_SHA256} (mplfonts 0.0.11)",
              file=sys.stderr)
    return data


def rename(font):
    """Family "Course CJK" (Regular), the copyright/licence entries kept, the modification noted."""
    name = font["name"]
    version = name.getDebugName(5) or ""
    names = {1: FAMILY, 2: "Regular", 3: f"{FAMILY} Regular; subset of Noto Sans CJK SC {version}",
             4: f"{FAMILY} Regular", 6: "CourseCJK-Regular", 16: FAMILY, 17: "Regular",
             10: "Subset of Noto Sans CJK SC Regular 1.004 (SIL OFL 1.1) for the course's Chinese edition, "
                 "made by scripts/make_cjk_font.py."}
    name.names = [r for r in name.names if r.nameID not in names or r.nameID in (2, 17)]
    for nid, value in names.items():
        name.setName(value, nid, 3, 1, 0x409)
        name.setName(value, nid, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = ["CourseCJK-Regular"]
        top = cff.topDictIndex[0]
        for key in ("FullName", "FamilyName"):
            if hasattr(top, key):
                setattr(top, key, f"{FAMILY} Regular" if key == "FullName" else FAMILY)


def make_font(source_bytes, chars):
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(source_bytes), recalcTimestamp=False)  # the same bytes on every run
    cmap = font.getBestCmap()
    missing = sorted(c for c in chars if ord(c) not in cmap)
    opts = subset.Options()
    opts.layout_features = ["*"]
    opts.name_IDs = ["*"]
    opts.name_languages = ["*"]
    opts.notdef_outline = True
    opts.hinting = False
    sub = subset.Subsetter(opts)
    sub.populate(unicodes=sorted(ord(c) for c in chars if ord(c) in cmap))
    sub.subset(font)
    rename(font)
    return font, missing


def css_text(font):
    buf = io.BytesIO()
    font.flavor = "woff"
    font.save(buf)
    font.flavor = None
    b64 = base64.b64encode(buf.getvalue()).decode("ascii")
    return f"""/* "{FAMILY}": the course's Chinese font (a subset of Noto Sans CJK SC, SIL OFL 1.1:
   lecture_utils/fonts/OFL.txt), inline as a data: URL (nothing is requested from any server), added as the
   last font of JupyterLab's and Voila's font stacks so that Chinese shows on a machine without a CJK font.
   Generated by scripts/make_cjk_font.py: do not edit. */
@font-face {{
  font-family: "{FAMILY}";
  font-style: normal;
  font-weight: 400;
  font-display: block;
  src: url(data:font/woff;base64,{b64}) format("woff");
}}
/* JupyterLab 4's font stacks (its themes set them on :root; html:root outranks that, in any order) with
   "{FAMILY}" last: a character no other font has is drawn with it. A font chosen in JupyterLab's settings
   (an inline style) still wins. */
html:root {{
  --jp-ui-font-family: {UI_STACK}, "{FAMILY}";
  --jp-content-font-family: {UI_STACK}, "{FAMILY}";
  --jp-code-font-family-default: {CODE_STACK}, "{FAMILY}";
}}
body {{ font-family: var(--jp-ui-font-family); }}
/* Chromium draws the first text that asks for a data: URL font with the fallback (boxes) and never redraws
   it: this hidden character is that first text, drawn when the page is first laid out, before JupyterLab or
   Voila add any content (the Voila template also asks for the font in a script in <head>). */
html::before {{
  content: "\\5B57"; font-family: "{FAMILY}"; position: absolute; top: -100px; left: 0;
  visibility: hidden; pointer-events: none;
}}
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source",
                    help="mplfonts-0.0.11-py3-none-any.whl or NotoSansCJKsc-Regular.otf "
                         "(pip download mplfonts==0.0.11 --no-deps)")
    ap.add_argument("--no-common", action="store_true", help="only the characters the course uses")
    ap.add_argument("--css-only", action="store_true",
                    help="rewrite the CSS from the font already in lecture_utils/fonts/ (no subsetting)")
    args = ap.parse_args(argv)
    if args.css_only:
        from fontTools.ttLib import TTFont

        CSS.write_text(css_text(TTFont(FONT, recalcTimestamp=False)), encoding="utf-8")
        print(f"{CSS.relative_to(ROOT)}: {CSS.stat().st_size / 1e6:.2f} MB")
        return 0

    used = used_chars()
    chars = set(used)
    if not args.no_common:
        chars |= gb2312_level1()
    for lo, hi in EXTRA_RANGES:
        chars.update(chr(cp) for cp in range(lo, hi + 1) if wanted(chr(cp)))
    for lo, hi in FIGURE_RANGES:
        chars.update(chr(cp) for cp in range(lo, hi + 1) if unicodedata.category(chr(cp))[0] != "C")
    if not args.source:
        ap.error("--source is required (pip download mplfonts==0.0.11 --no-deps; see the docstring)")
    font, missing = make_font(read_source(args.source), chars)
    FONT_DIR.mkdir(parents=True, exist_ok=True)
    font.save(FONT)
    CSS.parent.mkdir(parents=True, exist_ok=True)
    CSS.write_text(css_text(font), encoding="utf-8")
    n = len(font.getBestCmap())
    print(f"{FONT.relative_to(ROOT)}: {n} characters ({len(used)} used by the course), "
          f"{FONT.stat().st_size / 1e6:.2f} MB; {CSS.relative_to(ROOT)}: {CSS.stat().st_size / 1e6:.2f} MB")
    used_missing = [c for c in missing if c in used]
    if used_missing:
        print("not in Noto Sans CJK SC (left to the other fonts): "
              + " ".join(f"{c} U+{ord(c):04X}" for c in used_missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
