"""lecture_utils has no import cycle, counting imports inside functions too (issue 20 item 7: the
cycle tuning → sweeps.warmup → sweeps.have_both → tuning). A cycle works today only because one of
its imports runs late; moving that import to the top would break ``import`` itself."""
import ast
from pathlib import Path

import lecture_utils

ROOT = Path(lecture_utils.__file__).parent
PKG = ROOT.name


def _modules():
    mods = {}
    for p in ROOT.rglob("*.py"):
        parts = list(p.relative_to(ROOT.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        mods[".".join(parts[:-1] if is_pkg else parts)] = (p, is_pkg)
    return mods


def _targets(mod, is_pkg, node, mods):
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PKG]
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if node.level:
        target = ".".join(base[:len(base) - (node.level - 1)] + ([node.module] if node.module else []))
    elif (node.module or "").split(".")[0] == PKG:
        target = node.module
    else:
        return []
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target for a in node.names]


def import_graph():
    """module → the package modules it imports anywhere in its source (a parent package is left out:
    importing a submodule always imports its package first)."""
    mods = _modules()
    graph = {}
    for m, (p, is_pkg) in mods.items():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for t in _targets(m, is_pkg, node, mods):
                    if t in mods and t != m and not m.startswith(t + "."):
                        graph.setdefault(m, set()).add(t)
    return graph


def find_cycle(graph):
    """One cycle as a list of modules [a, b, …, a], or None (depth-first search)."""
    state, path = {}, []

    def visit(v):
        state[v] = "open"
        path.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == "open":
                return path[path.index(w):] + [w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = "done"
        path.pop()
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_the_finder_sees_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_reads_relative_and_lazy_imports():
    g = import_graph()
    assert "lecture_utils.data" in g["lecture_utils.train"]                    # from .data import …
    assert "lecture_utils.sharpness" in g["lecture_utils.sweeps.warmup"]        # inside run_one
    assert "lecture_utils.sweeps._pool" in g["lecture_utils.sweeps.have_both"]  # from ._pool import …


def test_no_import_cycle_in_the_package():
    assert find_cycle(import_graph()) is None
