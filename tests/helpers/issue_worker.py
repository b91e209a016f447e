"""A separate process that issues forms, for the concurrency and kill tests.

    python -m tests.helpers.issue_worker DB_URL HOME CODE COPIES [--progress]

With --progress it prints "progress <done> <total>" after every page (the kill test waits for these).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from app.runtime import RuntimeConfig, open_database
from app.services.identity import auth
from app.services.issuance import issuance
from tests.helpers.seed import PASSWORD


# The test's own installation (tests/conftest.py runtime_config): registered by the seed, so this process may
# issue, sign and import (AC-08); the multi-workstation test registers stations of their own instead.
STATION = "TEST-WS-01"


def main(argv: list[str]) -> int:
    url, home, code, copies = argv[0], Path(argv[1]), argv[2], int(argv[3])
    show_progress = "--progress" in argv
    db = open_database(RuntimeConfig(home=home, db_url=url, workstation=STATION, hasher_profile="fast"),
                       migrate=False)
    actor = auth.authenticate(db, username="dc", password=PASSWORD).actor

    def progress(done: int, total: int) -> None:
        if show_progress:
            print(f"progress {done} {total}", flush=True)

    result = issuance.issue_forms(db, actor, code=code, copies=copies, purpose="concurrency", reference=None,
                                  issued_to="Line 3", due=dt.date(2099, 1, 1), progress=progress)
    print(json.dumps({"issuance_id": result.issuance_id, "serials": list(result.serials)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
