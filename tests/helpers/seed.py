"""A set-up site with one user per role: the starting point of most service and UI tests."""

from __future__ import annotations

import dataclasses

from app.models import Role
from app.services.core.db import Actor, Database
from app.services.identity import auth, users
from app.services.site import setup
from tests.helpers.training import qualify_all, set_dormant_days

SITE = "BSL-01"
PASSWORD = "Corr3ct-Horse!"  # every seeded user's permanent password
TEMP_PASSWORD = "Temp0rary-Pw!"
ROLES = {
    "admin": ("Ada Admin", Role.ADMINISTRATOR),
    "dc": ("Dora Control", Role.DOCUMENT_CONTROL),
    "qa": ("Quinn Müller", Role.QA),
    "qa2": ("Quentin Øster", Role.QA),
    "op": ("Otto Operator", Role.OPERATOR),
    "op2": ("Olga Operator", Role.OPERATOR),
    "viewer": ("Vera Viewer", Role.VIEWER),
}


@dataclasses.dataclass(frozen=True)
class Seed:
    db: Database
    actors: dict[str, Actor]

    def __getattr__(self, name: str) -> Actor:
        try:
            return self.actors[name]
        except KeyError:
            raise AttributeError(name) from None


def seed_site(db: Database, *, names: tuple[str, ...] = tuple(ROLES)) -> Seed:
    setup.initialise(db, site_code=SITE, site_name="Basel QC", admin_username="admin",
                     admin_full_name=ROLES["admin"][0], admin_password=PASSWORD)
    admin = auth.authenticate(db, username="admin", password=PASSWORD).actor
    set_dormant_days(db, 0)  # see there: the seed's fake clock and real-clock processes
    return Seed(db=db, actors={"admin": admin, **add_users(db, admin, tuple(n for n in names if n != "admin"))})


def add_users(db: Database, admin: Actor, names: tuple[str, ...]) -> dict[str, Actor]:
    """Users of the seeded roles, each past the first log-in with the permanent PASSWORD."""
    actors = {}
    for name in names:
        full_name, role = ROLES[name]
        users.create_user(db, admin, username=name, full_name=full_name, roles=[role],
                          temporary_password=TEMP_PASSWORD)
        first = auth.authenticate(db, username=name, password=TEMP_PASSWORD).actor
        auth.change_own_password(db, first, current_password=TEMP_PASSWORD, new_password=PASSWORD)
        actors[name] = auth.authenticate(db, username=name, password=PASSWORD).actor
    # Signing and verifying need qualification records (AC-07): every seeded GMP user has them, written in one
    # transaction of the test set-up (tests/helpers/training.py; tests of the recording itself use the service).
    gmp = tuple(n for n in names if ROLES[n][1] is not Role.ADMINISTRATOR)
    if gmp:
        qualify_all(db, gmp)
    return actors
