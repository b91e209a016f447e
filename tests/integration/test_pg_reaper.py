"""The test session's throwaway PostgreSQL server stops even when the process that started it is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STARTER = """
import sys, time
from tests.helpers.postgres import throwaway_server
with throwaway_server() as url:
    print(url, flush=True)
    time.sleep(600)
"""


def _server_pids(port: str) -> set[int]:
    out = subprocess.run(["pgrep", "-f", f"port={port} "], capture_output=True, text=True).stdout
    return {int(p) for p in out.split()}


@pytest.mark.skipif(os.environ.get("FORMTRAIL_TEST_PG_URL") is not None, reason="uses an existing server")
def test_a_killed_owner_leaves_no_server_behind() -> None:
    owner = subprocess.Popen([sys.executable, "-c", STARTER], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        url = owner.stdout.readline().strip()
        if not url:
            pytest.skip("PostgreSQL could not be started here")
        port = url.rsplit(":", 1)[1].split("/")[0]
        started = _server_pids(port)
        assert started, "the server did not start"
    finally:
        owner.send_signal(signal.SIGKILL)  # no teardown runs, as with a crashed pytest worker
        owner.wait()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _server_pids(port):
        time.sleep(0.2)
    assert not _server_pids(port), "the server outlived the process that started it"
