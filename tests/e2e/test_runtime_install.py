"""The runtime install alone starts the app: a throwaway virtual environment holding only the runtime
dependencies of pyproject.toml (no test extras) imports every module of ``app`` and shows the set-up wizard.

CI installs the test extras, so without this a package that only the tests bring in (numpy once) would pass
CI and fail on a user's first ``make run``. The environment is a real venv whose site-packages links the
already-installed distributions of the runtime closure only (no network, a second or two); what is not in
that closure is simply not importable there.
"""

from __future__ import annotations

import ast
import importlib.metadata as md
import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
# Import names that differ from their distribution's name.
IMPORT_TO_DIST = {"PIL": "pillow", "yaml": "pyyaml", "zxingcpp": "zxing-cpp", "argon2": "argon2-cffi",
                  "PySide6": "pyside6-essentials", "shiboken6": "shiboken6", "sqlalchemy": "sqlalchemy"}


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def runtime_closure() -> set[str]:
    """Canonical names of the distributions the runtime dependencies need, transitively, as installed here."""
    seen: set[str] = set()
    todo = list(runtime_requirements())
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen:
            continue
        seen.add(name)
        extras = req.extras or {""}
        for spec in md.distribution(name).requires or []:
            sub = Requirement(spec)
            if sub.marker is None or any(sub.marker.evaluate({"extra": extra}) for extra in extras):
                todo.append(sub)
    return seen


def third_party_imports() -> set[str]:
    """Top-level names of every non-standard-library module imported anywhere in ``app``."""
    found: set[str] = set()
    for path in (ROOT / "app").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name != "app"}


def test_every_import_of_app_is_a_declared_runtime_dependency() -> None:
    closure = runtime_closure()
    missing = sorted(name for name in third_party_imports()
                     if canonicalize_name(IMPORT_TO_DIST.get(name, name)) not in closure)
    assert missing == [], f"imported by app/ but not a runtime dependency in pyproject.toml: {missing}"


def _link_distribution(dist: md.Distribution, site: Path) -> None:
    source = Path(str(dist.locate_file("")))
    tops = {Path(str(f)).parts[0] for f in dist.files or []}
    for top in tops:
        if top in ("..", "__pycache__") or top.endswith(".pth"):
            continue  # scripts outside site-packages; another project's path hooks
        target = site / top
        if not target.exists() and (source / top).exists():
            target.symlink_to(source / top)


def make_runtime_venv(where: Path) -> Path:
    """A venv with the runtime closure and the project (by path, as the editable install does)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    site = Path(purelib)
    for name in runtime_closure():
        _link_distribution(md.distribution(name), site)
    (site / "formtrail-src.pth").write_text(f"{ROOT}\n", encoding="utf-8")
    return python


@pytest.fixture(scope="module")
def runtime_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_runtime_venv(tmp_path_factory.mktemp("runtime") / "venv")


def _clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FORMTRAIL_", "PYTHON"))}
    env.update(QT_QPA_PLATFORM="offscreen", FORMTRAIL_HOME=str(home))
    return env


def test_the_runtime_venv_holds_no_test_extra(runtime_python: Path, tmp_path: Path) -> None:
    # Guards the test itself: if the test extras leaked in, the checks below would prove nothing.
    probe = "import importlib.util as u; print([m for m in ('pytest', 'hypothesis', 'pytestqt') if u.find_spec(m)])"
    out = subprocess.run([str(runtime_python), "-c", probe], capture_output=True, text=True, check=True,
                         env=_clean_env(tmp_path), cwd=tmp_path)
    assert out.stdout.strip() == "[]"
    assert sysconfig.get_paths()["purelib"] not in out.stdout


def test_runtime_install_imports_every_module(runtime_python: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(runtime_python), "-m", "app.importcheck"], capture_output=True, text=True,
                            env=_clean_env(tmp_path), cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "modules of app import" in result.stdout


def test_runtime_install_starts_the_desktop_app_at_the_setup_wizard(runtime_python: Path, tmp_path: Path) -> None:
    result = subprocess.run([str(runtime_python), "-m", "app", "gui", "--smoke-test"], capture_output=True,
                            text=True, env=_clean_env(tmp_path / "fresh-home"), cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "wizard window shown" in result.stdout


def test_a_missing_runtime_dependency_is_caught(tmp_path: Path) -> None:
    """The check fails when the code imports something the runtime venv lacks (as numpy once was)."""
    python = make_runtime_venv(tmp_path / "venv")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "numpy").unlink()
    result = subprocess.run([str(python), "-m", "app.importcheck"], capture_output=True, text=True,
                            env=_clean_env(tmp_path), cwd=tmp_path, timeout=300)
    assert result.returncode == 1
    assert "app.forms.scan.scan_decode" in result.stderr and "numpy" in result.stderr
