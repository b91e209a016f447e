"""Helpers of the incident log and schedule tests (issue 16 / safety)."""

from __future__ import annotations

from pathlib import Path

from app.runtime import RuntimeConfig, open_database
from app.services.core.db import Database
from app.services.integrity import schedule


def scratch_opener(live: Database, key_folder: Path) -> schedule.MakeDatabase:
    """What `formtrail schedule` passes: a scratch database opened with this site's key folder."""
    def make_database(url: str, files: Path) -> Database:
        return open_database(RuntimeConfig(home=files.parent, db_url=url, workstation=live.workstation,
                                           hasher_profile="fast", files_dir=files, keys_dir=key_folder))
    return make_database
