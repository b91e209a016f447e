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
