"""The package's layers, read from the source: no import points up, and no import cycle exists.

Every ``import`` counts, at module level or inside a function (a lazy import hides a cycle, it
does not remove it), including those under ``if TYPE_CHECKING:``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "reconciler"

#: Each part of the package and its layer: a module may import its own layer and those below.
#: The pure planner sits low (``core``); observation, apply and rendering above the ports they
#: work through; the adapters above them (only the service and the commands choose adapters);
#: the service above all of those; the commands and tools that use a session at the top.
LAYERS: dict[str, int] = {
    # 0: vocabulary every layer shares
    "errors": 0,
    "hints": 0,
    "seasons": 0,
    "sql": 0,
    "spec": 0,
    "config": 0,
    # 1: the lake's conventions (paths, keys, schemas, encodings)
    "lake": 1,
    # 2: the pure planner
    "core": 2,
    # 3: the ports
    "ports": 3,
    # 4: work done through the ports
    "observe": 4,
    "apply": 4,
    "render": 4,
    "api": 4,
    "synth": 4,
    # 5: the adapters, and what speaks to AWS or serves the API
    "adapters": 5,
    "sim": 5,
    "doctor": 5,
    "preflight": 5,
    # 6: the service (a session over a profile's adapters, planning and applying)
    "service": 6,
    # 7: commands and tools
    "cli": 7,
    "sandbox": 7,
    "demo": 7,
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


MODULES = _modules()


def _part(module: str) -> str:
    """The layer part a module belongs to: ``reconciler.core.plan`` → ``core``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every reconciler module a module imports, with the line (relative imports resolved)."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "reconciler":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.split(".")[0] != "reconciler":
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                yield (sub if sub in MODULES else target), node.lineno


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, path in MODULES.items():
        for target, _ in _imports(module, path):
            if target in MODULES and target != module:
                graph[module].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_part_of_the_package_has_a_layer() -> None:
    parts = {_part(m) for m in MODULES} - {""}
    assert parts <= set(LAYERS), f"parts without a layer: {sorted(parts - set(LAYERS))}"


def test_no_import_points_to_a_higher_layer() -> None:
    upward = []
    for module, path in MODULES.items():
        here = LAYERS.get(_part(module), 0)
        for target, line in _imports(module, path):
            there = LAYERS.get(_part(target), 0)
            if there > here:
                upward.append(f"{path.relative_to(ROOT.parent)}:{line}: {module} imports {target}")
    assert not upward, "imports pointing up:\n" + "\n".join(upward)


def test_no_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_the_checks_see_a_cycle_and_an_upward_import() -> None:
    """The two checks can fail: a made-up graph with a cycle is found, and so is an upward import."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    assert LAYERS[_part("reconciler.core.planner")] < LAYERS[_part("reconciler.cli.app")]


def test_lazy_and_type_checking_imports_are_seen(tmp_path: Path) -> None:
    """Imports inside functions and under TYPE_CHECKING are read too, relative ones resolved."""
    path = tmp_path / "mod.py"
    path.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from reconciler.service import Session\n"
        "def f() -> None:\n"
        "    from reconciler.cli import app\n"
        "    from ..render import text\n"
    )
    seen = {target for target, _ in _imports("reconciler.core.mod", path)}
    assert seen == {"reconciler.service", "reconciler.cli.app", "reconciler.render.text"}


def test_no_function_outside_synth_is_over_80_lines() -> None:
    """Long functions are split by the steps they take (the synthetic universe's vectorised builders excepted)."""
    long = []
    for module, path in MODULES.items():
        if _part(module) == "synth":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > 80:
                    long.append(f"{path.relative_to(ROOT.parent)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def test_the_readme_layer_map_is_the_one_checked() -> None:
    """README's layout section names each part of the package with the layer this test enforces."""
    readme = (ROOT.parent / "README.md").read_text(encoding="utf-8")
    block = "0 reconciler/" + readme.split("```\n0 reconciler/", 1)[1].split("```", 1)[0]
    said: dict[str, int] = {}
    layer = 0
    for line in block.splitlines():
        if line[:1].isdigit():  # "N <parts>  <what they do>": every part named before the description
            number, _, head = line.split("  ", 1)[0].strip().partition(" ")
            layer = int(number)
            for word in head.replace(",", " ").split():
                said[word.removeprefix("reconciler/").removesuffix("/").removesuffix(".py")] = layer
        else:  # a continuation line may name further parts of its numbered line's layer
            for word in line.replace(",", " ").replace(";", " ").split():
                name = word.removeprefix("reconciler/").removesuffix("/").removesuffix(".py")
                if name in LAYERS:
                    said.setdefault(name, layer)
    assert said == LAYERS
