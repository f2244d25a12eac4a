"""Interactive panels, one module per notebook, all built on :class:`lecture_utils.widgets.Panel`.

batches (01), noisy (02), generalization (03), have_both (04), momentum (05). Each module's
``*_panel(...)`` functions return a Panel; the pure numbers behind them live in the concept
modules (data, landscapes, optim, train, sharpness, …) so tests can check them directly.
"""
