"""Qualification records for tests (AC-07): signing and verifying values need identity verification, the signed
accountability statement and current training on record. ``qualify`` gives a user all of them.

With ``by`` (a QA actor other than the user) the records go through the service, as QA records them; without,
they are written as the test set-up (an audited transaction attributed to SYSTEM), for tests whose site has no
second QA person."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import select

from app.models import Setting, User
from app.models.stations import Qualification, QualificationKind, TrainedActivity
from app.runtime import RuntimeConfig, default_db_url, open_database
from app.services.core.db import Actor, Database
from app.services.identity import auth, training, workstations
from tests.helpers.cli import CliRunner

if TYPE_CHECKING:
    from tests.helpers.seed import Seed  # which imports this module

ACTIVITIES = (TrainedActivity.SIGNING, TrainedActivity.VERIFYING)
SETUP = Actor.system("training records (test set-up)")
SEED_PASSWORD = "Corr3ct-Horse!"  # tests/helpers/seed.py PASSWORD (not imported: seed imports this module)


def qualify(db: Database, username: str, *, by: Actor | None = None,
            activities: tuple[TrainedActivity, ...] = ACTIVITIES, completed_on: dt.date | None = None,
            expires_on: dt.date | None = None) -> None:
    """Record identity verification, the accountability statement and training for ``activities``."""
    done = completed_on or db.clock.now().date() - dt.timedelta(days=1)
    wanted: list[tuple[QualificationKind, TrainedActivity | None, str]] = [
        (QualificationKind.IDENTITY_VERIFIED, None, "ID-CHECK"),
        (QualificationKind.ACCOUNTABILITY_SIGNED, None, "SOP-QA-011 letter"),
        *((QualificationKind.TRAINING, a, f"TRN-{a.value}") for a in activities),
    ]
    if by is not None:
        for kind, activity, reference in wanted:
            training.record(db, by, username=username, kind=kind, activity=activity, reference=reference,
                            completed_on=done, expires_on=expires_on)
        return
    qualify_all(db, (username,), wanted=wanted, completed_on=done, expires_on=expires_on)


def qualify_all(db: Database, usernames: tuple[str, ...], *,
                wanted: list[tuple[QualificationKind, TrainedActivity | None, str]] | None = None,
                completed_on: dt.date | None = None, expires_on: dt.date | None = None) -> None:
    """Qualify several users in one transaction of the test set-up (the seed: one write, not dozens). Completed
    long ago by default: tests move their clock back (to 2025) and still sign."""
    done = completed_on or dt.date(2000, 1, 3)
    wanted = wanted or [(QualificationKind.IDENTITY_VERIFIED, None, "ID-CHECK"),
                        (QualificationKind.ACCOUNTABILITY_SIGNED, None, "SOP-QA-011 letter"),
                        *((QualificationKind.TRAINING, a, f"TRN-{a.value}") for a in ACTIVITIES)]
    with db.write(SETUP, reason="qualification recorded (test set-up)") as session:
        for user in session.scalars(select(User).where(User.username.in_(usernames)).order_by(User.id)):
            for kind, activity, reference in wanted:
                session.add(Qualification(user_id=user.id, username=user.username, kind=kind, activity=activity,
                                          reference=reference, completed_on=done, expires_on=expires_on,
                                          recorded_at=db.clock.now(), recorded_by=SETUP.username))


def qualify_cli(runner: CliRunner, usernames: tuple[str, ...]) -> None:
    """Qualify users of a site the CLI tests set up (through its database, as the test set-up): recording four
    records per user with `formtrail training record` would start dozens of processes."""
    config = RuntimeConfig(home=runner.home, db_url=runner.env.get("FORMTRAIL_DB") or default_db_url(runner.home),
                           workstation=runner.env["FORMTRAIL_WORKSTATION"], hasher_profile="fast")
    db = open_database(config)
    try:
        qualify_all(db, usernames)
    finally:
        db.engine.dispose()


def register_stations(seed: Seed, station_ids: Iterable[str]) -> None:
    """Register workstation processes of a test (each its own station id) the way an administrator does: they
    are seen first (a log-in), then registered under their id as name (AC-08)."""
    for station in dict.fromkeys(station_ids):
        seen = dataclasses.replace(seed.db, workstation=station, host="test-host")
        auth.authenticate(seen, username="admin", password=SEED_PASSWORD)
        workstations.register(seed.db, seed.admin, station=station, name=station)


def set_dormant_days(db: Database, days: int) -> None:
    """access.dormant_days written as the test set-up. The seed turns dormancy off (0): its clock is a fake one
    (March 2026) while worker processes and CLI runs on a seeded site use the real clock, to which every seeded
    account would look months unused. Tests of dormancy set it back (access.dormant_days is GMP-relevant: changed
    through the service it would wait for QA's approval)."""
    with db.write(SETUP, reason="dormant-account period (test set-up)") as session:
        row = session.get(Setting, "access.dormant_days")
        if row is None:
            session.add(Setting(key="access.dormant_days", value=json.dumps(days), changed_at=db.clock.now(),
                                changed_by=SETUP.username))
        else:
            row.value, row.changed_at = json.dumps(days), db.clock.now()
