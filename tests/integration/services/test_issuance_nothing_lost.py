"""Nothing lost, nothing stuck (issuing side): rendering outside the write lock, text limits, the release only
after the file exists, the serial high-water mark (invariants 1 and 10)."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest

from app.services.core.errors import DomainError, ValidationError
from app.services.issuance import printing, serial_guard
from app.services.issuance.issuance import issue_forms
from app.services.site import settings
from tests.helpers.forms import effective_template, issue


def _issue(seed, **changes):  # noqa: ANN001, ANN202
    kwargs = dict(code="QC-WS-014", copies=3, purpose="Batch 24-0117", reference=None, issued_to="Line 1",
                  due=dt.date(2099, 1, 1))
    return issue_forms(seed.db, seed.dc, **{**kwargs, **changes})


def test_rendering_holds_no_write_lock_so_other_users_keep_working(seed):
    """While the PDF of an issuance is being made, another user's audited change commits at once."""
    effective_template(seed)
    done = threading.Event()
    errors: list[BaseException] = []

    def other_user_changes_a_setting() -> None:
        try:
            settings.change(seed.db, seed.admin, key="issuance.due_soon_days", value=7, reason="CC-12 while issuing")
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            done.set()

    def progress(page: int, total: int) -> None:
        if page == 2:
            worker = threading.Thread(target=other_user_changes_a_setting)
            worker.start()
            # The issuer waits here, mid-render: with the write lock held this could not finish.
            assert done.wait(10), "another user's change waited for the issuer's rendering"

    result = _issue(seed, copies=5, progress=progress)
    assert errors == [] and done.is_set()
    assert result.serials == ("000001", "000002", "000003", "000004", "000005")
    with seed.db.read() as session:
        assert settings.get(session, "issuance.due_soon_days") == 7


def test_long_text_is_refused_with_a_code_and_nothing_is_issued(seed):
    effective_template(seed)
    with pytest.raises(ValidationError) as refused:
        _issue(seed, purpose="x" * 30_000)
    assert refused.value.code == "text-too-long"
    with pytest.raises(ValidationError) as refused:
        _issue(seed, issued_to="y" * 201)
    assert refused.value.code == "text-too-long"
    longest = _issue(seed, purpose="p" * 300, reference="r" * 120, issued_to="t" * 200)
    assert longest.serials[0] == "000001"  # the refusals used no serial


def test_every_issuance_raises_the_high_water_mark_in_the_file_store(seed):
    effective_template(seed)
    root = seed.db.files.root
    assert serial_guard.high_water(root, "BSL-01") == 0
    issue(seed, copies=4)
    assert serial_guard.high_water(root, "BSL-01") == 4
    serial_guard.raise_high_water(root, "BSL-01", 2, workstation="W")  # never lowered
    assert serial_guard.high_water(root, "BSL-01") == 4
    stored = json.loads(serial_guard.mark_path(root, "BSL-01").read_text())
    assert stored["last_serial"] == 4 and stored["site"] == "BSL-01"


def test_a_damaged_high_water_mark_stops_issuing_with_a_clear_error(seed):
    effective_template(seed)
    issue(seed, copies=1)
    serial_guard.mark_path(seed.db.files.root, "BSL-01").write_text("{not json")
    with pytest.raises(DomainError, match="high-water mark"):
        issue(seed, copies=1)
    assert issue  # nothing else to check: the refusal happened before any commit


def test_release_happens_only_after_the_file_exists(seed, tmp_path):
    effective_template(seed)
    result = issue(seed, copies=2)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(ValidationError) as refused:
        printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=blocker / "copies.pdf")
    assert refused.value.code == "cannot-write-file"
    [pdf] = printing.pdfs_of(seed.db, seed.dc, result.issuance_id)
    assert pdf.pdf_id == result.pdf_id and pdf.released is False  # the one release is still available
    good = tmp_path / "out" / "copies.pdf"
    saved = printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=good)
    assert saved.path == good and good.read_bytes().startswith(b"%PDF")
    assert [p.name for p in good.parent.iterdir()] == ["copies.pdf"]  # no temporary file left
    with pytest.raises(DomainError) as again:
        printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=tmp_path / "second.pdf")
    assert again.value.code == "already-released" and not (tmp_path / "second.pdf").exists()
    with pytest.raises(ValidationError) as exists:
        printing.save_to_file(seed.db, seed.dc, result.pdf_id, out=good)
    assert exists.value.code == "file-exists"


def test_every_reason_and_value_has_a_length_limit(seed):
    from app.services.reconciliation import reconciliation
    from app.services.records import records
    effective_template(seed)
    result = issue(seed, copies=1)
    with pytest.raises(ValidationError) as refused:
        reconciliation.void_form(seed.db, seed.dc, serial=result.serials[0], reason="spoilt " * 500)
    assert refused.value.code == "text-too-long"
    with pytest.raises(ValidationError) as refused:
        records.enter_value(seed.db, seed.op, serial=result.serials[0], field="balance_id", value="B" * 5000)
    assert refused.value.code == "text-too-long"


@pytest.mark.direct_sql
def test_serials_taken_behind_the_lock_are_planned_again_and_never_repeat(seed, monkeypatch):
    """A program issuing without the issuing lock (an older version during an upgrade) moves the counter
    while the PDF is rendered: the copies are planned and rendered again with the next free serials; if it
    keeps happening, issuing stops with code serials-moved and nothing is issued."""
    from sqlalchemy import text

    from app.services.issuance import issuance
    effective_template(seed)
    real = issuance.render_to_store
    moves = {"left": 1}

    def render_while_someone_issues(db, **kwargs):  # noqa: ANN001, ANN003, ANN202
        if moves["left"]:
            moves["left"] -= 1
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE serial_counter SET next_serial = next_serial + 5"))
        return real(db, **kwargs)
    monkeypatch.setattr(issuance, "render_to_store", render_while_someone_issues)
    result = issue(seed, copies=2)
    assert list(result.serials) == ["000006", "000007"]  # planned again past the five taken meanwhile
    moves["left"] = 99
    with pytest.raises(DomainError) as moved:
        issue(seed, copies=1)
    assert moved.value.code == "serials-moved"
    from app.services.issuance import register
    assert register.count_forms(seed.db, seed.viewer, register.RegisterFilter()) == 2  # nothing issued
