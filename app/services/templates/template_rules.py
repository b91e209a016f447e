"""The rules of a template version's lifecycle, in one place: the acts in app/services/templates/templates.py raise
what these functions return, and the views ask the same functions what to offer (so no screen keeps a copy).

draft → in_review → effective → superseded | retired; a draft is edited only by its author; a version is
approved by someone other than its author (a separate person, by e-signature)."""

from __future__ import annotations

from typing import TypedDict

from sqlalchemy.orm import Session

from app.models import SignatureMeaning, Template, TemplateStatus, TemplateVersion
from app.services.core.db import Actor
from app.services.core.errors import DomainError, FormtrailError, PermissionDenied
from app.services.identity import signatures
from app.services.identity.permissions import Permission, allowed

S = TemplateStatus


class AllowedActs(TypedDict):
    """The ``may_*`` fields of TemplateVersionInfo, by name (passed to ``dataclasses.replace``)."""

    may_edit: bool
    may_submit: bool
    may_new_version: bool
    may_approve: bool
    may_return: bool
    may_retire: bool


def check(refusal: FormtrailError | None) -> None:
    if refusal is not None:
        raise refusal


def approval_activity(row: TemplateVersion) -> str:
    return f"template:{row.label}"


def author_role(row: TemplateVersion) -> dict[int, str]:
    return {row.author_id: "author"}


def edit_refusal(actor: Actor, row: TemplateVersion) -> FormtrailError | None:
    if row.status is not S.DRAFT:
        return DomainError(f"{row.label} is {row.status.value}; only drafts can be edited")
    if row.author_id != actor.user_id:
        return PermissionDenied(f"{row.label} is authored by {row.author_username}; only the author edits a draft")
    return None


def submit_refusal(row: TemplateVersion) -> DomainError | None:
    """``row`` is the newest version (submitting always takes the newest)."""
    if row.status is not S.DRAFT:
        return DomainError(f"{row.label} is {row.status.value}; only a draft can be submitted for review")
    return None


def new_version_refusal(template: Template) -> DomainError | None:
    open_draft = next((v for v in template.versions if v.status in (S.DRAFT, S.IN_REVIEW)), None)
    if open_draft is not None:
        return DomainError(f"{template.code}@{open_draft.version} is still {open_draft.status.value}; finish or "
                           "edit that version instead of starting another")
    return None


def return_refusal(row: TemplateVersion) -> DomainError | None:
    if row.status is not S.IN_REVIEW:
        return DomainError(f"{row.label} is {row.status.value}; only a version in review can be sent back")
    return None


def approve_refusal(session: Session, actor: Actor, row: TemplateVersion) -> FormtrailError | None:
    if row.status is not S.IN_REVIEW:
        return DomainError(f"{row.label} is {row.status.value}; only a version in review can be approved")
    return signatures.signer_refusal(session, actor, activity=approval_activity(row), meaning=SignatureMeaning.APPROVED,
                                     other_roles=author_role(row))


def retire_refusal(row: TemplateVersion) -> DomainError | None:
    if row.status is not S.EFFECTIVE:
        return DomainError(f"{row.label} is {row.status.value}; only the effective version can be retired")
    return None


def allowed_acts(session: Session, actor: Actor, row: TemplateVersion) -> AllowedActs:
    """The ``may_*`` fields of TemplateVersionInfo for ``actor``: the role allows the act and no rule refuses it."""
    edit, approve = allowed(actor, Permission.EDIT_TEMPLATES), allowed(actor, Permission.APPROVE_TEMPLATES)
    newest = row.template.versions[-1] is row
    return {
        "may_edit": edit and edit_refusal(actor, row) is None,
        "may_submit": edit and newest and submit_refusal(row) is None,
        "may_new_version": edit and new_version_refusal(row.template) is None,
        "may_approve": approve and approve_refusal(session, actor, row) is None,
        "may_return": approve and return_refusal(row) is None,
        "may_retire": approve and retire_refusal(row) is None,
    }
