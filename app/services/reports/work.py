"""What each person has to do next, for Home: counts of the work their roles allow, each the size of a list a
page opens, and the first steps of a new site.

Which counts a person sees is decided here, from the permissions they hold now (never by a screen), and each
count is of what *they* may do: true copies whose scans they did not import, records they took no part in,
drafts they wrote, templates they did not author. ``members`` gives the rows behind one count (serials, codes),
so the page a tile opens can show exactly what was counted. Counting reads the rows of this module in one read
transaction (no query per row); the issuances' accounting comes from ``reconciliation.list_issuances``, where
the rule of a replaced sheet lives, and the newest backup from ``backup.last_backup``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

from sqlalchemy import String, cast, func, literal, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Entry,
    FormState,
    Issuance,
    IssuanceState,
    IssuedForm,
    PaperFinding,
    PaperFindingStatus,
    Record,
    RecordState,
    Role,
    RoleGrant,
    ScanOutcome,
    ScanPage,
    ScanSource,
    Signature,
    SignatureMeaning,
    Template,
    TemplateStatus,
    TemplateVersion,
    User,
    UserStatus,
)
from app.models.incidents import Incident, IncidentStatus
from app.services.admin import backup, schedule
from app.services.admin.schedule import ScheduleStatus
from app.services.core import setting_specs
from app.services.core.db import Actor, Database
from app.services.core.errors import NotFound
from app.services.identity.permissions import Permission, allowed, current_roles, permissions_of, require
from app.services.issuance.register import today
from app.services.reconciliation import reconciliation
from app.services.reconciliation.reconciliation import IssuanceSummary
from app.services.reports import reviews
from app.services.reports.reviews import ReviewDue
from app.services.scans.paper_views import RESOLVER
from app.services.scans.scans import OPEN_EXCEPTIONS
from app.services.templates import templates

P = Permission
M = SignatureMeaning
DUE_SOON = "issuance.due_soon_days"
BACKUP_FOLDER = "backup.folder"


@dataclasses.dataclass(frozen=True)
class WorkCount:
    """One count of Home: ``count`` things the actor may do, listed by page ``page`` under ``filter``."""

    key: str
    title: str
    count: int
    explanation: str
    page: str  # the page key that lists them
    filter: str  # the name that page's show_filter takes
    tone: str  # "alert", "warn", "good" or "plain": how a count above zero is shown


@dataclasses.dataclass(frozen=True)
class Worklist:
    items: tuple[WorkCount, ...]
    last_backup: tuple[str, dt.datetime, str] | None  # ("BACKUP" or "BACKUP_FAILED", when, where)
    may_back_up: bool
    backup_folder: str  # the configured folder (setting backup.folder); "" when none is set
    # BK-02: what the headless schedule last did and when it is next due; the periodic reviews' due dates.
    schedule: ScheduleStatus | None = None
    reviews: tuple[ReviewDue, ...] = ()
    may_restore: bool = False  # BK-03: the actor may restore a backup in place (with a second person's approval)

    def item(self, key: str) -> WorkCount | None:
        return next((i for i in self.items if i.key == key), None)


class _Reader:
    """The queries behind the counts, for one actor in one read session."""

    def __init__(self, db: Database, session: Session, actor: Actor) -> None:
        self.db, self.session, self.actor = db, session, actor
        self.uid = actor.user_id
        self._issuances: list[IssuanceSummary] | None = None

    def issuances(self) -> list[IssuanceSummary]:
        """The open issuances with their accounting, read once however many counts use them."""
        if self._issuances is None:
            self._issuances = reconciliation.list_issuances(self.db, self.actor, only_open=True)
        return self._issuances

    def ids(self, query: Any) -> list[Any]:
        return list(self.session.scalars(query).all())


def _signed_otherwise(activity: Any, uid: int | None, meaning: SignatureMeaning) -> Any:
    """The actor signed ``activity`` with another meaning: the same person never signs two roles of one
    activity (``signatures.signer_refusal``)."""
    return select(Signature.id).where(Signature.activity == activity, Signature.signer_id == uid,
                                      Signature.meaning != meaning).exists()


def _due_back(r: _Reader) -> list[int]:
    """Open issuances with sheets not accounted for, whose return date has passed or comes within the days
    of the setting issuance.due_soon_days."""
    until = today(r.db) + dt.timedelta(days=int(setting_specs.get(r.session, DUE_SOON)))
    return [s.issuance_id for s in r.issuances() if s.accounted < s.total and s.due_date <= until]


def _ready(r: _Reader) -> list[int]:
    return [s.issuance_id for s in r.issuances() if s.ready]


def _overdue(r: _Reader) -> list[int]:
    return [s.issuance_id for s in r.issuances() if s.overdue]


def _exceptions(r: _Reader) -> list[int]:
    return r.ids(select(ScanPage.id).where(ScanPage.outcome.in_(OPEN_EXCEPTIONS)))


def _drafts(r: _Reader) -> list[str]:
    """The actor's own drafts: only the author edits and submits a draft (``template_rules.edit_refusal``)."""
    return r.ids(select(Template.code).join(TemplateVersion, TemplateVersion.template_id == Template.id)
                 .where(TemplateVersion.status == TemplateStatus.DRAFT, TemplateVersion.author_id == r.uid))


def _templates_to_approve(r: _Reader) -> list[str]:
    """Versions in review the actor may approve: not their own (``template_rules.approve_refusal``)."""
    activity = (literal("template:", String) + Template.code + literal("@", String)
                + cast(TemplateVersion.version, String))
    return r.ids(select(Template.code).join(TemplateVersion, TemplateVersion.template_id == Template.id)
                 .where(TemplateVersion.status == TemplateStatus.IN_REVIEW, TemplateVersion.author_id != r.uid,
                        ~_signed_otherwise(activity, r.uid, M.APPROVED)))


def _true_copies(r: _Reader) -> list[str]:
    """Returned forms (every page linked) whose scans wait for true-copy verification, less those the actor
    imported a current scan of: a second person verifies (``true_copy.verify_refusal``)."""
    imported_by_actor = (select(ScanPage.id).join(ScanSource, ScanPage.source_id == ScanSource.id)
                         .where(ScanPage.issued_form_id == IssuedForm.id, ScanPage.outcome == ScanOutcome.LINKED,
                                ScanPage.superseded_by_id.is_(None), ScanSource.imported_by_id == r.uid).exists())
    activity = literal("true-copy:", String) + IssuedForm.serial
    return r.ids(select(IssuedForm.serial).where(
        IssuedForm.state == FormState.RETURNED, IssuedForm.true_copy_verified_at.is_(None), ~imported_by_actor,
        ~_signed_otherwise(activity, r.uid, M.TRUE_COPY_VERIFIED)).order_by(IssuedForm.serial_no))


def _mine(r: _Reader) -> list[str]:
    """Sheets still out of open issuances issued to the actor. "Issued to" is the text printed on the copies
    (free text on a site that allows it), so it is matched against the actor's full name, user name, and the
    "Full Name (username)" the Issue page stores when the site issues to users; a sheet issued to an area or
    to a name spelled otherwise is not found."""
    actor = r.actor
    names = {actor.full_name.strip(), actor.username.strip(), f"{actor.full_name.strip()} ({actor.username})"}
    issued_to = func.trim(Issuance.issued_to)
    return r.ids(select(IssuedForm.serial).join(Issuance, IssuedForm.issuance_id == Issuance.id).where(
        IssuedForm.state == FormState.ISSUED, Issuance.state == IssuanceState.OPEN,
        or_(issued_to.in_(names), func.lower(issued_to).in_({n.lower() for n in names})))
        .order_by(IssuedForm.serial_no))


def _to_transcribe(r: _Reader) -> list[str]:
    """Returned forms with no record yet or a record still open (as ``closing.left_behind`` counts them)."""
    return r.ids(select(IssuedForm.serial).outerjoin(Record, Record.issued_form_id == IssuedForm.id).where(
        IssuedForm.state == FormState.RETURNED, or_(Record.id.is_(None), Record.state == RecordState.OPEN))
        .order_by(IssuedForm.serial_no))


def _values_to_verify(r: _Reader) -> list[str]:
    """Records awaiting verification with a critical value, not yet verified, that someone else entered
    (``records.verify_refusal``). Which fields are critical is in the layout: read once per template version."""
    rows = r.session.execute(
        select(Record.serial, Record.template_version_id, Entry.field_name).join(Entry, Entry.record_id == Record.id)
        .where(Record.state == RecordState.TRANSCRIBED, Entry.superseded_by_id.is_(None),
               Entry.verified_at.is_(None), Entry.is_na.is_(False), Entry.entered_by_id != r.uid)).all()
    versions = {version for _serial, version, _field in rows}
    critical = {v.id: {f.name for f in templates.layout_of(v).fields if f.critical} for v in
                r.session.scalars(select(TemplateVersion).where(TemplateVersion.id.in_(versions)))} if rows else {}
    return sorted({serial for serial, version, field in rows if field in critical.get(version, ())})


def _took_part(uid: int | None) -> Any:
    """The actor entered or verified a value of the record (the participants of ``records.sign_record``, who
    never sign it)."""
    return select(Entry.id).where(Entry.record_id == Record.id, or_(
        Entry.entered_by_id == uid, Entry.verified_by_id == uid)).exists()


def _records_to_review(r: _Reader) -> list[str]:
    activity = literal("record:", String) + Record.serial
    return r.ids(select(Record.serial).where(Record.state == RecordState.VERIFIED, ~_took_part(r.uid),
                                             ~_signed_otherwise(activity, r.uid, M.REVIEWED)).order_by(Record.serial))


def _records_to_approve(r: _Reader) -> list[str]:
    """Reviewed records of reconciled issuances, not reviewed (nor entered, nor verified) by the actor, whose
    sheets have no open paper finding (``records.sign_refusal``: those wait for QA to resolve them first)."""
    activity = literal("record:", String) + Record.serial
    findings_open = select(PaperFinding.id).where(PaperFinding.issued_form_id == Record.issued_form_id,
                                                  PaperFinding.status == PaperFindingStatus.OPEN).exists()
    return r.ids(select(Record.serial).join(IssuedForm, Record.issued_form_id == IssuedForm.id)
                 .join(Issuance, IssuedForm.issuance_id == Issuance.id)
                 .where(Record.state == RecordState.REVIEWED, Issuance.state == IssuanceState.RECONCILED,
                        ~_took_part(r.uid), ~_signed_otherwise(activity, r.uid, M.APPROVED), ~findings_open)
                 .order_by(Record.serial))


def _paper_findings(r: _Reader) -> list[int]:
    """Open paper findings of the scanned sheets: QA resolves any of them (``paper_views.resolve_refusal``: the
    right and an open finding, nothing else), so every open one is the actor's to resolve."""
    return r.ids(select(PaperFinding.id).where(PaperFinding.status == PaperFindingStatus.OPEN)
                 .order_by(PaperFinding.id))


def _locked(r: _Reader) -> list[str]:
    return r.ids(select(User.username).where(User.status == UserStatus.LOCKED).order_by(User.username))


def _open_incidents(r: _Reader) -> list[str]:
    """Open incidents (SE-03), by their label ("INC-7"): QA assesses and closes them."""
    return [f"INC-{i}" for i in r.ids(select(Incident.id).where(Incident.status == IncidentStatus.OPEN)
                                      .order_by(Incident.id))]


def _still_out(r: _Reader) -> list[str]:
    return r.ids(select(IssuedForm.serial).join(Issuance, IssuedForm.issuance_id == Issuance.id)
                 .where(Issuance.state == IssuanceState.OPEN, IssuedForm.state == FormState.ISSUED))


@dataclasses.dataclass(frozen=True)
class _Item:
    key: str
    title: str
    explanation: str
    listed_as: str  # the filter's name in the list it opens
    permission: Permission  # who has this work (as held now)
    page: str
    filter: str
    tone: str
    find: Callable[[_Reader], Collection[Any]]


# The order Home shows them in; who sees which follows from the permission (so one person with two roles
# sees the work of both).
_ITEMS = (
    _Item("due_back", "Issuances due back", "Sheets still out, due back soon or overdue: chase them.",
          "With forms still out", P.ISSUE_FORMS, "reconcile", "outstanding", "warn", _due_back),
    _Item("scan_exceptions", "Exceptions to resolve", "Scanned pages that could not be linked by their code.",
          "Exceptions", P.LINK_SCANS, "scans", "exceptions", "warn", _exceptions),
    _Item("drafts", "Drafts to submit", "Your template drafts: finish them and submit them for review.",
          "My drafts to submit", P.EDIT_TEMPLATES, "templates", "drafts", "plain", _drafts),
    _Item("templates_to_approve", "Templates to approve", "Versions in review that you did not author.",
          "Waiting for my approval", P.APPROVE_TEMPLATES, "templates", "to-approve", "warn", _templates_to_approve),
    _Item("my_forms", "My open forms", "Sheets issued to you and not yet returned.",
          "Issued to me, still out", P.ENTER_DATA, "records", "mine", "plain", _mine),
    _Item("to_transcribe", "Records to transcribe", "Returned forms whose data is not (fully) entered yet.",
          "To transcribe (returned)", P.ENTER_DATA, "records", "to-transcribe", "warn", _to_transcribe),
    _Item("values_to_verify", "Values to verify", "Critical values someone else entered: verify them.",
          "Values for me to verify", P.VERIFY_DATA, "records", "to-verify", "warn", _values_to_verify),
    _Item("true_copies", "True copies to verify", "Returned scans you did not import: check them against paper.",
          "True copies to verify", P.VERIFY_TRUE_COPY, "scans", "true-copy-for-me", "warn", _true_copies),
    _Item("ready_to_close", "Issuances ready to close", "Every sheet accounted for: sign the reconciliation.",
          "Ready to close", P.CLOSE_RECONCILIATION, "reconcile", "ready", "good", _ready),
    _Item("records_to_review", "Records to review", "Verified records you took no part in: review and sign.",
          "For me to review", P.REVIEW_RECORDS, "records", "to-review", "warn", _records_to_review),
    _Item("paper_findings", "Paper findings to resolve",
          "GDP defects the scans show on paper: resolve each with a reason.",
          "Open paper findings", RESOLVER, "scans", "paper-findings", "warn", _paper_findings),
    _Item("records_to_approve", "Records to approve", "Reviewed records of reconciled issuances: approve.",
          "For me to approve", P.APPROVE_RECORDS, "records", "to-approve", "warn", _records_to_approve),
    _Item("overdue", "Overdue issuances", "Past their return date with sheets not accounted for.",
          "Overdue", P.CLOSE_RECONCILIATION, "reconcile", "overdue", "alert", _overdue),
    _Item("open_incidents", "Open incidents", "Failed checks and backups, clock anomalies, lockouts: assess, close.",
          "Open incidents", P.CLOSE_INCIDENTS, "incidents", "open", "alert",
          _open_incidents),
    _Item("locked_accounts", "Locked accounts", "Locked after wrong passwords: check with the user, unlock.",
          "Locked accounts", P.MANAGE_USERS, "users", "locked", "alert", _locked),
)
# For those who only look on (viewers): what is out and what is late, in the register.
_LOOKING_ON = (
    _Item("still_out", "Forms still out", "Issued copies not yet returned, voided or declared missing.",
          "Still out", P.VIEW_DATA, "register", "outstanding", "plain", _still_out),
    _Item("overdue_issuances", "Overdue issuances", "Past their return date with sheets not accounted for.",
          "Overdue", P.VIEW_DATA, "register", "overdue", "alert", _overdue),
)


def _items_for(held: frozenset[Permission]) -> tuple[_Item, ...]:
    chosen = tuple(i for i in _ITEMS if i.permission in held)
    return chosen or (_LOOKING_ON if P.VIEW_DATA in held else ())


def worklist(db: Database, actor: Actor) -> Worklist:
    """The counts of the work ``actor`` has (by the permissions held now), the newest backup, and whether they
    may take one now."""
    held = permissions_of(current_roles(db, actor))
    chosen = _items_for(held) if actor.user_id is not None else ()
    with db.read() as session:
        reader = _Reader(db, session, actor)
        items = tuple(WorkCount(key=i.key, title=i.title, count=len(i.find(reader)), explanation=i.explanation,
                                page=i.page, filter=i.filter, tone=i.tone) for i in chosen)
        folder = str(setting_specs.get(session, BACKUP_FOLDER)).strip()
    return Worklist(items=items, last_backup=backup.last_backup(db), may_back_up=P.BACKUP in held,
                    backup_folder=folder, schedule=schedule.status(db), reviews=tuple(reviews.due_reviews(db)),
                    may_restore=P.RESTORE in held and db.dialect == "sqlite")


def page_filters(actor: Actor, page: str) -> tuple[tuple[str, str], ...]:
    """(filter name, its title) of the counts ``actor``'s roles have on ``page``: what its list offers."""
    return tuple((i.filter, i.listed_as) for i in _ITEMS if i.page == page and allowed(actor, i.permission))


def members(db: Database, actor: Actor, *, page: str, name: str) -> frozenset[str]:
    """The rows one count counted (serials, template codes, user names, issuance numbers as text): the page
    that lists them shows these."""
    item = next((i for i in (*_ITEMS, *_LOOKING_ON) if i.page == page and i.filter == name), None)
    if item is None:
        raise NotFound(f"no list {name!r} of the {page} page is counted on Home")
    require(db, actor, item.permission)
    with db.read() as session:
        return frozenset(str(v) for v in item.find(_Reader(db, session, actor)))


def backup_destination(db: Database, folder: Path) -> Path:
    """A new folder inside ``folder`` for a backup taken now, named as the scheduled ones are."""
    return folder / f"formtrail-{db.workstation}-{db.clock.now().strftime('%Y%m%dT%H%M%SZ')}"


# -- first steps of a new site ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class FirstStep:
    key: str
    title: str
    explanation: str
    who: str  # the role that does it
    done: bool
    page: str  # where it is done
    filter: str | None  # the list of that page to open (None: the page as it is)
    may_do: bool  # the actor's roles allow it


@dataclasses.dataclass(frozen=True)
class FirstSteps:
    steps: tuple[FirstStep, ...]

    @property
    def all_done(self) -> bool:
        return all(s.done for s in self.steps)


def first_steps(db: Database, actor: Actor) -> FirstSteps:
    """The steps from a new site to its first issued forms, in order, each done or not (read from the data).
    Nothing here is controlled data: anyone logged in may read it."""
    held = permissions_of(current_roles(db, actor))
    with db.read() as session:
        def there(query: Any) -> bool:
            return session.scalar(select(query.exists())) is True
        colleagues = there(select(RoleGrant.id).where(RoleGrant.revoked_at.is_(None),
                                                      RoleGrant.role != Role.ADMINISTRATOR))
        authored = there(select(TemplateVersion.id))
        approved = there(select(TemplateVersion.id).where(TemplateVersion.effective_at.is_not(None)))
        issued = there(select(Issuance.id))
    steps = (
        ("users", "Create the users", "Add an account for each person, with the roles they work in (Document "
         "Control, QA, Operator…).", "An administrator", colleagues, "users", None, P.MANAGE_USERS),
        ("template", "Import or author a template", "Import a template file or write a new master form on the "
         "Templates page, then submit it for review.", "Document Control", authored, "templates", None,
         P.EDIT_TEMPLATES),
        ("approve", "Approve it", "QA checks the preview and approves the version with an electronic signature: "
         "it becomes effective.", "QA", approved, "templates", "to-approve", P.APPROVE_TEMPLATES),
        ("issue", "Issue controlled copies", "Issue numbered, QR-coded copies of the effective version to a "
         "person or area, and print them.", "Document Control", issued, "issue", None, P.ISSUE_FORMS),
    )
    return FirstSteps(tuple(FirstStep(key=key, title=title, explanation=text, who=who, done=done, page=page,
                                      filter=name, may_do=permission in held)
                            for key, title, text, who, done, page, name, permission in steps))
