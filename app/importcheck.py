"""Import every module of the ``app`` package: proves an installation has everything the code needs.

Run after ``pip install`` (the Makefile does, before it writes its install stamp) and by the runtime-install
test in a virtual environment that holds the runtime dependencies only, so a package that only the test
extras bring in fails here and not on a user's first start."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback

import app


def module_names() -> list[str]:
    """Every module and package under ``app``, sorted."""
    names = {app.__name__}
    for info in pkgutil.walk_packages(app.__path__, prefix=f"{app.__name__}."):
        # Alembic's migration scripts are loaded by Alembic with its context set up, not imported; __main__
        # would start the program.
        if ".migrations" not in info.name and not info.name.endswith(".__main__"):
            names.add(info.name)
    return sorted(names)


def failures() -> dict[str, str]:
    """Module name -> the import error's last line, for every module that cannot be imported."""
    failed: dict[str, str] = {}
    for name in module_names():
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - any import failure is a finding
            failed[name] = "".join(traceback.format_exception_only(exc)).strip()
    return failed


def main() -> int:
    failed = failures()
    for name, why in failed.items():
        print(f"cannot import {name}: {why}", file=sys.stderr)
    if failed:
        print("This installation is incomplete: a package the code imports is missing from the runtime "
              "dependencies in pyproject.toml.", file=sys.stderr)
        return 1
    print(f"all {len(module_names())} modules of app import")
    return 0


if __name__ == "__main__":
    sys.exit(main())
