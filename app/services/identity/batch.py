"""One act repeated over many items (verify 20 true copies, set aside 12 pages, verify 8 values): at most one
password entry for the whole selection, then each item on its own.

Part 11 asks that every signed item carry its own signature and manifestation, so a batch is never one
signature over many items: the act signs each item in its own write transaction (its own signature row, bound
to that item's content), exactly as the single act does. What the batch saves is the typing: the password is
checked once, before anything is signed (a wrong one signs nothing and counts toward the lockout like any failed
signature). A refusal of one item (a GMP rule, a state that changed meanwhile) is that item's refusal only,
recorded as the single act records it; the others go on."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Generic, TypeVar

from app.services.core.db import Actor, Database
from app.services.core.error_codes import ErrorCode
from app.services.core.errors import FormtrailError, ValidationError
from app.services.identity import signatures

K = TypeVar("K", bound=Hashable)
Progress = Callable[[int, int], None]


@dataclasses.dataclass(frozen=True)
class BatchResult(Generic[K]):
    """What a batch did: the items acted on (each signed on its own, for an act that signs) and the items
    refused, each as (item, ErrorCode value, the refusal's text), both in the order given."""

    signed: tuple[K, ...] = ()
    refused: tuple[tuple[K, str, str], ...] = ()

    @property
    def done(self) -> tuple[K, ...]:
        """The items acted on (the name for acts that do not sign)."""
        return self.signed

    @property
    def total(self) -> int:
        return len(self.signed) + len(self.refused)


def each(
    db: Database, actor: Actor, items: Iterable[K], act: Callable[[K], Any], *,
    username: str | None = None, password: str | None = None, progress: Progress | None = None,
) -> BatchResult[K]:
    """Re-authenticate once when the act signs (``username`` given), then ``act(item)`` for every item in turn
    (duplicates once, in the order given). ``act`` is the single act's own per-item step: it opens its own
    write transaction, checks its own rules and records its own refusals. ``progress(done, total)`` after each."""
    keys = tuple(dict.fromkeys(items))
    if not keys:
        raise ValidationError("nothing is selected: select the items to act on", code=ErrorCode.NOTHING_SELECTED)
    if username is not None:
        # Once for the whole selection; AuthenticationError (and a lockout) propagate: nothing is signed.
        signatures.reauthenticate(db, actor, username=username, password=password or "")
    done: list[K] = []
    refused: list[tuple[K, str, str]] = []
    for number, key in enumerate(keys, start=1):
        try:
            act(key)
        except FormtrailError as refusal:  # this item's refusal, already recorded where the rule asks for it
            refused.append((key, str(refusal.code), str(refusal)))
        else:
            done.append(key)
        if progress is not None:
            progress(number, len(keys))
    return BatchResult(signed=tuple(done), refused=tuple(refused))
