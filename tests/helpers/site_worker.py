"""A workstation process for the multi-workstation test: issues forms or imports scans, then prints JSON.

    python -m tests.helpers.site_worker DB_URL HOME FILES issue COPIES
    python -m tests.helpers.site_worker DB_URL HOME FILES import PATH...
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

from app.runtime import RuntimeConfig, open_database
from app.services.identity import auth
from app.services.issuance import issuance
from app.services.scans import intake
from tests.helpers.seed import PASSWORD


def main(argv: list[str]) -> int:
    url, home, files, mode, rest = argv[0], Path(argv[1]), Path(argv[2]), argv[3], argv[4:]
    db = open_database(RuntimeConfig(home=home, db_url=url, workstation=f"WS-{mode}-{rest[0][-6:]}",
                                     hasher_profile="fast", files_dir=files), migrate=False)
    if mode == "issue":
        actor = auth.authenticate(db, username="dc", password=PASSWORD).actor
        result = issuance.issue_forms(db, actor, code="QC-WS-014", copies=int(rest[0]), purpose="parallel",
                                      reference=None, issued_to="Line 1", due=dt.date(2099, 1, 1))
        print(json.dumps({"serials": list(result.serials)}))
    else:
        actor = auth.authenticate(db, username="op", password=PASSWORD).actor
        report = intake.import_files(db, actor, [Path(p) for p in rest], processes=1)
        print(json.dumps({"outcomes": [o.as_dict() for o in report.outcomes]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
