"""lecture_utils.panels: each panel that draws a cached sweep declares it; build_default loads that one."""
import inspect

import pytest

from lecture_utils import sweeps
from lecture_utils.panels import build_default, panel_functions, reads_sweep, sweep_of


def test_every_panel_with_a_record_declares_an_existing_sweep():
    declared = {}
    for mod, name, fn in panel_functions():
        takes_record = "record" in inspect.signature(fn).parameters
        assert (sweep_of(fn) is not None) == takes_record, f"{mod.__name__}.{name}"
        if takes_record:
            assert sweep_of(fn) in sweeps.names(), f"{name} declares {sweep_of(fn)!r}, not a sweep"
            declared[name] = sweep_of(fn)
    assert declared == {"accuracy_panel": "batch_accuracy", "batch_size_panel": "generalization",
                        "scaling_panel": "have_both"}


def test_build_default_loads_only_the_declared_sweep(monkeypatch):
    fns = {n: f for _, n, f in panel_functions()}
    loaded = []
    real_load = sweeps.load

    def spy(name, **kw):
        loaded.append(name)
        return real_load(name, **kw)

    monkeypatch.setattr(sweeps, "load", spy)
    try:
        panel, how, cached = build_default(fns["scaling_panel"])
    except LookupError as exc:  # the cache of notebook 04 is committed: missing means broken
        pytest.fail(str(exc))
    assert loaded == ["have_both"]
    assert (how, cached) == ("record=sweeps.load('have_both')", True)
    assert panel.caption_text().startswith("B = 512, η = 1.6 (scaled)")


def test_build_default_says_why_it_cannot(monkeypatch):
    def undeclared(record):
        return record

    with pytest.raises(LookupError, match="declares no sweep"):
        build_default(undeclared)

    @reads_sweep("have_both")
    def declared(record):
        return record

    def missing(name, **kw):
        raise sweeps.CacheMismatch(f"no cached sweep sweep_{name}.json")

    monkeypatch.setattr(sweeps, "load", missing)
    with pytest.raises(LookupError, match="'have_both' is not cached: no cached sweep"):
        build_default(declared)
    monkeypatch.undo()
    assert build_default(declared)[0]["name"] == "have_both"
    with pytest.raises(ValueError, match="name"):
        reads_sweep("")
