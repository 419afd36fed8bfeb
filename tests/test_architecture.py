"""The shape docs/architecture.md describes, checked so that it cannot drift silently."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "tickets"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def app_modules() -> dict[str, Path]:
    return {module_name(p): p for p in APP.rglob("*.py") if "migrations" not in p.parts}


def resolve(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def top_level_imports(module: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the app this one imports when it is loaded (not under TYPE_CHECKING)."""
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = resolve(module, node, path.name == "__init__.py")
            # "from tickets import emails" imports the module tickets.emails; the package
            # itself counts only when a name is not a submodule of it.
            names = [f"{target}.{a.name}" for a in node.names]
            if not set(names) & known:
                names.append(target)
        else:
            continue
        found |= {n for n in names if n in known}
    return found - {module}


def import_graph() -> dict[str, set[str]]:
    modules = app_modules()
    return {m: top_level_imports(m, p, set(modules)) for m, p in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_apps_modules_import_each_other_without_a_cycle():
    # Packages import their own submodules: that edge runs down, never a cycle.
    graph = {
        m: {t for t in targets if not m.startswith(t + ".")}
        for m, targets in import_graph().items()
    }
    assert find_cycle(graph) is None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_models_import_the_emails_and_the_emails_never_import_views_or_admin():
    graph = import_graph()
    assert "tickets.emails" in graph["tickets.models.ticket"]
    assert not {
        m for m in graph["tickets.emails"] if m.startswith(("tickets.views", "tickets.admin"))
    }


def test_the_rate_limit_counter_renders_nothing_and_sends_nothing():
    graph = import_graph()
    assert graph["tickets.ratelimit"] <= {"tickets.addresses", "tickets.counters"}
    assert graph["tickets.counters"] == {"tickets.bookkeeping"}
    assert graph["tickets.bookkeeping"] == set()


def test_an_import_inside_a_function_says_why():
    unexplained = []
    for module, path in app_modules().items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom):
                        before = lines[inner.lineno - 2].strip()
                        if not before.startswith("#") and "#" not in lines[inner.lineno - 1]:
                            unexplained.append(f"{module}:{inner.lineno}")
    assert unexplained == []


def test_production_code_never_imports_test_machinery():
    offenders = [
        module
        for module, path in app_modules().items()
        if "django.test" in path.read_text() or "import pytest" in path.read_text()
    ]
    assert offenders == []
