"""Colours readable on a projector: every line colour at least 3:1 against the white background."""
from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pytest

from lecture_utils import plotting


def test_contrast_formula_matches_wcag_values():
    assert plotting.contrast_on_white("#000000") == pytest.approx(21.0)
    assert plotting.contrast_on_white("#ffffff") == pytest.approx(1.0)
    assert plotting.contrast_on_white("#767676") == pytest.approx(4.54, abs=0.01)   # WCAG's 4.5:1 grey


@pytest.mark.parametrize("role", sorted(plotting.COLORS))
def test_role_colours_have_3_to_1_contrast(role):
    assert plotting.contrast_on_white(plotting.COLORS[role]) >= 3.0, role


def test_the_style_cycles_only_through_readable_colours():
    with mpl.rc_context():
        plotting.use_style()
        colours = mpl.rcParams["axes.prop_cycle"].by_key()["color"]
    assert colours == plotting.CYCLE
    assert min(plotting.contrast_on_white(c) for c in colours) >= 3.0


def test_every_batch_colour_is_readable_and_the_ends_differ():
    sizes = np.unique(np.geomspace(1, 4000, 60).astype(int))
    ratios = [plotting.contrast_on_white(plotting.batch_color(b, 4000)) for b in sizes]
    assert min(ratios) >= 3.0
    blue, red = plotting.batch_color(1, 4000), plotting.batch_color(4000, 4000)
    assert blue[2] > blue[0] and red[0] > red[2]
