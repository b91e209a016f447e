"""The file store's ledger folder: what must survive a restore of the data, because it records what the
restored data may have forgotten (the serial high-water mark, the audit chain's anchors)."""

from __future__ import annotations

from pathlib import Path

LEDGER_DIR = "ledger"


def ledger_folder(files_root: Path) -> Path:
    """The ledger folder, created readable by its owner only (as is the store itself when this creates it)."""
    folder = files_root / LEDGER_DIR
    if not folder.is_dir():
        files_root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, exist_ok=True)
    return folder
