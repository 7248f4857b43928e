"""The package's rooms and the way its imports point: read from the source, so a new import that points up, or
closes a circle, fails here whatever the tests that run it do."""

import ast
import re

from conftest import REPO

# From the top down: a module may import its own room and the rooms below it, never one above.
LAYERS = ("smate.cli", "smate.pipeline", "smate.report", "smate.config", "smate.rebalance", "smate.gan",
          "smate.classify", "smate.data", "smate")
# The basics the root keeps beside the CLI and the params.
ROOT_MODULES = {"__init__", "cli", "config", "errors", "atomic", "registry", "precision", "digest"}
LAZY_TARGET = re.compile(r"^(smate(?:\.\w+)+):\w+$")  # "module:attribute", imported on first use (smate/registry.py)


def _modules():
    """{module name: (path, whether it is a package's __init__)} of every module in smate/."""
    found = {}
    for path in sorted((REPO / "smate").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if package else parts)] = (path, package)
    return found


def _imported(name, package, node, modules):
    """The package modules an import statement reaches (a name imported from a package may be a module of it)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in modules]
    base = name.split(".") if package else name.split(".")[:-1]
    start = ".".join([*base[: len(base) - node.level + 1], *([node.module] if node.module else [])]) if node.level else node.module
    return [f"{start}.{alias.name}" if f"{start}.{alias.name}" in modules else start
            for alias in node.names if start in modules or f"{start}.{alias.name}" in modules]


def import_graph():
    """{module: set of the modules it imports}, at the top of a file or inside a function, and the entries it names
    for a lazy import."""
    modules = _modules()
    graph = {name: set() for name in modules}
    for name, (path, package) in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[name].update(_imported(name, package, node, modules))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and LAZY_TARGET.match(node.value):
                graph[name].add(LAZY_TARGET.match(node.value).group(1))
        graph[name].discard(name)
    return graph


def layer(module):
    return next(index for index, room in enumerate(LAYERS) if module == room or module.startswith(room + "."))


def test_no_import_points_up():
    upward = [f"{module} -> {target}" for module, targets in import_graph().items() for target in targets
              if layer(target) < layer(module)]
    assert not upward, f"imports that point up ({' > '.join(LAYERS)}): {upward}"


def test_no_import_circle():
    graph = import_graph()
    state, circles = {}, []

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                circles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert not circles, f"import circles: {circles}"


def test_the_root_keeps_only_the_cli_the_params_and_the_basics():
    assert {path.stem for path in (REPO / "smate").glob("*.py")} <= ROOT_MODULES


def test_the_graph_sees_imports_inside_functions_and_lazy_entries():
    """The checks above would pass on a graph that missed these; the pipeline imports the report inside a function."""
    graph = import_graph()
    assert "smate.report.build" in graph["smate.report"]  # a lazy entry of its __init__
    assert "smate.classify.metrics" in graph["smate.pipeline.train"]  # imported inside train()
    assert "smate.rebalance._base" in graph["smate.rebalance.generated"]
