"""The one clock: every timestamp on controlled data comes from here (timezone-aware UTC)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

UTC = dt.UTC


class Clock(Protocol):
    def now(self) -> dt.datetime: ...

    def take_skew_report(self) -> dt.timedelta | None:
        """A workstation/server difference beyond tolerance not reported yet, or None."""
        ...


class SystemClock:
    """The workstation's clock: the time source for the embedded SQLite database."""

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)

    def take_skew_report(self) -> dt.timedelta | None:
        return None


class ServerClock:
    """The database server's clock (PostgreSQL site mode), so a workstation set to the wrong time cannot
    backdate anything.

    Asking the server for every timestamp would cost a round trip per row, so the server time is read every
    ``resync_s`` seconds and carried forward with the monotonic clock, which the workstation's wall clock
    cannot move. Each sync compares the workstation clock with the server and keeps a report when they
    differ by more than ``tolerance``.
    """

    def __init__(
        self,
        read_server_time: Callable[[], dt.datetime],
        *,
        tolerance: dt.timedelta = dt.timedelta(seconds=60),
        resync_s: float = 30.0,
        local: Callable[[], dt.datetime] = lambda: dt.datetime.now(UTC),
    ) -> None:
        self._read_server_time = read_server_time
        self.tolerance = tolerance
        self._resync_s = resync_s
        self._local = local
        self._lock = threading.Lock()
        self._base: dt.datetime | None = None
        self._base_mono = 0.0
        self._pending_skew: dt.timedelta | None = None
        self._reported_skew: dt.timedelta | None = None
        self.last_skew = dt.timedelta(0)

    def _sync(self) -> None:
        before = time.monotonic()
        server = self._read_server_time().astimezone(UTC)
        after = time.monotonic()
        # The server read the time somewhere during the round trip; assume the middle.
        self._base = server
        self._base_mono = (before + after) / 2
        skew = self._local() - server
        self.last_skew = skew
        if abs(skew) > self.tolerance:
            already = self._reported_skew
            if already is None or abs(skew - already) > self.tolerance:
                self._pending_skew = skew
                self._reported_skew = skew
        else:
            self._reported_skew = None

    def now(self) -> dt.datetime:
        with self._lock:
            if self._base is None or time.monotonic() - self._base_mono > self._resync_s:
                self._sync()
            assert self._base is not None
            return self._base + dt.timedelta(seconds=time.monotonic() - self._base_mono)

    def take_skew_report(self) -> dt.timedelta | None:
        with self._lock:
            skew, self._pending_skew = self._pending_skew, None
            return skew


def database_clock(engine: Engine, tolerance_s: float = 60.0) -> Clock:
    """The official time source for a database: the server's clock on PostgreSQL, this computer's on SQLite."""
    if engine.dialect.name != "postgresql":
        return SystemClock()
    from sqlalchemy import func, select

    def read_server_time() -> dt.datetime:
        with engine.connect() as conn:
            return conn.execute(select(func.clock_timestamp())).scalar_one()

    return ServerClock(read_server_time, tolerance=dt.timedelta(seconds=tolerance_s))
