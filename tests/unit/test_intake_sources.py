"""Issue 12, safe sources: what an import takes from a folder, and a line with a code for everything it does
not take; files are opened without blocking and without following anything unchecked."""

from __future__ import annotations

import os
import sys

import pytest

from app.services.scans.intake_sources import Entry, NotRegular, expand, open_entry
from tests.helpers import hostile

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="symbolic links and FIFOs")


def test_every_entry_not_taken_has_a_line_with_its_reason(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    outside = tmp_path / "private.png"
    outside.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(50))
    outside.chmod(0o600)
    (folder / "a.pdf").write_bytes(b"%PDF-1.4")
    (folder / "B.JPG").write_bytes(b"\xff\xd8\xff")
    (folder / "via-link.png").symlink_to(outside)
    expected = hostile.hostile_entries(folder, outside)
    entries, lines = expand([folder])
    assert [e.path.name for e in entries] == ["B.JPG", "a.pdf", "via-link.png"]
    assert entries[2].target == outside.resolve()
    got = {os.path.basename(line.source): (line.outcome, line.code) for line in lines}
    assert got == {**expected, "via-link.png": ("followed-symlink", "symlink")}
    assert all(line.reason and line.page is None for line in lines)


def test_named_paths_any_name_but_never_a_fifo_or_nothing(tmp_path):
    named = tmp_path / "scan.docx"
    named.write_bytes(b"x")
    assert hostile.make_fifo(tmp_path / "pipe.pdf")
    entries, lines = expand([named, tmp_path / "pipe.pdf", tmp_path / "missing.pdf"])
    assert [e.path for e in entries] == [named]  # a file named on purpose is read whatever its name
    assert [(line.outcome, line.code) for line in lines] == [("skipped", "not-a-regular-file"),
                                                             ("not-stored", "not-found")]


def test_opening_refuses_what_is_no_longer_a_regular_file(tmp_path):
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"%PDF")
    entry = Entry(path)
    with open_entry(entry) as fh:
        assert fh.read() == b"%PDF"
    path.unlink()
    assert hostile.make_fifo(path)  # swapped for a FIFO after the folder was read: no blocking open
    with pytest.raises(NotRegular):
        open_entry(entry)
    path.unlink()
    path.symlink_to(tmp_path / "elsewhere")  # or for a link nobody checked
    with pytest.raises(OSError):
        open_entry(entry)
