"""Stops a throwaway PostgreSQL server once the test process that started it is gone, however it ended.

A pytest worker that crashes (a segfault in native code) never runs its fixture's teardown; without this the
server it started would outlive the test session. Started detached by tests/helpers/postgres.py:
``python -m tests.helpers.pg_reaper OWNER_PID PG_CTL DATA_DIR BASE_DIR [RUN_AS_USER]``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str]) -> int:
    owner, pg_ctl, data, base = int(argv[0]), argv[1], argv[2], argv[3]
    run_user = argv[4] if len(argv) > 4 else None
    while _alive(owner) and os.path.isdir(data):
        time.sleep(0.5)
    if os.path.isdir(data):  # the owner died without stopping its server
        command = [pg_ctl, "-D", data, "-m", "immediate", "stop"]
        if run_user:
            command = ["runuser", "-u", run_user, "--", *command]
        subprocess.run(command, capture_output=True, check=False)
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
