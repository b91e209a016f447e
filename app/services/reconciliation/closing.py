"""What closing a reconciliation leaves behind on the electronic side, and the site's rules on closing.

Reconciliation accounts for the paper (FDA-DI Q6); by default it does not wait for the electronic work that
follows the return of a sheet. So that QA signs knowing what is still to do, two things are counted over the
*returned* forms of the issuance (voided, missing and replaced sheets carry no data and are never verified):

- **unverified true copies**: a returned form whose scans nobody has yet verified against the paper and signed
  "true-copy-verified" (``IssuedForm.true_copy_verified_at`` is empty). A returned form has every page linked,
  which is exactly when ``scans.true_copy`` lets its copy be verified, so each one counted can be.
- **untranscribed records**: a returned form with no electronic record yet (nothing entered) or with a record
  still ``RecordState.OPEN`` (a required field is empty). ``TRANSCRIBED`` and every later state (verified,
  reviewed, approved) count as transcribed: second-person verification and the record's signatures are the
  records workflow's own steps, and approval even waits for the reconciliation (``records.sign_refusal``).

A site may require either to be done before closing (``reconciliation.require_true_copies_before_close``,
``reconciliation.require_records_before_close``), and may require that the person who closes is independent of
the accounting: not anyone who voided or declared missing a form of the issuance
(``reconciliation.closer_independent``). Who did that is read from the form rows: voided and missing are
terminal states set only by ``reconciliation.void_form`` and ``declare_missing``, which write
``state_changed_by`` in the same audited change, so for a form in either state the column names exactly that
person. Reading the column costs nothing extra (the forms are loaded already) where the audit trail would be a
search through every change of every form; and the column cannot drift from the trail unnoticed, since
``formtrail verify`` replays the data against the trail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import FormState, IssuedForm, Record, RecordState
from app.services.core import setting_specs
from app.services.core.db import Actor
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import RuleViolation
from app.textfmt import noun, plural

REQUIRE_TRUE_COPIES = "reconciliation.require_true_copies_before_close"
REQUIRE_RECORDS = "reconciliation.require_records_before_close"
CLOSER_INDEPENDENT = "reconciliation.closer_independent"
_LISTED = 10  # serials named in a refusal; the view lists them all


@dataclasses.dataclass(frozen=True)
class LeftBehind:
    """The serials (in issue order) of the returned forms closing would leave with work still to do."""

    unverified_true_copies: tuple[str, ...] = ()
    untranscribed_records: tuple[str, ...] = ()


def left_behind(session: Session, forms: Sequence[IssuedForm]) -> LeftBehind:
    """Count over the returned forms of one issuance (``forms``: all of its forms, in issue order)."""
    returned = [f for f in forms if f.state is FormState.RETURNED]
    if not returned:
        return LeftBehind()
    states = {form_id: state for form_id, state in session.execute(
        select(Record.issued_form_id, Record.state).where(Record.issued_form_id.in_([f.id for f in returned])))}
    return LeftBehind(
        unverified_true_copies=tuple(f.serial for f in returned if f.true_copy_verified_at is None),
        untranscribed_records=tuple(f.serial for f in returned if states.get(f.id, RecordState.OPEN)
                                    is RecordState.OPEN),
    )


def warnings(left: LeftBehind) -> tuple[str, ...]:
    """What closing now would leave behind, in words (empty: nothing)."""
    out = []
    if n := len(left.unverified_true_copies):
        out.append(f"{plural(n, 'returned form')} {noun(n, 'has')} scans not yet verified as a true copy")
    if n := len(left.untranscribed_records):
        out.append(f"{plural(n, 'returned form')} {noun(n, 'has')} no transcribed record (data not entered, or "
                   "required fields still empty)")
    return tuple(out)


def _serials(serials: Sequence[str]) -> str:
    shown = ", ".join(serials[:_LISTED])
    return shown + (f" and {len(serials) - _LISTED} more" if len(serials) > _LISTED else "")


def site_refusal(session: Session, actor: Actor, *, issuance_id: int, forms: Sequence[IssuedForm],
                 left: LeftBehind) -> RuleViolation | None:
    """Why the site's settings refuse ``actor`` closing the issuance now (None: they do not). Rule refusals:
    the caller's session writes them to the audit trail when they are raised."""
    if left.unverified_true_copies and _on(session, REQUIRE_TRUE_COPIES):
        n = len(left.unverified_true_copies)
        return RuleViolation(
            f"issuance {issuance_id} cannot be closed yet: this site requires the scans of every returned form to "
            f"be verified as a true copy first, and {plural(n, 'form')} {noun(n, 'is')} not: "
            f"{_serials(left.unverified_true_copies)}", code=ErrorCode.TRUE_COPIES_UNVERIFIED)
    if left.untranscribed_records and _on(session, REQUIRE_RECORDS):
        n = len(left.untranscribed_records)
        return RuleViolation(
            f"issuance {issuance_id} cannot be closed yet: this site requires the record of every returned form to "
            f"be transcribed first, and {plural(n, 'form')} {noun(n, 'has')} none: "
            f"{_serials(left.untranscribed_records)}", code=ErrorCode.RECORDS_NOT_TRANSCRIBED)
    if _on(session, CLOSER_INDEPENDENT):
        own = [f.serial for f in forms if f.state in (FormState.VOIDED, FormState.MISSING)
               and f.state_changed_by == actor.username]
        if own:
            return RuleViolation(
                f"{actor.full_name} voided or declared missing {_serials(own)} of issuance {issuance_id}; this site "
                "requires the reconciliation to be closed by someone who did neither: another person must sign",
                code=ErrorCode.CLOSER_NOT_INDEPENDENT)
    return None


def _on(session: Session, key: str) -> bool:
    return bool(int(setting_specs.get(session, key)))
