"""A separate process that enters values one by one and then waits to be killed (RC-02).

    python -m tests.helpers.record_worker DB_URL HOME SERIAL FIELD=VALUE...

Prints "saved <field>" after each value is committed, then "waiting" and sleeps.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from app.runtime import RuntimeConfig, open_database
from app.services.identity import auth
from app.services.records import records
from tests.helpers.seed import PASSWORD


# The test's own installation (tests/conftest.py runtime_config): registered by the seed, so this process may
# issue, sign and import (AC-08); the multi-workstation test registers stations of their own instead.
STATION = "TEST-WS-01"


def main(argv: list[str]) -> int:
    url, home, serial, pairs = argv[0], Path(argv[1]), argv[2], argv[3:]
    db = open_database(RuntimeConfig(home=home, db_url=url, workstation=STATION, hasher_profile="fast"),
                       migrate=False)
    actor = auth.authenticate(db, username="op", password=PASSWORD).actor
    for pair in pairs:
        field, value = pair.split("=", 1)
        records.enter_value(db, actor, serial=serial, field=field, value=value)
        print(f"saved {field}", flush=True)
    print("waiting", flush=True)
    time.sleep(600)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
