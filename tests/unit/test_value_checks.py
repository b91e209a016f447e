"""The CHECK constraints: one list in the models, the same in the migration that created them, and the text
limits the same as the services'."""

from __future__ import annotations

import importlib.util

from sqlalchemy.dialects import postgresql, sqlite

from app.models import Base, IssuedForm
from app.models.checks import ColumnCheck, StoredEnum, UnknownStoredValue, column_checks
from app.models.migrate import MIGRATIONS
from app.services.core.limits import LIMITS


def _migration(name: str):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(f"m{name[:4]}", MIGRATIONS / "versions" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_0007_adds_what_the_models_declare():
    """When a later migration changes a check, compare with the newest migration that sets it instead."""
    added_later = [_migration("0008_serial_format").CHECK,  # issuance.serial_format's length
                   *_migration("0009_paper_review").column_checks()]  # the paper review tables
    paper_intake = _migration("0013_paper_intake")  # issue 16 / paper intake: two sets grew, new columns, a table
    added_later += [*paper_intake.NEW_SETS, *paper_intake.COLUMNS, *paper_intake.ADDITION]
    added_later += _migration("0012_record_lifecycle").column_checks()  # issue 16 / lifecycle: its new tables
    added_later += _migration("0015_governance").column_checks()  # issue 16 / governance: its new tables
    added_later += _migration("0010_identity_controls").column_checks()  # issue 16 / identity: its new tables
    added_later += _migration("0011_incidents").column_checks()  # issue 16 / safety: the incident log
    newest = {c.name: c for c in _migration("0007_value_checks").column_checks()}
    newest.update((c.name, c) for c in added_later)  # a later migration's check replaces one of the same name
    assert sorted(newest.values(), key=lambda c: c.name) == sorted(column_checks(Base.metadata), key=lambda c: c.name)


def test_text_columns_are_limited_as_the_services_limit_them():
    limits = {(c.table, c.column): c.max_length for c in column_checks(Base.metadata)}
    assert limits[("issuance", "purpose")] == LIMITS["purpose"][1]
    assert limits[("record_entry", "value")] == LIMITS["value"][1]
    for column in (("record_entry", "reason"), ("record_entry", "late_reason"), ("record_entry", "justification"),
                   ("issued_form", "state_reason"), ("app_user", "deactivation_reason"),
                   ("template_version", "change_reason"), ("scan_page", "resolution")):
        assert limits[column] == LIMITS["reason"][1], column


def test_every_enum_column_and_every_string_column_is_checked():
    checked = {(c.table, c.column) for c in column_checks(Base.metadata)}
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, StoredEnum) or getattr(column.type, "length", None):
                assert (table.name, column.name) in checked, f"{table.name}.{column.name}"
    assert ColumnCheck("issued_form", "state", values=("issued",)).violation == \
        '"state" IS NOT NULL AND NOT ("state" IN (\'issued\'))'


def test_an_unknown_value_read_names_its_table_and_column_on_both_dialects():
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        kind = IssuedForm.__table__.c.state.type
        process = kind.dialect_impl(dialect).result_processor(dialect, None)
        assert process("voided").value == "voided"
        try:
            process("void")
        except UnknownStoredValue as exc:
            assert (exc.table, exc.column, exc.value) == ("issued_form", "state", "void")
            assert "issued_form.state is 'void'" in str(exc) and "formtrail verify" in str(exc)
        else:
            raise AssertionError("an unknown value was read without complaint")
