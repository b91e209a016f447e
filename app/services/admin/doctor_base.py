"""What the doctor's checks share: their outcome, the workstation they look at and the run's context."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Engine

from app.models.engine import build_engine

if TYPE_CHECKING:
    from app.services.core.db import Database


class CheckStatus(enum.Enum):
    OK = "ok"
    WARN = "warn"  # works today, but someone should act (no backup for a week, say)
    FAIL = "fail"  # this workstation is not set up correctly: work would fail or be unsafe
    SKIPPED = "skipped"  # cannot be checked because an earlier check failed


@dataclasses.dataclass(frozen=True)
class Workstation:
    """What the checks need to know of this workstation's set-up (from app.runtime, which reads the
    environment)."""

    db_url: str
    display_url: str
    files_root: Path
    key_folder: Path
    name: str


def workstation_of(db: Database) -> Workstation:
    """The set-up of the workstation running ``db`` (the desktop app checks the database it has open)."""
    assert db.keys is not None
    return Workstation(db_url=db.engine.url.render_as_string(hide_password=False), display_url=db.display_url,
                       files_root=db.files.root, key_folder=db.keys.folder, name=db.workstation)


@dataclasses.dataclass
class Context:
    """Shared by the checks of one run: the engine once reachable, the site once known."""

    workstation: Workstation
    local_now: Callable[[], dt.datetime]
    engine: Engine | None = None
    schema_current: bool = False
    site_code: str | None = None


def connect(ctx: Context) -> Engine:
    """An engine that gives up after a few seconds: a doctor that hangs on an unreachable server is no help."""
    url = ctx.workstation.db_url
    if url.startswith("postgresql"):
        return build_engine(url, connect_args={"connect_timeout": 5})
    return build_engine(url)
