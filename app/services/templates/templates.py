"""Templates (master forms): versions through draft → in_review → effective → superseded | retired.

Approval is a QA e-signature by someone other than the author, bound to the hash of the layout; it makes the
version effective and supersedes the previous effective version, in one transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.forms.layout.layout import (
    CODE_RE,
    MAX_CODE,
    FieldDef,
    LayoutError,
    SignatureBlock,
    SignatureRole,
    TemplateLayout,
    canonical_json,
    dump_layout,
    layout_from_dict,
    load_layout,
)
from app.forms.render.render import check_fits
from app.models import SignatureMeaning, Template, TemplateStatus, TemplateVersion
from app.services.core import audit
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import DomainError, NotFound, ValidationError
from app.services.identity import signatures
from app.services.identity.permissions import Permission, require
from app.services.templates import template_rules as rules

S = TemplateStatus


@dataclasses.dataclass(frozen=True)
class TemplateSummary:
    code: str
    title: str
    department: str
    version: int  # the newest version
    status: TemplateStatus  # of the newest version
    effective_version: int | None
    effective_date: dt.date | None


@dataclasses.dataclass(frozen=True)
class TemplateVersionInfo:
    code: str
    version: int
    status: TemplateStatus
    title: str
    department: str
    layout: TemplateLayout
    layout_sha256: str
    change_reason: str
    author_username: str
    created_at: dt.datetime
    submitted_at: dt.datetime | None
    effective_date: dt.date | None
    approved_by: str | None
    signatures: tuple[signatures.SignatureInfo, ...]
    # What the actor the version was read for may do with it now (template_rules decides, the acts check).
    may_edit: bool = False
    may_submit: bool = False
    may_new_version: bool = False
    may_approve: bool = False
    may_return: bool = False
    may_retire: bool = False

    @property
    def label(self) -> str:
        return f"{self.code}@{self.version}"


def approval_content(version: TemplateVersion) -> dict[str, object]:
    """What an approval signature binds to: the exact layout, by hash."""
    return {"template": version.template.code, "version": version.version, "title": version.title,
            "layout_sha256": version.layout_sha256}


def layout_of(version: TemplateVersion) -> TemplateLayout:
    return layout_from_dict(json.loads(version.layout_json))


def _info(session: Session, version: TemplateVersion, actor: Actor | None = None) -> TemplateVersionInfo:
    info = TemplateVersionInfo(
        code=version.template.code, version=version.version, status=version.status, title=version.title,
        department=version.template.department, layout=layout_of(version), layout_sha256=version.layout_sha256,
        change_reason=version.change_reason, author_username=version.author_username,
        created_at=version.created_at, submitted_at=version.submitted_at, effective_date=version.effective_date,
        approved_by=version.approved_by,
        signatures=tuple(signatures.signatures_of(session, "template_version", version.label)),
    )
    return info if actor is None else dataclasses.replace(info, **rules.allowed_acts(session, actor, version))


def _store_layout(version: TemplateVersion, layout: TemplateLayout) -> None:
    try:
        check_fits(layout)  # an effective template must never fail only when someone issues it
    except LayoutError as exc:
        raise ValidationError(str(exc)) from None
    text = canonical_json(layout)
    version.layout_json = text
    version.layout_sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    version.title = layout.title


def _reason(text: str | None, what: str) -> str:
    if text is None or not text.strip():
        raise ValidationError(f"{what} needs a reason (the change-control reference, e.g. CC-2026-014)")
    return text.strip()


def _template(session: Session, code: str) -> Template:
    template = session.scalar(
        select(Template).where(Template.code == code.strip().upper()).options(selectinload(Template.versions))
    )
    if template is None:
        raise NotFound(f"no template with code {code!r}")
    return template


def _version(session: Session, code: str, version: int | None) -> TemplateVersion:
    template = _template(session, code)
    if not template.versions:
        raise NotFound(f"template {template.code} has no versions")
    if version is None:
        return template.versions[-1]
    for candidate in template.versions:
        if candidate.version == version:
            return candidate
    raise NotFound(f"template {template.code} has no version {version}")


def effective_version(session: Session, code: str) -> TemplateVersion:
    """The one version that may be issued (BF-01)."""
    template = _template(session, code)
    for version in template.versions:
        if version.status is S.EFFECTIVE:
            return version
    latest = template.versions[-1] if template.versions else None
    state = f"its newest version {latest.version} is {latest.status.value}" if latest else "it has no versions"
    raise DomainError(f"template {template.code} has no effective version ({state}); only approved, effective "
                      "versions can be issued")


def import_layout(db: Database, actor: Actor, layout: TemplateLayout, *,
                  change_reason: str | None = None) -> TemplateVersionInfo:
    """Create the template if new and a new draft version holding ``layout``."""
    require(db, actor, Permission.EDIT_TEMPLATES)
    reason = _reason(change_reason or layout.change_reason, "a new template version")
    with db.write(actor, reason=reason) as session:
        template = session.scalar(select(Template).where(Template.code == layout.code).options(
            selectinload(Template.versions)))
        return _add_draft(db, session, actor, template, layout, reason)


def _add_draft(db: Database, session: Session, actor: Actor, template: Template | None, layout: TemplateLayout,
               reason: str) -> TemplateVersionInfo:
    """The next draft version of ``template`` (created first when None) holding ``layout``."""
    now = db.clock.now()
    if template is None:
        template = Template(code=layout.code, title=layout.title, department=layout.department,
                            created_at=now, created_by=actor.username)
        session.add(template)
    rules.check(rules.new_version_refusal(template))
    number = max((v.version for v in template.versions), default=0) + 1
    version = TemplateVersion(template=template, version=number, status=S.DRAFT, change_reason=reason,
                              author_id=actor.user_id, author_username=actor.username, created_at=now)
    _store_layout(version, layout)
    session.add(version)
    session.flush()
    return _info(session, version, actor)


def starter_layout(code: str, title: str, department: str) -> TemplateLayout:
    """The smallest valid layout a new template starts from: one text entry and a "performed by" block, which
    the author replaces in the editor (a layout without fields cannot exist)."""
    return TemplateLayout(
        code=code, title=title, department=department,
        fields=(FieldDef(name="entry_1", label="Entry 1 (rename or replace this field)"),),
        signature_blocks=(SignatureBlock(role=SignatureRole.PERFORMED, label="Performed by"),),
    )


def new_template(db: Database, actor: Actor, *, code: str, title: str, department: str,
                 reason: str) -> TemplateVersionInfo:
    """A new template, authored in the app: version 1 as a draft of ``starter_layout``, for its author to
    complete in the editor. A code already used by a template (whatever its state) is refused: a changed form
    is a new version of its template, never a second template with the same code."""
    require(db, actor, Permission.EDIT_TEMPLATES)
    wanted = code.strip().upper()
    if not CODE_RE.match(wanted) or len(wanted) > MAX_CODE:
        raise ValidationError(
            f"{code.strip()!r} is not a valid template code: use capitals, digits, '-' and '.', starting with a "
            f"capital or digit, at most {MAX_CODE} characters (e.g. QC-WS-014)", code=ErrorCode.TEMPLATE_CODE_INVALID)
    why = _reason(reason, "a new template")
    try:
        layout = starter_layout(wanted, title.strip(), department.strip())
    except LayoutError as exc:
        raise ValidationError(str(exc)) from None
    with db.write(actor, reason=why) as session:
        taken = session.scalar(select(Template).where(Template.code == wanted))
        if taken is not None:
            raise DomainError(f"a template with the code {wanted} already exists ({taken.title}); choose another "
                              f"code, or start a new version of {wanted} on the Templates page",
                              code=ErrorCode.TEMPLATE_EXISTS)
        return _add_draft(db, session, actor, None, layout, why)


def import_file(db: Database, actor: Actor, path: Path, *, change_reason: str | None = None) -> TemplateVersionInfo:
    try:
        layout = load_layout(path)
    except LayoutError as exc:
        raise ValidationError(f"{path.name}: {exc}") from None
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror or exc}") from None
    return import_layout(db, actor, layout, change_reason=change_reason)


def new_version(db: Database, actor: Actor, code: str, *, change_reason: str) -> TemplateVersionInfo:
    """Start the next draft from the newest version's layout (editing an effective version never changes it)."""
    with db.read() as session:
        layout = layout_of(_version(session, code, None))
    return import_layout(db, actor, layout, change_reason=change_reason)


def save_draft(db: Database, actor: Actor, code: str, version: int, layout: TemplateLayout) -> TemplateVersionInfo:
    require(db, actor, Permission.EDIT_TEMPLATES)
    with db.write(actor, reason="draft edited") as session:
        row = _version(session, code, version)
        rules.check(rules.edit_refusal(actor, row))
        if layout.code != row.template.code:
            raise ValidationError(f"the layout's code {layout.code} does not match the template {row.template.code}")
        _store_layout(row, layout)
        session.flush()
        return _info(session, row, actor)


def submit(db: Database, actor: Actor, code: str) -> TemplateVersionInfo:
    require(db, actor, Permission.EDIT_TEMPLATES)
    with db.write(actor, reason="submitted for review") as session:
        row = _version(session, code, None)
        rules.check(rules.submit_refusal(row))
        row.status, row.submitted_at = S.IN_REVIEW, db.clock.now()
        session.flush()
        return _info(session, row, actor)


def return_to_draft(db: Database, actor: Actor, code: str, version: int, *, reason: str) -> TemplateVersionInfo:
    require(db, actor, Permission.APPROVE_TEMPLATES)
    with db.write(actor, reason=_reason(reason, "returning a version to draft")) as session:
        row = _version(session, code, version)
        rules.check(rules.return_refusal(row))
        row.status, row.submitted_at = S.DRAFT, None
        session.flush()
        return _info(session, row, actor)


def approve(db: Database, actor: Actor, code: str, version: int, *, username: str,
            password: str) -> TemplateVersionInfo:
    """QA approval by e-signature: the version becomes effective and supersedes the previous effective one."""
    require(db, actor, Permission.APPROVE_TEMPLATES)
    # Checked before the password is asked for, in a session that writes a refusal to the audit trail.
    with db.read(actor) as session:
        rules.check(rules.approve_refusal(session, actor, _version(session, code, version)))
    signatures.reauthenticate(db, actor, username=username, password=password)
    with db.write(actor, reason="approved by QA e-signature") as session:
        row = _version(session, code, version)
        rules.check(rules.approve_refusal(session, actor, row))
        signatures.add_signature(
            db, session, actor, meaning=SignatureMeaning.APPROVED, entity="template_version", entity_id=row.label,
            content=approval_content(row), activity=rules.approval_activity(row), other_roles=rules.author_role(row),
        )
        now = db.clock.now()
        for other in row.template.versions:
            if other.status is S.EFFECTIVE:
                with audit.reason(session, f"superseded by version {row.version}"):
                    other.status, other.ended_at = S.SUPERSEDED, now
        row.status, row.effective_at, row.approved_by = S.EFFECTIVE, now, actor.username
        row.effective_date = now.astimezone().date()
        layout = layout_of(row)
        if row.template.title != row.title:
            row.template.title = row.title
        if row.template.department != layout.department:  # the list shows what the effective version says
            row.template.department = layout.department
        session.flush()
        return _info(session, row, actor)


def retire(db: Database, actor: Actor, code: str, version: int, *, reason: str) -> TemplateVersionInfo:
    require(db, actor, Permission.APPROVE_TEMPLATES)
    with db.write(actor, reason=_reason(reason, "retiring a template")) as session:
        row = _version(session, code, version)
        rules.check(rules.retire_refusal(row))
        row.status, row.ended_at = S.RETIRED, db.clock.now()
        session.flush()
        return _info(session, row, actor)


def list_templates(db: Database, actor: Actor) -> list[TemplateSummary]:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        out = []
        for template in session.scalars(select(Template).options(selectinload(Template.versions))
                                        .order_by(Template.code)):
            if not template.versions:
                continue
            latest = template.versions[-1]
            effective = next((v for v in template.versions if v.status is S.EFFECTIVE), None)
            out.append(TemplateSummary(
                code=template.code, title=latest.title, department=template.department, version=latest.version,
                status=latest.status, effective_version=effective.version if effective else None,
                effective_date=effective.effective_date if effective else None,
            ))
        return out


def get_version(db: Database, actor: Actor, code: str, version: int | None = None) -> TemplateVersionInfo:
    require(db, actor, Permission.VIEW_DATA)
    with db.read() as session:
        return _info(session, _version(session, code, version), actor)


def version_count(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(TemplateVersion)) or 0


def export_version(db: Database, actor: Actor, code: str, version: int, out: Path) -> Path:
    info = get_version(db, actor, code, version)
    layout = dataclasses.replace(info.layout, change_reason=info.change_reason)
    dump_layout(layout, out)
    with db.write(actor, reason="template exported") as session:
        audit.record_event(session, "EXPORT", entity="template_version", entity_id=info.label,
                           new={"file": out.name, "layout_sha256": info.layout_sha256})
    return out
