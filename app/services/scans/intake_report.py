"""What an import reports: one line per page, one line per file that was not read (and why), and per file what
became of it — the hot folder files a file by that, and a rerun knows what is left to do."""

from __future__ import annotations

import dataclasses
import enum

from app.models import ScanOutcome

# File-level outcomes (a page line's outcome is a ScanOutcome value). ``code`` on a line says precisely why.
UNREADABLE_FILE = "unreadable-file"  # recorded, but it cannot be read (truncated, corrupt, encrypted, empty...)
TOO_LARGE = "too-large"  # recorded, but over this site's pixel or page limit
UNSUPPORTED = "unsupported-format"  # recorded, but not a PDF, TIFF, PNG or JPEG
DUPLICATE = "duplicate-source"  # the same bytes were imported before, or are being imported right now
SKIPPED = "skipped"  # not taken at all: a sub-folder, a FIFO, a broken symbolic link, a hidden file...
FOLLOWED_LINK = "followed-symlink"  # a note: the file was a symbolic link, read from its target
NOT_STORED = "not-stored"  # could not be opened or stored; nothing recorded
FAILED_OUTCOMES = frozenset({UNREADABLE_FILE, TOO_LARGE, UNSUPPORTED, NOT_STORED})

LIMIT_CODES = frozenset({"too-large", "too-many-pages"})


def file_outcome(code: str) -> str:
    """The file-level outcome for a ``scan_pages.SOURCE_REASONS`` code."""
    if code in LIMIT_CODES:
        return TOO_LARGE
    if code == "unsupported-format":
        return UNSUPPORTED
    return UNREADABLE_FILE


class FileState(enum.Enum):
    """What became of one file of an import."""

    RECORDED = "recorded"  # every page is recorded (linked or queued), now or by an earlier import
    UNREADABLE = "unreadable"  # recorded as a file that cannot be read (kept as received)
    UNFINISHED = "unfinished"  # stored but not all pages recorded (cancelled, busy elsewhere): import it again
    FAILED = "failed"  # not taken: not a regular file, cannot be opened, or skipped (see ``code``)


@dataclasses.dataclass(frozen=True)
class PageOutcome:
    """One line of an import report: a page, or a whole file that could not be used."""

    source: str
    page: int | None  # 1-based page within the file; None for a file-level line
    sha256: str | None
    outcome: str  # "linked", an exception code, or a file-level outcome (above)
    serial: str | None = None
    page_no: int | None = None
    reason: str | None = None
    scan_page_id: int | None = None
    code: str | None = None  # the precise, stable reason code (e.g. "truncated", "too-many-pages", "fifo")
    label: str | None = None  # the form's serial as printed beside its code, wherever ``serial`` is given

    @property
    def form_page(self) -> str:
        """The form and page a linked line names, as printed on the sheet ("BSL-01-000001 page 2")."""
        return f"{self.label or self.serial} page {self.page_no}"

    @property
    def linked(self) -> bool:
        return self.outcome == ScanOutcome.LINKED.value

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class FileResult:
    source: str
    sha256: str | None
    state: FileState
    code: str | None = None
    reason: str | None = None


@dataclasses.dataclass(frozen=True)
class ImportReport:
    outcomes: tuple[PageOutcome, ...]
    cancelled: bool = False
    files: tuple[FileResult, ...] = ()

    @property
    def linked(self) -> int:
        return sum(o.linked for o in self.outcomes)

    @property
    def exceptions(self) -> int:
        return sum(1 for o in self.outcomes if o.page is not None and not o.linked)

    @property
    def failed_files(self) -> int:
        return sum(1 for o in self.outcomes if o.page is None and o.outcome in FAILED_OUTCOMES)

    @property
    def skipped(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome == SKIPPED)

    @property
    def unfinished(self) -> int:
        return sum(1 for f in self.files if f.state is FileState.UNFINISHED)
