"""Fixtures for the PostgreSQL site server: a database set up the way `formtrail db init` sets one up."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.services.site import site_db


@pytest.fixture
def site_server(pg_server):
    """A fresh, empty database set up with `db init` (roles are per cluster, so names are unique per test)."""
    name = f"site_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = pg_server.rsplit("/", 1)[0] + f"/{name}"
    suffix = uuid.uuid4().hex[:6]
    info = site_db.init_site_database(url, owner_role=f"ft_owner_{suffix}", app_role=f"ft_app_{suffix}",
                                      app_password="app-secret-123")
    app_url = make_url(url).set(username=info.app_role, password="app-secret-123").render_as_string(
        hide_password=False)
    return url, app_url, info
