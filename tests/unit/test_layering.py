"""The architecture rule: ui -> services -> forms, models; only app/ui imports Qt."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"

FORBIDDEN = {
    # package: imports it must never make
    "services": ("PySide6", "shiboken6", "app.ui", "app.cli", "app.commands", "app.runtime"),
    "forms": ("PySide6", "shiboken6", "app.ui", "app.services", "app.models", "sqlalchemy", "app.runtime"),
    "models": ("PySide6", "shiboken6", "app.ui", "app.services", "app.forms", "app.runtime"),
    "commands": ("PySide6", "shiboken6"),
}
# The UI gets frozen dataclasses from services; it may use the plain enums, never ORM entities.
UI_ALLOWED_MODELS = ("app.models.enums",)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
            names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _violations() -> list[str]:
    found = []
    for path in sorted(APP.rglob("*.py")):
        rel = path.relative_to(APP)
        package = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        for name in _imports(path):
            if package != "ui" and name.split(".")[0] in ("PySide6", "shiboken6"):
                found.append(f"{rel}: imports {name} (only app/ui may import Qt)")
            for prefix in FORBIDDEN.get(package, ()):
                if name == prefix or name.startswith(prefix + "."):
                    found.append(f"{rel}: imports {name} (app/{package} must not depend on {prefix})")
            if package == "ui" and name.startswith("app.models") and name != "app.models" and not name.startswith(
                UI_ALLOWED_MODELS
            ):
                found.append(f"{rel}: imports {name} (the UI uses service dataclasses, not ORM entities)")
            if package == "ui" and name == "app.models":
                found.append(f"{rel}: imports app.models (import the enums from app.models.enums)")
    return found


def test_layering_rules_hold():
    assert _violations() == []


def test_the_check_catches_a_violation(tmp_path, monkeypatch):
    fake = tmp_path / "app"
    (fake / "services").mkdir(parents=True)
    (fake / "services" / "bad.py").write_text("from PySide6.QtCore import QObject\n")
    monkeypatch.setattr(sys.modules[__name__], "APP", fake)
    assert any("only app/ui may import Qt" in v for v in _violations())


def _module_name(path: Path) -> str:
    parts = ("app", *path.relative_to(APP).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph() -> dict[str, set[str]]:
    """module -> the app modules it imports anywhere (in functions too), except under TYPE_CHECKING."""
    modules = {_module_name(p): p for p in APP.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = {id(n) for node in ast.walk(tree)
                  if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                  for child in node.body for n in ast.walk(child)}
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets.update({node.module, *(f"{node.module}.{alias.name}" for alias in node.names)})
        # A package's own modules import their siblings through it (app.models.x -> app.models): not a circle.
        graph[name] = {t for t in targets if t in modules and t != name and not name.startswith(f"{t}.")}
    return graph


def test_no_import_circles() -> None:
    """Issue 13: modules import in one direction (a circle makes import order matter and hides a layer)."""
    graph = _import_graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2
    for start in sorted(graph):
        if start not in state:
            visit(start, [start])
    assert circles == [], "\n".join(" -> ".join(c) for c in circles)
