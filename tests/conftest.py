"""Shared fixtures: real SQLite files in tmp_path and a real throwaway PostgreSQL server.

Tests that take ``db`` run on SQLite; under tests/integration (or marked ``both_backends``) they run on both
SQLite and PostgreSQL. With FORMTRAIL_REQUIRE_POSTGRES=1 (set by `make test`) a missing server fails the run
instead of skipping.
"""

from __future__ import annotations

import json
import os
import re
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


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--compliance-map", metavar="FILE", default=None,
                     help="write {node id: [requirement IDs]} of the collected compliance tests to FILE (JSON)")


# The checklist's areas (REQUIREMENTS.md): a test named test_<area><nn>_... (test_ac01_, test_pr01_es01_...)
# proves that item, so the name alone tags it; `-m compliance` and the validation pack then find it.
AREAS = ("ac", "at", "es", "rc", "bf", "sc", "tm", "bk", "pr", "se")
_NAMED = re.compile(rf"^test_?((?:(?:{'|'.join(AREAS)})\d{{2}}_?)+)", re.IGNORECASE)
_ONE = re.compile(rf"({'|'.join(AREAS)})(\d{{2}})", re.IGNORECASE)
REQUIREMENT_ID = re.compile(rf"^({'|'.join(AREAS)})-\d{{2}}$", re.IGNORECASE)


def requirement_ids(name: str) -> list[str]:
    """The checklist IDs a test, class or module name starts with: "test_pr01_es01_x" -> ["PR-01", "ES-01"]."""
    found = _NAMED.match(name)
    if not found:
        return []
    return [f"{area.upper()}-{number}" for area, number in _ONE.findall(found.group(1))]


def _item_requirements(item: pytest.Item) -> list[str]:
    names = [item.name.split("[", 1)[0]]
    owner = getattr(item, "cls", None)  # a test function's class; other items (doctests) have none
    if owner is not None:
        names.append(owner.__name__)
    names.append(Path(str(item.path)).stem)
    ids = [rid for name in names for rid in requirement_ids(name)]
    for mark in item.iter_markers("compliance"):
        for arg in mark.args:
            if not isinstance(arg, str) or not REQUIREMENT_ID.match(arg):
                raise pytest.UsageError(f"{item.nodeid}: @pytest.mark.compliance takes checklist IDs such as "
                                        f"'RC-07', not {arg!r}")
            ids.append(arg.upper())
    return list(dict.fromkeys(ids))


@pytest.hookimpl(tryfirst=True)  # before `-m compliance` deselects: the marker added here must count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tag every test that proves a checklist item: named test_<id>_... (or in such a class or module), or
    marked @pytest.mark.compliance("RC-07", ...). The IDs go into user_properties ("requirements"), which the
    JUnit XML carries, so a report can say which requirement each result proves."""
    found: dict[str, list[str]] = {}
    for item in items:
        ids = _item_requirements(item)
        if ids and item.get_closest_marker("compliance") is None:
            item.add_marker(pytest.mark.compliance(*ids))
        if item.get_closest_marker("compliance") is not None:
            item.user_properties.append(("requirements", " ".join(ids)))
            found[item.nodeid] = ids
    target = config.getoption("--compliance-map", default=None)
    if target:  # each xdist worker collects and writes the same map: replace it whole, never half-written
        partial = Path(f"{target}.{os.getpid()}.tmp")
        partial.write_text(json.dumps(found, indent=1), encoding="utf-8")
        os.replace(partial, target)


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
