"""The regulatory checklist the validation pack reports against (REQUIREMENTS.md: one table row per ID, with its
source, requirement and acceptance test), and where an installed build finds it.

The checklist is not part of the application: it is the validation team's reference, kept beside the source
tree (``../shared/REQUIREMENTS.md`` of a checkout). The pack names the file it read and its SHA-256, so a report
says which version of the checklist the build was held against."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from pathlib import Path

import app
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError

REQUIREMENTS_ENV = "FORMTRAIL_REQUIREMENTS"
_ROW = re.compile(r"^\|\s*([A-Z]{2}-\d{2})\s*\|(.*)\|\s*$")
_AREA = re.compile(r"^\|\s*\*\*(.+?)\*\*\s*\|")


@dataclasses.dataclass(frozen=True)
class Requirement:
    rid: str
    area: str
    source: str
    text: str
    acceptance: str


def source_tree() -> Path | None:
    """The checkout this build runs from (the folder holding app/ and tests/), or None for a packaged build."""
    root = Path(app.__file__).resolve().parent.parent
    return root if (root / "tests" / "conftest.py").is_file() else None


def locate(source: Path, explicit: Path | None = None) -> Path:
    """REQUIREMENTS.md: the file named, else $FORMTRAIL_REQUIREMENTS, else docs/ of the source tree, else the
    shared folder beside the checkout."""
    env = os.environ.get(REQUIREMENTS_ENV)
    candidates = ([explicit] if explicit else []) + ([Path(env)] if env else []) + [
        source / "docs" / "REQUIREMENTS.md", source.parent / "shared" / "REQUIREMENTS.md"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
        if candidate is explicit:
            break  # a file named by hand that is not there is an error, not a reason to take another one
    raise ValidationError(
        "the requirements checklist (REQUIREMENTS.md) was not found; looked at "
        + ", ".join(str(c) for c in candidates[: 1 if explicit else None])
        + f"; name it with --requirements FILE or {REQUIREMENTS_ENV}", code=ErrorCode.VALIDATION_CHECKLIST_MISSING)


def parse(text: str) -> tuple[Requirement, ...]:
    """Every ID row of the checklist's table, in its order, under the area row above it."""
    area, found = "", []
    for line in text.splitlines():
        heading = _AREA.match(line)
        if heading:
            area = heading.group(1).strip()
            continue
        row = _ROW.match(line)
        if row:
            cells = [c.strip() for c in row.group(2).split("|")]
            if len(cells) != 3:
                raise ValidationError(f"checklist row {row.group(1)} has {len(cells) + 1} columns, not 4",
                                      code=ErrorCode.VALIDATION_CHECKLIST_MISSING)
            found.append(Requirement(row.group(1), area, *cells))
    return tuple(found)


def load(path: Path) -> tuple[tuple[Requirement, ...], str]:
    """The checklist's items and the SHA-256 of the file they were read from."""
    data = path.read_bytes()
    return parse(data.decode("utf-8")), hashlib.sha256(data).hexdigest()
