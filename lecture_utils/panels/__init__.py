"""Interactive panels, one module per notebook, all built on :class:`lecture_utils.widgets.Panel`.

batches (01), noisy (02), generalization (03), have_both (04), momentum (05). Each module's
``*_panel(...)`` functions return a Panel; the pure numbers behind them live in the concept
modules (data, landscapes, optim, train, sharpness, …) so tests can check them directly.
"""


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
    """Build a panel at its default values: ``fn()``, or ``fn(record)`` with the first cached sweep
    (``sweeps.load``) that builds it when ``record`` is required. Returns ``(panel, how, uses_cache)``;
    raises ``LookupError`` (saying what was tried) when neither works."""
    import inspect

    from .. import sweeps

    sig = inspect.signature(fn)
    required = [p.name for p in sig.parameters.values()
                if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if not required:
        return fn(), "defaults", False
    if required != ["record"]:
        raise LookupError(f"needs {required}, which cannot be supplied from defaults")
    errors = []
    for name in sweeps.names():
        try:
            rec = sweeps.load(name)
        except Exception:  # noqa: BLE001  (missing or stale cache)
            continue
        try:
            return fn(rec), f"record=sweeps.load({name!r})", True
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{name}: {type(exc).__name__}")
    raise LookupError(f"no cached sweep builds it (tried {errors or 'none cached'})")
