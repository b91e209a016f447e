"""Which files an import takes, and how each is opened: never blocking, never following a link anywhere but to
a regular file, and with a report line for every entry that is not taken.

A folder's entries are looked at one by one without following anything (``lstat``): sub-folders, FIFOs,
sockets, devices, hidden files, files that are not scans, and symbolic links that are broken or lead to
anything but a regular file are skipped, each with its own line. A symbolic link to a regular file is read
from its target (the report says so); opening it as this process's user is the check that the user could read
it anyway. Files are opened non-blocking, so a FIFO swapped in after the look cannot hang the import, and
checked again once open (``fstat``).
"""

from __future__ import annotations

import dataclasses
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from app.services.scans.intake_report import FOLLOWED_LINK, NOT_STORED, SKIPPED, PageOutcome

SUFFIXES = (".pdf", ".tif", ".tiff", ".png", ".jpg", ".jpeg")
MAX_NAME = 255  # characters of a file name kept as its original name


@dataclasses.dataclass(frozen=True)
class Entry:
    path: Path  # as given, or as found in a given folder
    target: Path | None = None  # the regular file a symbolic link leads to


class NotRegular(OSError):
    """What was opened is not a regular file (it changed since the folder was read)."""


def expand(paths: Iterable[Path]) -> tuple[list[Entry], list[PageOutcome]]:
    """The files to import, and a report line for every path or folder entry that is not taken."""
    entries: list[Entry] = []
    lines: list[PageOutcome] = []
    for path in paths:
        try:
            info = path.lstat()
        except OSError as exc:
            lines.append(_line(path, NOT_STORED, "not-found" if isinstance(exc, FileNotFoundError) else "cannot-open",
                               f"cannot be read: {exc.strerror or exc}"))
            continue
        if stat.S_ISDIR(info.st_mode) or (stat.S_ISLNK(info.st_mode) and path.is_dir()):
            # A folder named on purpose is read even through a link (e.g. a mounted share); its entries are not.
            _folder(path, entries, lines)
        else:
            _entry(path, info, entries, lines, in_folder=False)
    return entries, lines


def _folder(folder: Path, entries: list[Entry], lines: list[PageOutcome]) -> None:
    try:
        children = sorted(folder.iterdir())
    except OSError as exc:
        lines.append(_line(folder, NOT_STORED, "cannot-open", f"the folder cannot be read: {exc.strerror or exc}"))
        return
    for child in children:
        try:
            info = child.lstat()
        except OSError:
            continue  # gone since the folder was listed
        _entry(child, info, entries, lines, in_folder=True)


def _entry(path: Path, info: os.stat_result, entries: list[Entry], lines: list[PageOutcome], *,
           in_folder: bool) -> None:
    mode = info.st_mode
    if in_folder and path.name.startswith("."):
        lines.append(_line(path, SKIPPED, "hidden-file", "a hidden file; not imported"))
        return
    if stat.S_ISDIR(mode):
        lines.append(_line(path, SKIPPED, "sub-folder", "a folder inside the folder; import it on its own"))
        return
    target = None
    if stat.S_ISLNK(mode):
        try:
            target = path.resolve(strict=True)
            mode = target.stat().st_mode
        except (OSError, RuntimeError):  # RuntimeError: a loop of links
            lines.append(_line(path, SKIPPED, "broken-symlink", "a symbolic link to nothing (broken); not imported"))
            return
        if stat.S_ISDIR(mode):
            lines.append(_line(path, SKIPPED, "sub-folder", f"a symbolic link to the folder {target}; import it "
                                                            "on its own"))
            return
    if not stat.S_ISREG(mode):
        kind = _kind(mode)
        via = f"a symbolic link to {target}, which is " if target is not None else ""
        lines.append(_line(path, SKIPPED, "not-a-regular-file", f"{via}{kind}, not a file; not imported"))
        return
    if in_folder and path.suffix.lower() not in SUFFIXES:
        lines.append(_line(path, SKIPPED, "not-a-scan-file", "not a scan file (PDF, TIFF, PNG or JPEG by its name); "
                                                             "not imported"))
        return
    if len(path.name) > MAX_NAME:
        lines.append(_line(path, SKIPPED, "name-too-long", f"the file name has {len(path.name)} characters; at "
                                                           f"most {MAX_NAME} are kept. Rename it and import again"))
        return
    if target is not None:
        lines.append(_line(path, FOLLOWED_LINK, "symlink", f"a symbolic link: read from the regular file {target}"))
    entries.append(Entry(path, target))


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "something other than a regular file"


def _line(path: Path, outcome: str, code: str, reason: str) -> PageOutcome:
    return PageOutcome(source=str(path), page=None, sha256=None, outcome=outcome, reason=reason, code=code)


def open_entry(entry: Entry) -> BinaryIO:
    """The entry opened for reading (non-blocking, no links followed but the one checked); raises OSError
    (``NotRegular`` if it is no longer a regular file)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(entry.target or entry.path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotRegular(f"{entry.path} is no longer a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
