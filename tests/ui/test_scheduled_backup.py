"""BK-02: the desktop app takes the scheduled backup when one is due."""

from __future__ import annotations

from app.services.admin import restore
from app.services.site import settings


def test_scheduled_backup_is_taken_from_the_open_window(qtbot, seed, open_window, tmp_path):
    settings.change(seed.db, seed.admin, key="backup.folder", value=str(tmp_path / "auto"), reason="CC-12")
    window = open_window("qa", backup_poll_ms=50)
    qtbot.waitUntil(lambda: (tmp_path / "auto").exists() and any(
        (p / "manifest.json").exists() for p in (tmp_path / "auto").iterdir()), timeout=20_000)
    qtbot.waitUntil(lambda: "Scheduled backup written" in window.statusBar().currentMessage(), timeout=20_000)
    [folder] = list((tmp_path / "auto").iterdir())
    assert restore.verify_backup(folder, keys=seed.db.keys).ok
