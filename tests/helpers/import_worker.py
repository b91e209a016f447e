"""A separate process that imports a folder of scans, for the concurrency test.

    python -m tests.helpers.import_worker DB_URL HOME FOLDER

Prints one JSON line: the number of pages linked and the outcome of every line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from app.runtime import RuntimeConfig, open_database
from app.services.identity import auth
from app.services.scans import intake
from tests.helpers.seed import PASSWORD


# The test's own installation (tests/conftest.py runtime_config): registered by the seed, so this process may
# issue, sign and import (AC-08); the multi-workstation test registers stations of their own instead.
STATION = "TEST-WS-01"


def main(argv: list[str]) -> int:
    url, home, folder = argv[0], Path(argv[1]), Path(argv[2])
    db = open_database(RuntimeConfig(home=home, db_url=url, workstation=STATION, hasher_profile="fast"),
                       migrate=False)
    actor = auth.authenticate(db, username="op", password=PASSWORD).actor
    report = intake.import_files(db, actor, [folder])
    print(json.dumps({"linked": report.linked, "outcomes": [o.outcome for o in report.outcomes]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
