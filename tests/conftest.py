"""Shared fixtures: real SQLite files in tmp_path and a real throwaway PostgreSQL server.

Tests that take ``db`` run on SQLite; under tests/integration (or marked ``both_backends``) they run on both
SQLite and PostgreSQL. With FORMTRAIL_REQUIRE_POSTGRES=1 (set by `make test`) a missing server fails the run
instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.models.engine import build_engine
from app.models.migrate import upgrade
from app.runtime import RuntimeConfig, open_database
from app.services.core import server_audit
from app.services.core.db import Database
from tests.helpers.clock import FakeClock
from tests.helpers.postgres import PostgresUnavailable, throwaway_server
from tests.helpers.seed import Seed, seed_site

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("FORMTRAIL_HASH_PROFILE", "fast")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "both_backends: run a test taking `db` on SQLite and PostgreSQL")
    config.addinivalue_line("markers", "sqlite_only: image-heavy integration tests whose database side is "
                                       "covered elsewhere on both backends")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        both = ("integration" in Path(str(metafunc.definition.path)).parts
                or metafunc.definition.get_closest_marker("both_backends"))
        if metafunc.definition.get_closest_marker("sqlite_only"):
            both = False
        metafunc.parametrize("backend", ["sqlite", "postgres"] if both else ["sqlite"], indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    try:
        with throwaway_server() as url:
            yield url
    except (PostgresUnavailable, OSError) as exc:
        if os.environ.get("FORMTRAIL_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL is required for this run and could not be started: {exc}")
        pytest.skip(f"PostgreSQL not available: {exc}")


@pytest.fixture(scope="session")
def pg_template(pg_server: str) -> str:
    """A database with the schema already migrated, cloned per test (much faster than migrating each)."""
    name = f"ft_template_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = build_engine(pg_server.rsplit("/", 1)[0] + f"/{name}")
    upgrade(engine)
    engine.dispose()
    return name


def new_pg_database(pg_server: str, template: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(pg_server: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'formtrail.db'}"
        return
    server = request.getfixturevalue("pg_server")
    url = new_pg_database(server, request.getfixturevalue("pg_template"))
    yield url
    try:
        if request.node.get_closest_marker("direct_sql") is None:
            _assert_every_write_was_audited(url)
    finally:
        drop_pg_database(server, url)


def _assert_every_write_was_audited(url: str) -> None:
    """Whatever a test did through the application, the PostgreSQL server trail must account for every write to
    controlled data by an audited transaction (tests that write SQL behind the application's back are marked)."""
    engine = build_engine(url)
    try:
        changes, total = server_audit.direct_changes(engine, limit=3)
    finally:
        engine.dispose()
    assert total == 0, f"{total} writes to controlled data outside an audited transaction, e.g. {changes}"


@pytest.fixture
def runtime_config(db_url: str, tmp_path: Path) -> RuntimeConfig:
    return RuntimeConfig(home=tmp_path / "home", db_url=db_url, workstation="TEST-WS-01", hasher_profile="fast")


@pytest.fixture
def db(runtime_config: RuntimeConfig, clock: FakeClock) -> Iterator[Database]:
    database = open_database(runtime_config, clock=clock)
    yield database
    database.engine.dispose()


@pytest.fixture
def seed(db: Database) -> Seed:
    """A set-up site with one user per role, each with a permanent password (see tests/helpers/seed.py)."""
    return seed_site(db)
