"""Start-up wiring shared by the CLI and the GUI: where the data lives, which database, which clock.

This is the only place that reads the environment; services get everything as arguments.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
from pathlib import Path

import platformdirs
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app.models.engine import build_engine, normalise_url
from app.models.migrate import needs_upgrade, upgrade
from app.services.admin import doctor
from app.services.core.clock import Clock, database_clock
from app.services.core.db import Database
from app.services.core.errors import FormtrailError
from app.services.core.filestore import FileStore
from app.services.core.keys import KeyStore
from app.services.identity.passwords import PasswordHasher
from app.services.site import key_setup


@dataclasses.dataclass(frozen=True)
class RuntimeConfig:
    home: Path
    db_url: str
    workstation: str  # this installation's station id (AC-08): see station_id()
    hasher_profile: str = "standard"
    files_dir: Path | None = None  # default: <home>/files
    keys_dir: Path | None = None  # default: <home>/keys
    host: str = ""  # the computer's host name, recorded beside the station id

    @property
    def file_store_root(self) -> Path:
        return self.files_dir or self.home / "files"

    @property
    def key_folder(self) -> Path:
        return self.keys_dir or self.home / "keys"

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
    workstation = os.environ.get("FORMTRAIL_WORKSTATION") or station_id(
        Path(os.environ.get("FORMTRAIL_CONFIG_DIR") or platformdirs.user_config_dir("Formtrail", appauthor=False)))
    # The cheap password hashes exist for the test suite only: outside a pytest run they are not honoured.
    profile = os.environ.get("FORMTRAIL_HASH_PROFILE", "standard")
    if profile != "standard" and "PYTEST_CURRENT_TEST" not in os.environ:
        profile = "standard"
    files = os.environ.get("FORMTRAIL_FILES")
    keys = os.environ.get("FORMTRAIL_KEYS")
    return RuntimeConfig(home=home_path, db_url=normalise_url(url), workstation=workstation, hasher_profile=profile,
                         files_dir=Path(files).expanduser() if files else None,
                         keys_dir=Path(keys).expanduser() if keys else None, host=socket.gethostname())


def station_id(config_dir: Path) -> str:
    """This installation's workstation id (AC-08): a random id made at the first start and kept in the user's
    configuration folder (``FORMTRAIL_CONFIG_DIR`` points elsewhere, e.g. in tests). It tells installations apart
    and survives restarts and host renames; being a file, a copy of it makes another computer present the same id
    (app/services/identity/workstations.py says what that means)."""
    path = config_dir.expanduser() / "station-id"
    try:
        found = path.read_text(encoding="utf-8").strip()
    except OSError:
        found = ""
    if found:
        return found[:64]
    made = secrets.token_hex(16)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with open(path, "x", encoding="utf-8") as out:  # another process starting at once may have made it
            out.write(made + "\n")
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()[:64] or made
    return made


def doctor_workstation(config: RuntimeConfig) -> doctor.Workstation:
    """What `formtrail doctor` checks: this workstation's configured database, folders and name."""
    return doctor.Workstation(db_url=config.db_url, display_url=display_url(config.db_url),
                              files_root=config.file_store_root, key_folder=config.key_folder,
                              name=config.workstation)


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


def _private_file(path: Path) -> None:
    """The SQLite file is readable by its owner only (SQLite gives its -wal/-shm files the same mode): other
    accounts on the workstation must not copy the data (SE-04)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    elif path.stat().st_mode & 0o077:
        try:
            path.chmod(0o600)
        except OSError:
            pass  # not ours to change (a shared folder set up by the administrator)


class SchemaBehind(FormtrailError):
    """An existing database needs a schema upgrade, which only an administrator may start."""


def open_database(config: RuntimeConfig, *, migrate: bool = True, clock: Clock | None = None,
                  upgrade_existing: bool = False) -> Database:
    """Open the configured database. An empty one gets its schema (``migrate``); an existing one behind this
    version is only upgraded with ``upgrade_existing`` (`formtrail db upgrade`, an administrator's act)."""
    if config.db_url.startswith("sqlite"):
        db_path = make_url(config.db_url).database
        if db_path and db_path != ":memory:":
            _private_file(Path(db_path))
    config.home.mkdir(parents=True, exist_ok=True)
    engine = build_engine(config.db_url)
    if migrate:
        current, newest = needs_upgrade(engine)
        if current is None:
            upgrade(engine)  # a new, empty database: its schema is created at the first start
        elif current != newest and not upgrade_existing:
            engine.dispose()
            raise SchemaBehind(
                f"the database's schema is at revision {current}; this version of Formtrail needs {newest}. An "
                "administrator upgrades it with `formtrail db upgrade` (after a backup); until then this "
                "version cannot open it.", code="schema-behind")
        elif current != newest:
            upgrade(engine)
    if clock is None:
        clock = database_clock(engine, _tolerance(engine))
    database = Database(
        engine=engine, clock=clock, workstation=config.workstation, host=config.host,
        hasher=PasswordHasher(config.hasher_profile), files=FileStore(config.file_store_root),
        display_url=display_url(config.db_url), keys=KeyStore(config.key_folder),
    )
    if migrate:
        key_setup.adopt_legacy_key(database)  # a site from before keys left the database
    return database
