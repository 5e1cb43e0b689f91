"""Load and validate spec files and waivers, reporting problems by file, line and field."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlglot
import sqlglot.errors
import yaml
from pydantic import ValidationError

from reconciler.errors import SpecError
from reconciler.spec.models import Spec, Waiver

__all__ = ["collect_problems", "load_specs", "load_waivers", "order_specs"]


def _node_line(root: yaml.Node | None, loc: Sequence[Any]) -> int | None:
    """The 1-based line of the YAML node at a pydantic error location (closest ancestor)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if nxt is None:
                key = next((k for k, _ in node.value if getattr(k, "value", None) == str(part)), None)
                return key.start_mark.line + 1 if key is not None else line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read ({exc.strerror})", file=str(path)) from None
    try:
        node = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError(
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            file=str(path),
            line=mark.line + 1 if mark is not None else None,
        ) from None
    except ValueError as exc:  # a scalar YAML types but cannot build, such as the date 2026-13-45
        bad = _unbuildable(node)
        where = f"{bad.value!r}: " if bad is not None else ""
        raise SpecError(
            f"not a valid value: {where}{exc}",
            file=str(path),
            line=bad.start_mark.line + 1 if bad is not None else None,
        ) from None
    return data, node


def _unbuildable(node: yaml.Node | None) -> yaml.ScalarNode | None:
    """The first scalar that PyYAML types (a date, a timestamp) but cannot construct."""
    if isinstance(node, yaml.ScalarNode):
        try:
            yaml.SafeLoader("").construct_object(node, deep=True)
        except ValueError:
            return node
        return None
    if isinstance(node, yaml.SequenceNode):
        children: list[yaml.Node] = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    else:
        return None
    for child in children:
        found = _unbuildable(child)
        if found is not None:
            return found
    return None


def _validation_errors(path: Path, node: yaml.Node | None, exc: ValidationError) -> list[SpecError]:
    out = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if p not in ("function-after",)]
        field = ".".join(str(p) for p in loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        out.append(SpecError(msg, file=str(path), line=_node_line(node, loc), field=field))
    return out


def _check_sql(spec: Spec, path: Path, node: yaml.Node | None) -> list[SpecError]:
    out = []
    sqls = [("source.query", spec.source.query)]
    if spec.expect.complete.expression:
        sqls.append(("expect.complete.expression", f"SELECT {spec.expect.complete.expression} FROM t"))
    for field, sql in sqls:
        try:
            parsed = sqlglot.parse(sql, read="athena")
        except sqlglot.errors.ParseError as exc:
            first = exc.errors[0]["description"] if exc.errors else str(exc)
            line = _node_line(node, field.split("."))
            out.append(SpecError(f"not valid Athena SQL: {first}", file=str(path), line=line, field=field))
            continue
        if len([p for p in parsed if p is not None]) != 1:
            line = _node_line(node, field.split("."))
            out.append(SpecError("must be exactly one statement", file=str(path), line=line, field=field))
    return out


def collect_problems(specs_dir: str | Path) -> tuple[list[Spec], list[SpecError]]:
    """Load every ``*.yaml`` spec in a directory, collecting all problems instead of stopping.

    ``waivers.yaml`` is not a spec and is skipped here.

    Args:
        specs_dir: The specs directory.

    Returns:
        The valid specs and every problem found (file, line, field).
    """
    root = Path(specs_dir)
    problems: list[SpecError] = []
    specs: list[Spec] = []
    if not root.is_dir():
        return [], [SpecError("specs directory not found", file=str(root))]
    files = sorted(p for p in root.glob("*.yaml") if p.name != "waivers.yaml")
    declared: set[str] = set()  # names of every spec file, valid or not, so one bad file does not cascade
    if not files:
        problems.append(SpecError("no spec files (*.yaml)", file=str(root)))
    for path in files:
        try:
            data, node = _read_yaml(path)
        except SpecError as exc:
            problems.append(exc)
            continue
        if not isinstance(data, dict):
            problems.append(SpecError("a spec must be a mapping", file=str(path), line=1))
            continue
        if isinstance(data.get("name"), str):
            declared.add(data["name"])
        try:
            spec = Spec.model_validate({**data, "file": str(path)})
        except ValidationError as exc:
            problems.extend(_validation_errors(path, node, exc))
            continue
        sql_problems = _check_sql(spec, path, node)
        problems.extend(sql_problems)
        if not sql_problems:
            specs.append(spec)
    names = [s.name for s in specs]
    for s in specs:
        if names.count(s.name) > 1:
            problems.append(SpecError(f"target name {s.name!r} is declared twice", file=s.file, field="name"))
        for dep in s.depends_on:
            if dep not in names and dep not in declared:
                problems.append(SpecError(f"unknown target {dep!r}", file=s.file, field="depends_on"))
    problems.extend(_cycles(specs))
    return specs, problems


def _cycles(specs: list[Spec]) -> list[SpecError]:
    deps = {s.name: [d for d in s.depends_on] for s in specs}
    out: list[SpecError] = []
    state: dict[str, int] = {}

    def visit(n: str, trail: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            cyc = " -> ".join([*trail[trail.index(n) :], n])
            spec = next(s for s in specs if s.name == n)
            out.append(SpecError(f"dependency cycle: {cyc}", file=spec.file, field="depends_on"))
            return
        state[n] = 1
        for d in deps.get(n, []):
            if d in deps:
                visit(d, [*trail, n])
        state[n] = 2

    for name in deps:
        visit(name, [])
    return out


def load_specs(specs_dir: str | Path) -> list[Spec]:
    """Load every spec, failing on the first problem.

    Args:
        specs_dir: The specs directory.

    Returns:
        The specs, ordered so that dependencies come first.

    Raises:
        SpecError: The first problem found (``reconcile validate`` lists them all).
    """
    specs, problems = collect_problems(specs_dir)
    if problems:
        raise problems[0]
    return order_specs(specs)


def order_specs(specs: list[Spec]) -> list[Spec]:
    """Order specs so that each comes after the targets it depends on (stable by name).

    Args:
        specs: Valid, acyclic specs.

    Returns:
        The specs in dependency order.
    """
    by_name = {s.name: s for s in specs}
    done: list[Spec] = []
    seen: set[str] = set()

    def visit(s: Spec) -> None:
        if s.name in seen:
            return
        seen.add(s.name)
        for d in sorted(s.depends_on):
            if d in by_name:
                visit(by_name[d])
        done.append(s)

    for s in sorted(specs, key=lambda x: x.name):
        visit(s)
    return done


def load_waivers(path: str | Path | None) -> list[Waiver]:
    """Load ``waivers.yaml`` (a mapping with ``version: 1`` and a ``waivers`` list).

    Args:
        path: The file; None or a missing file means no waivers.

    Returns:
        The waivers.

    Raises:
        SpecError: If the file is malformed.
    """
    if path is None or not Path(path).is_file():
        return []
    p = Path(path)
    data, node = _read_yaml(p)
    if data is None:
        return []
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("waivers"), list):
        raise SpecError("expected 'version: 1' and a 'waivers' list", file=str(p), line=1)
    out = []
    for i, item in enumerate(data["waivers"]):
        try:
            out.append(Waiver.model_validate({**(item or {}), "file": str(p)}))
        except ValidationError as exc:
            err = _validation_errors(p, node, exc)[0]
            raise SpecError(
                err.args[0].split(": ", 1)[-1],
                file=str(p),
                line=_node_line(node, ["waivers", i]),
                field=f"waivers.{i}",
            ) from None
    return out
