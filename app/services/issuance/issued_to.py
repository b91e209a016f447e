"""Whom controlled copies are issued to: what the Issue page offers under "Issued to", and the check that
``issue_forms`` makes (the rule lives here, so the desktop app and `formtrail issue --issued-to` obey it alike).

The site chooses with ``issuance.issued_to_mode``: "free" (any text, the list entries offered as suggestions),
"users" (a Formtrail user), "list" (an area or a piece of equipment of ``issuance.issued_to_list``) or
"users+list". Outside "free", the text printed on the copies is one of the offered choices, spelled as offered.
"""

from __future__ import annotations

import dataclasses

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.models import Role, User, UserStatus
from app.services.core import setting_specs
from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import ValidationError
from app.services.identity.permissions import Permission, require

MODE_KEY = "issuance.issued_to_mode"
LIST_KEY = "issuance.issued_to_list"
FREE, USERS, LIST, USERS_AND_LIST = "free", "users", "list", "users+list"
MODES = (FREE, USERS, LIST, USERS_AND_LIST)


@dataclasses.dataclass(frozen=True)
class IssuedToChoice:
    text: str  # as stored and printed: "Otto Operator (op)" for a user, the entry itself for an area
    username: str | None = None  # the user's name for a user (typed on the command line, it picks the user)


@dataclasses.dataclass(frozen=True)
class IssuedToChoices:
    """What "Issued to" offers the actor: users first, then the site's areas and equipment."""

    mode: str
    choices: tuple[IssuedToChoice, ...]
    may_type_free_text: bool  # False: only one of ``choices`` is accepted
    hint: str  # one sentence for the page: what to choose, or why nothing can be chosen

    @property
    def texts(self) -> tuple[str, ...]:
        return tuple(c.text for c in self.choices)


def issued_to_choices(db: Database, actor: Actor) -> IssuedToChoices:
    """The choices the Issue page shows, for someone who may issue forms."""
    require(db, actor, Permission.ISSUE_FORMS)
    with db.read() as session:
        return choices_in(session)


def checked_issued_to(db: Database, text: str) -> str:
    """``text`` as it will be printed: as typed when free text is allowed; otherwise the offered choice it
    names (exactly, ignoring case, or by a user's user name), or ValidationError ``issued-to-not-listed``."""
    with db.read() as session:
        offered = choices_in(session)
    if offered.may_type_free_text:
        return text
    wanted = text.strip().casefold()
    for choice in offered.choices:
        if wanted in (choice.text.casefold(), (choice.username or "").casefold()):
            return choice.text
    shown = "; ".join(offered.texts[:12]) + (" …" if len(offered.choices) > 12 else "")
    raise ValidationError(
        f"forms cannot be issued to {text.strip()!r}: this site issues to {_what(offered.mode)} only "
        f"(setting {MODE_KEY} = {offered.mode}); choose one of: {shown or 'none defined yet'}",
        code=ErrorCode.ISSUED_TO_NOT_LISTED,
    )


def choices_in(session: Session) -> IssuedToChoices:
    mode = str(setting_specs.get(session, MODE_KEY))
    if mode not in MODES:  # settings.change refuses other values; only a change outside Formtrail gets here
        raise ValidationError(f"the setting {MODE_KEY} holds {mode!r}; an administrator sets it to one of "
                              f"{', '.join(MODES)}")
    entries = tuple(IssuedToChoice(text=str(e).strip()) for e in setting_specs.get(session, LIST_KEY) if str(e).strip())
    people = _users(session) if mode in (USERS, USERS_AND_LIST) else ()
    choices = people + (entries if mode != USERS else ())
    free = mode == FREE
    if free:
        hint = "Type a person or an area" + (", or choose one of the site's list." if choices else ".")
    elif choices:
        hint = f"Choose {_what(mode)}: this site does not accept other names on its forms."
    else:
        hint = (f"Nothing to choose yet: this site issues to {_what(mode)} only, and none is defined. An "
                f"administrator adds them (users, or the setting {LIST_KEY}) or changes {MODE_KEY}.")
    return IssuedToChoices(mode=mode, choices=choices, may_type_free_text=free, hint=hint)


def _users(session: Session) -> tuple[IssuedToChoice, ...]:
    """Everyone who is not deactivated (a locked account is still a colleague), except accounts that only
    administer: an administrator never does GMP work, so never receives forms to fill in."""
    rows = session.scalars(select(User).where(User.status != UserStatus.DEACTIVATED)
                           .options(selectinload(User.grants)).order_by(User.full_name, User.username))
    return tuple(IssuedToChoice(text=f"{u.full_name} ({u.username})", username=u.username)
                 for u in rows if u.current_roles() - {Role.ADMINISTRATOR})


def _what(mode: str) -> str:
    return {USERS: "a Formtrail user", LIST: "an area or equipment of its list",
            USERS_AND_LIST: "a Formtrail user or an area or equipment of its list"}.get(mode, "anyone")
