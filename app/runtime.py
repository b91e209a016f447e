"""Start-up wiring shared by the CLI and the GUI: where the data lives, which database, which clock.

This is the only place that reads the environment; services get everything as arguments.
"""

from __future__ import annotations

import dataclasses
import os
import socket
from pathlib import Path

import platformdirs
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app.models.engine import build_engine, normalise_url
from app.models.migrate import upgrade
from app.services.clock import Clock, database_clock
from app.services.db import Database
from app.services.filestore import FileStore
from app.services.passwords import PasswordHasher


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    home: Path
    db_url: str
    workstation: str
    hasher_profile: str = "standard"
    files_dir: Path | None = None  # default: <home>/files

    @property
    def file_store_root(self) -> Path:
        return self.files_dir or self.home / "files"

    @property
    def is_default_db(self) -> bool:
        return self.db_url == default_db_url(self.home)


def default_home() -> Path:
    return Path(platformdirs.user_data_dir("Formtrail", appauthor=False))


def default_db_url(home: Path) -> str:
    return f"sqlite:///{(home / 'formtrail.db').resolve()}"


def resolve_config(*, home: str | Path | None = None, db: str | None = None) -> RuntimeConfig:
    """Command-line options win over the environment, which wins over the defaults."""
    home_path = Path(home or os.environ.get("FORMTRAIL_HOME") or default_home()).expanduser()
    url = db or os.environ.get("FORMTRAIL_DB") or default_db_url(home_path)
    workstation = os.environ.get("FORMTRAIL_WORKSTATION") or socket.gethostname()
    profile = os.environ.get("FORMTRAIL_HASH_PROFILE", "standard")
    files = os.environ.get("FORMTRAIL_FILES")
    return RuntimeConfig(home=home_path, db_url=normalise_url(url), workstation=workstation, hasher_profile=profile,
                         files_dir=Path(files).expanduser() if files else None)


def display_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.render_as_string(hide_password=True)


def _tolerance(engine: Engine) -> float:
    with engine.connect() as conn:
        try:
            row = conn.execute(text("SELECT value FROM setting WHERE key = 'clock.tolerance_seconds'")).first()
        except Exception:  # noqa: BLE001 - a database older than the settings table uses the default
            return 60.0
    return float(row[0]) if row else 60.0


def open_database(config: RuntimeConfig, *, migrate: bool = True, clock: Clock | None = None) -> Database:
    """Open (and by default migrate) the configured database."""
    if config.db_url.startswith("sqlite"):
        db_path = make_url(config.db_url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
    config.home.mkdir(parents=True, exist_ok=True)
    engine = build_engine(config.db_url)
    if migrate:
        upgrade(engine)
    if clock is None:
        clock = database_clock(engine, _tolerance(engine))
    return Database(
        engine=engine, clock=clock, workstation=config.workstation,
        hasher=PasswordHasher(config.hasher_profile), files=FileStore(config.file_store_root),
        display_url=display_url(config.db_url),
    )
