"""TM-01/TM-03 and the clock service."""

from __future__ import annotations

import datetime as dt

from app.services.core.clock import ServerClock, SystemClock

UTC = dt.timezone.utc


def test_system_clock_is_aware_utc():
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == dt.timedelta(0)


def test_tm01_server_clock_ignores_a_wrong_workstation_clock():
    server = dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    local_wrong = server - dt.timedelta(days=2)
    clock = ServerClock(lambda: server, local=lambda: local_wrong)
    now = clock.now()
    assert abs(now - server) < dt.timedelta(seconds=1)
    skew = clock.take_skew_report()
    assert skew is not None and round(skew.total_seconds()) == -2 * 86400
    assert clock.take_skew_report() is None  # reported once


def test_small_skew_is_not_reported():
    server = dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    clock = ServerClock(lambda: server, local=lambda: server + dt.timedelta(seconds=5))
    clock.now()
    assert clock.take_skew_report() is None


def test_server_clock_resyncs():
    reads = []

    def read():
        reads.append(1)
        return dt.datetime(2026, 5, 1, 12, 0, tzinfo=UTC)

    clock = ServerClock(read, resync_s=0.0)
    clock.now()
    clock.now()
    assert len(reads) == 2
