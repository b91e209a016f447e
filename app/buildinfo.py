"""Which build of Formtrail is running (SE-02): the version, the build (the git commit it was made from) and a
hash of the application's own source files.

An inspector holding a printed report must be able to tell which software made it, so every report footer,
``formtrail --version``, the About box and the validation pack name the same three things. The commit comes
from a file written when the app is installed or packaged (``write_build_file``), else from git when run from a
checkout; the source hash is always computed from the ``app`` package's ``.py`` files, so a build whose code was
changed after packaging (or a checkout with uncommitted edits) does not pass for the commit it names.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import subprocess
from pathlib import Path

import app

PACKAGE = Path(__file__).resolve().parent
BUILD_FILE = PACKAGE / "_build.json"  # written by `python -m app.buildinfo --write` at install/dist time
GIT_TIMEOUT_S = 5


@dataclasses.dataclass(frozen=True)
class BuildInfo:
    version: str  # "0.1.0"
    commit: str  # the git commit (full), or "" when neither a build file nor git says
    source_hash: str  # SHA-256 over the app's source files (names and contents), hex
    origin: str  # where the commit came from: "build file", "git checkout", "none"
    modified: bool = False  # a git checkout with uncommitted changes to app/

    @property
    def build(self) -> str:
        """The short build name printed everywhere: the commit, else the source hash."""
        if self.commit:
            return self.commit[:12] + ("+modified" if self.modified else "")
        return f"src-{self.source_hash[:12]}"

    @property
    def text(self) -> str:
        """"0.1.0 build 5106447abcde src 1a2b3c4d5e6f": what footers and ``--version`` show."""
        return f"{self.version} build {self.build} src {self.source_hash[:12]}"

    def as_dict(self) -> dict[str, object]:
        return {"version": self.version, "commit": self.commit, "source_hash": self.source_hash,
                "origin": self.origin, "modified": self.modified, "build": self.build}


def source_hash(package: Path = PACKAGE) -> str:
    """SHA-256 over every ``.py`` file of the package: its relative name, a NUL, its bytes, a NUL, in name order."""
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=PACKAGE.parent, capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _from_build_file(path: Path) -> tuple[str, bool] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    commit = data.get("commit")
    return (str(commit), bool(data.get("modified"))) if commit else None


def _from_git() -> tuple[str, bool] | None:
    if not (PACKAGE.parent / ".git").exists():
        return None  # an installed copy inside some other repository must not take that one's commit
    commit = _git("rev-parse", "HEAD")
    if not commit:
        return None
    status = _git("status", "--porcelain", "--", "app")
    return commit, bool(status)


@functools.cache
def current() -> BuildInfo:
    """This process's build (computed once: the files do not change under a running app)."""
    src = source_hash()
    found = _from_build_file(BUILD_FILE)
    if found is not None:
        return BuildInfo(app.__version__, found[0], src, "build file", found[1])
    found = _from_git()
    if found is not None:
        return BuildInfo(app.__version__, found[0], src, "git checkout", found[1])
    return BuildInfo(app.__version__, "", src, "none")


def text() -> str:
    return current().text


def write_build_file(path: Path = BUILD_FILE) -> BuildInfo:
    """Record the checkout's commit beside the package (run by the installer / PyInstaller build from a
    checkout), so an installed copy without git still names its commit."""
    found = _from_git()
    if found is None:
        raise RuntimeError("not a git checkout: cannot record the build's commit")
    path.write_text(json.dumps({"version": app.__version__, "commit": found[0], "modified": found[1],
                                "source_hash": source_hash()}, indent=1), encoding="utf-8")
    current.cache_clear()
    return current()


if __name__ == "__main__":  # pragma: no cover - used by the packaging scripts
    import sys
    info = write_build_file() if "--write" in sys.argv else current()
    print(json.dumps(info.as_dict(), indent=1))
