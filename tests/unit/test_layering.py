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
# The service packages, lowest first: a package imports only the packages before it (and itself).
SERVICE_ORDER = ("core", "identity", "site", "templates", "issuance", "scans", "records", "reconciliation", "admin",
                 "reports", "integrity")
# The same for the UI (pages never reach into the shell that hosts them) and the paper side.
UI_ORDER = ("kit", "pages", "shell")
FORMS_ORDER = ("layout", "render", "scan")


def _imports(path: Path, *, runtime_only: bool = False) -> list[str]:
    """The modules (and module.name) ``path`` imports; ``runtime_only`` leaves out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    hidden = {id(n) for node in ast.walk(tree)
              if runtime_only and isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
              for child in node.body for n in ast.walk(child)}
    names: list[str] = []
    for node in ast.walk(tree):
        if id(node) in hidden:
            continue
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
            if package == "ui" and (name == "app.models" or name.startswith("app.models.")):
                found.append(f"{rel}: imports {name} (the UI uses service dataclasses and app.enums, never app.models)")
    return found


def _order_violations(area: str, order: tuple[str, ...]) -> list[str]:
    """Modules of app/<area>/<package>/ that import a package of ``area`` placed after their own in ``order``."""
    found = []
    root = APP / area
    prefix = "app." + area.replace("/", ".") + "."
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            continue
        own = parts[0]
        if own not in order:
            found.append(f"{path.relative_to(APP)}: package {own!r} has no place in the order {order}")
            continue
        for name in _imports(path, runtime_only=True):
            if not name.startswith(prefix):
                continue
            other = name[len(prefix):].split(".")[0]
            if other in order and order.index(other) > order.index(own):
                found.append(f"{path.relative_to(APP)}: imports {name} ({area}/{own} sits below {area}/{other})")
    return found


def test_feature_packages_import_only_downwards() -> None:
    """Issue 13: the features are packages in one order; a lower package never imports a higher one."""
    assert _order_violations("services", SERVICE_ORDER) == []
    assert _order_violations("ui", UI_ORDER) == []
    assert _order_violations("forms", FORMS_ORDER) == []


def test_the_order_check_catches_an_upward_import(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "app"
    (fake / "services" / "core").mkdir(parents=True)
    (fake / "services" / "core" / "db.py").write_text("from app.services.records import records\n")
    monkeypatch.setattr(sys.modules[__name__], "APP", fake)
    assert _order_violations("services", SERVICE_ORDER) == [
        "services/core/db.py: imports app.services.records (services/core sits below services/records)",
        "services/core/db.py: imports app.services.records.records (services/core sits below services/records)",
    ]


def _private_reaches(path: Path) -> list[str]:
    """``from app.x import _name`` and ``module._name`` on an imported app module: another module's insides."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("app"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    found.append(f"imports {node.module}.{alias.name}")
                if (APP.parent / node.module.replace(".", "/") / f"{alias.name}.py").exists():
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(alias.asname for alias in node.names if alias.asname and alias.name.startswith("app."))
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"uses {node.value.id}.{node.attr}")
    return found


def test_no_module_reaches_into_another_modules_insides() -> None:
    """Issue 13: a leading underscore means "this module's own"; other modules use what it offers."""
    found = [f"{path.relative_to(APP)}: {what}" for path in sorted(APP.rglob("*.py"))
             if "migrations" not in path.parts for what in _private_reaches(path)]
    assert found == []


def test_the_private_check_catches_a_reach(tmp_path, monkeypatch) -> None:
    fake = tmp_path / "app"
    (fake / "services" / "core").mkdir(parents=True)
    (fake / "services" / "core" / "audit.py").write_text("def _entity(): ...\n")
    bad = fake / "services" / "core" / "consistency.py"
    bad.write_text("from app.services.core import audit\nfrom app.services.core.audit import _entity\naudit._entity()\n")
    monkeypatch.setattr(sys.modules[__name__], "APP", fake)
    assert _private_reaches(bad) == ["imports app.services.core.audit._entity", "uses audit._entity"]


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
