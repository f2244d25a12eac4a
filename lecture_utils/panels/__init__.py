"""Interactive panels, one module per notebook, all built on :class:`lecture_utils.widgets.Panel`.

overview (00), batches (01), noisy (02), generalization (03), have_both (04), momentum (05). Each
module's ``*_panel(...)`` functions return a Panel; the pure numbers behind them live in the concept
modules (data, landscapes, optim, train, tuning, sharpness, …) so tests can check them directly.

A panel function that draws a cached sweep takes its record as the parameter ``record`` and
declares which sweep that is with :func:`reads_sweep`; :func:`build_default` loads exactly that one.
"""


def reads_sweep(name):
    """Decorator: the panel function's ``record`` is ``sweeps.load(name)``. Sets ``fn.__sweep__``
    (read by :func:`sweep_of` and :func:`build_default`); the function itself is unchanged."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be the name of a sweep (a non-empty str); got {name!r}")

    def declare(fn):
        fn.__sweep__ = name
        return fn

    return declare


def sweep_of(fn):
    """The sweep a panel function declared with :func:`reads_sweep` (``None`` if it reads none)."""
    return getattr(fn, "__sweep__", None)


def panel_functions():
    """Every ``*_panel`` function of the panel modules, as ``(module, name, function)`` in module order
    (the benchmark and the robustness tests visit them all)."""
    import importlib
    import inspect
    import pkgutil

    out = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"{__name__}.{info.name}")
        for name, fn in sorted(vars(mod).items()):
            if name.endswith("_panel") and inspect.isfunction(fn) and fn.__module__ == mod.__name__:
                out.append((mod, name, fn))
    return out


def build_default(fn):
    """Build a panel at its default values: ``fn()``, or ``fn(record)`` with the cached sweep the
    function declares (:func:`reads_sweep`) when ``record`` is required. Returns ``(panel, how,
    uses_cache)``; raises ``LookupError`` (saying why) when the function needs other parameters,
    declares no sweep, or its sweep is not cached (missing, or made with other parameters)."""
    import inspect

    from .. import sweeps

    sig = inspect.signature(fn)
    required = [p.name for p in sig.parameters.values()
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not required:
        return fn(), "defaults", False
    if required != ["record"]:
        raise LookupError(f"needs {required}, which cannot be supplied from defaults")
    name = sweep_of(fn)
    if name is None:
        raise LookupError("needs record but declares no sweep (decorate it with @reads_sweep(NAME))")
    try:
        rec = sweeps.load(name)
    except sweeps.CacheMismatch as exc:
        raise LookupError(f"its sweep {name!r} is not cached: {exc}") from exc
    return fn(rec), f"record=sweeps.load({name!r})", True
