"""The import structure reads as the service's parts: no cycle anywhere (lazy imports inside
functions included), handlers at the top, common at the bottom, the table's keys in store."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {"pipeline": ROOT / "src" / "pipeline", "snaprace": ROOT / "snaprace"}


def modules() -> dict[str, Path]:
    found = {}
    for name, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            dotted = ".".join((name, *parts[:-1])) if parts[-1] == "__init__" else ".".join((name, *parts))
            found[dotted] = path
    return found


def imports_of(path: Path, known: dict[str, Path]) -> set[str]:
    """The project's modules a file imports, anywhere in it (a function's lazy import too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    edges = graph()
    # a package's __init__ that gathers its modules is not a cycle with them
    edges = {
        name: {
            o for o in targets if not (name.startswith(f"{o}.") and Path(modules()[o]).name == "__init__.py")
        }
        for name, targets in edges.items()
    }
    assert cycles(edges) == []


def test_the_floors_point_down():
    edges = graph()
    for name, targets in edges.items():
        if not name.startswith("pipeline.handlers"):
            assert not {t for t in targets if t.startswith("pipeline.handlers")}, f"{name} imports a handler"
        if name.startswith("pipeline.common"):
            assert all(t.startswith("pipeline.common") for t in targets), f"{name}: common stands on nothing"
        if name.startswith("pipeline."):
            assert not {t for t in targets if t.startswith("snaprace")}, (
                f"{name}: deployed code imports snaprace"
            )


def test_the_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
