"""A clock the test controls (the application's clocks are SystemClock and ServerClock)."""

from __future__ import annotations

import datetime as dt

UTC = dt.timezone.utc


class FakeClock:
    def __init__(self, start: dt.datetime | None = None) -> None:
        self.moment = start or dt.datetime(2026, 3, 4, 13, 7, 12, tzinfo=UTC)
        self.skew_report: dt.timedelta | None = None
        self.step = dt.timedelta(milliseconds=1)

    def now(self) -> dt.datetime:
        # Every reading moves on a little, like a real clock, so events keep distinct times.
        self.moment += self.step
        return self.moment

    def advance(self, **kwargs: float) -> None:
        self.moment += dt.timedelta(**kwargs)

    def take_skew_report(self) -> dt.timedelta | None:
        skew, self.skew_report = self.skew_report, None
        return skew
