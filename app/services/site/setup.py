"""First run: the site and its first administrator."""

from __future__ import annotations

import dataclasses
import re

from sqlalchemy import select

from app.models import Role, SerialCounter, Site
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, NotInitialised, ValidationError
from app.services.core.keys import KEYRING_KEY
from app.services.identity import workstations
from app.services.identity.users import new_user
from app.services.site import key_setup

SITE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,15}$")
SITE_NAME_MAX = 200  # the column's length


@dataclasses.dataclass(frozen=True)
class SiteInfo:
    code: str
    name: str

    @property
    def label(self) -> str:
        """"Basel QC laboratory (BSL-01)"; just the code for a site whose name is its code (made before the
        name was required), so the code is never shown twice."""
        return site_label(self.code, self.name)


def site_label(code: str, name: str | None) -> str:
    """As ``app.forms.render.render.site_line`` prints it on paper (not imported: it loads the PDF library)."""
    name = (name or "").strip()
    return f"{name} ({code})" if name and name != code else code


def site_info(db: Database) -> SiteInfo | None:
    with db.read() as session:
        site = session.scalar(select(Site))
        return SiteInfo(code=site.code, name=site.name) if site else None


def require_site(db: Database) -> SiteInfo:
    info = site_info(db)
    if info is None:
        raise NotInitialised("this database has no site yet: run `formtrail init --site CODE --site-name NAME "
                             "--admin NAME` or start the desktop app to run the set-up wizard")
    return info


def initialise(
    db: Database, *, site_code: str, site_name: str, admin_username: str, admin_full_name: str, admin_password: str
) -> SiteInfo:
    """Create the site (with its secret QR key) and the first administrator, who chose the password."""
    code = site_code.strip().upper()
    if not SITE_CODE_RE.match(code):
        raise ValidationError("the site code is 2-16 capital letters, digits or '-', e.g. BSL-01; it is printed "
                              "on every form and inside every QR code")
    name = checked_site_name(site_name, code=code)
    installer = Actor.system("formtrail set-up")
    with db.read() as session:
        if session.scalar(select(Site)) is not None:
            raise DomainError("this database is already set up; it has a site and an administrator")
    ring = key_setup.create_for_new_site(db, code)  # before the first audit event, which it keys
    with db.write(installer, reason="first-run set-up") as session:
        session.info[KEYRING_KEY] = lambda: ring
        if session.scalar(select(Site)) is not None:
            raise DomainError("this database is already set up; it has a site and an administrator")
        # The station running the set-up is registered by it (AC-08): the set-up's own events already name it.
        station = workstations.own_station_name(session, db)
        now = db.clock.now()
        # The QR key lives in the key file; the column is kept empty (it held the key before).
        site = Site(code=code, name=name, qr_key="", created_at=now)
        session.add(site)
        session.flush()
        session.add(SerialCounter(site_id=site.id, next_serial=1))
        new_user(
            session, db.hasher, username=admin_username, full_name=admin_full_name, roles=[Role.ADMINISTRATOR],
            password=admin_password, temporary=False, granted_by=installer.username, now=now,
        )
        audit.record_event(session, "SYSTEM_INIT", entity="site", entity_id=code,
                           new={"keys": str(db.keys.path(code)) if db.keys else None})
        workstations.register_own_station(session, db, name=station, by=installer.username)
    return SiteInfo(code=code, name=name)


def checked_site_name(site_name: str | None, *, code: str) -> str:
    """The site's name, printed on every form beside the code: required (a form that names its site only by a
    code tells a reader or an inspector little), and not the code again."""
    name = (site_name or "").strip()
    if not name or name.casefold() == code.casefold():
        raise ValidationError("the site needs a name, printed on every form beside its code, e.g. "
                              "'Basel QC laboratory'", code=ErrorCode.SITE_NAME_REQUIRED)
    if len(name) > SITE_NAME_MAX:
        raise ValidationError(f"the site name is {len(name)} characters long; at most {SITE_NAME_MAX} are allowed",
                              code=ErrorCode.TEXT_TOO_LONG)
    return name
