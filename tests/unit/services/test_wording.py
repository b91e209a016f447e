"""The people-readable vocabulary of the audit trail (issue 14, item 4): every entity, field and action the trail
can hold has a label, and each kind of change reads as "Label: old → new" (no database needed)."""

from __future__ import annotations

import ast
import dataclasses
import json
from pathlib import Path

from sqlalchemy import inspect

from app.models import Controlled
from app.services.core import audit
from app.services.core.errors import PermissionDenied, RuleViolation
from app.services.reports import wording
from app.services.reports.wording import Names, ScanPageName

APP = Path(__file__).resolve().parents[3] / "app"
NAMES = Names(people={"op": "Otto Operator", "admin": "Ada Admin", "op2": "Olga Operator"},
              user_ids={5: "op", 6: "op2"}, grants={8: ("qa", 6)}, forms={1: "000001"},
              entries={8: (1, "0.0998"), 12: (2, "0.0999")},
              field_labels={"000001": {"sample_weight_2": "Sample weight, replicate 2"}})


@dataclasses.dataclass
class Event:
    action: str
    entity: str | None = None
    entity_id: str | None = None
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    username: str = "admin"
    full_name: str = "Ada Admin"


def _controlled() -> list[type]:
    found, todo = [], list(Controlled.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if hasattr(cls, "__tablename__"):
            found.append(cls)
    return found


def test_every_entity_and_column_the_trail_can_hold_has_a_label() -> None:
    missing = []
    for cls in _controlled():
        entity = cls.__audit_entity__ or cls.__tablename__
        if entity not in wording.ENTITY_LABELS:
            missing.append(entity)
        for column in inspect(cls).column_attrs:
            if column.key not in wording.FIELD_LABELS and (entity, column.key) not in wording.ENTITY_FIELD_LABELS:
                missing.append(f"{entity}.{column.key}")
    assert missing == []


def _recorded_events() -> tuple[set[str], set[str]]:
    """The actions and entities that record_event calls in app/ spell out."""
    actions, entities = set(), set()
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "record_event":
                if len(node.args) > 1 and isinstance(node.args[1], ast.Constant):
                    actions.add(node.args[1].value)
                entities |= {k.value.value for k in node.keywords
                             if k.arg == "entity" and isinstance(k.value, ast.Constant)}
    return actions, entities


def test_every_action_and_system_entity_has_a_label() -> None:
    actions, entities = _recorded_events()
    assert {"EXPORT", "PRINT", "LOCKOUT", "BACKUP"} <= actions  # the scan finds them
    actions |= {"LOGIN_SUCCESS", "LOGIN_FAILURE", "SESSION_RESUME", "SIGN_FAIL", "CLOCK_SKEW", "CLOCK_ANOMALY",
                "STATE_CHANGE", RuleViolation.audit_action, PermissionDenied.audit_action}
    for cls in _controlled():
        actions |= {cls.__audit_create_action__, cls.__audit_update_action__}
    assert sorted(actions - set(wording.ACTION_LABELS)) == []
    assert sorted(entities - set(wording.ENTITY_LABELS)) == []


def test_an_unknown_name_is_humanized_never_shown_raw() -> None:
    assert wording.entity_label("lab_instrument") == "Lab instrument"
    assert wording.field_label("lab_instrument", "calibrated_by_id") == "Calibrated by"
    assert wording.action_label("SEAL_BROKEN") == "Seal broken"
    described = wording.describe(Event("SEAL_BROKEN", "lab_instrument", "BAL-7", "seal_no", "12", "13"), NAMES)
    assert described.changes == ("Seal no: 12 → 13",) and described.what == "Lab instrument"


def test_a_field_change_reads_label_old_new_with_names() -> None:
    event = Event("UPDATE", "record_entry", "000001/sample_weight_2#12", "supersedes_id", None, "8",
                  username="op", full_name="Otto Operator")
    w = wording.describe(event, NAMES)
    assert (w.who, w.action, w.what, w.subject) == ("Otto Operator (op)", "Changed", "Record value",
                                                   "000001, Sample weight, replicate 2 (entry 2)")
    assert w.changes == ("Replaces entry: (empty) → entry 1 (0.0998)",) and (w.old, w.new) == ("(empty)",
                                                                                               "entry 1 (0.0998)")
    revoked = wording.describe(Event("UPDATE", "role_grant", "8", "revoked_by", None, "admin"), NAMES)
    assert revoked.subject == "QA for Olga Operator (op2)"
    assert revoked.changes == ("Revoked by: (empty) → Ada Admin (admin)",)
    when = wording.describe(Event("UPDATE", "record_entry", "000001/x#3", "verified_at", None,
                                  "2026-03-04T13:07:12.111000+00:00"), NAMES).new
    assert when.startswith("2026-03-04 ") and "(UTC" in when and "T13" not in when


def test_a_creation_lists_its_values_labelled_without_json_or_plumbing() -> None:
    snapshot = {"id": "12", "record_id": "1", "field_name": "sample_weight_2", "value": "0.0999", "is_na": "false",
                "kind": "paper-correction", "entered_by": "op", "entered_by_id": "5", "scan_page_id": "3",
                "supersedes_id": None, "password_hash": audit.REDACTED}
    w = wording.describe(Event("CREATE", "record_entry", "000001/sample_weight_2#12",
                               new_value=audit.format_value(snapshot)), Names(
        people=NAMES.people, user_ids=NAMES.user_ids,
        scan_pages={3: ScanPageName("000001", 1, "back.png", 1, audit.dt.datetime(2026, 3, 4, tzinfo=audit.dt.UTC))}))
    assert w.changes == ("Value: 0.0999", "Not applicable: no", "Kind of entry: paper correction",
                         "Entered by: Otto Operator (op)", "Read from scan page: form 000001, page 1 (back.png, "
                         "file page 1)", "Password: (secret: not recorded)")
    assert w.new == "; ".join(w.changes) and w.old == ""


def test_system_events_and_settings_read_as_text() -> None:
    export = wording.describe(Event("EXPORT", "audit_trail", new_value=audit.format_value(
        {"format": "pdf", "rows": 3, "filter": {"username": "op", "action": "LOGIN_SUCCESS"}, "ok": True})), NAMES)
    assert export.changes == ("Format: pdf", "Rows: 3", "Filter: Action: Logged in, User: Otto Operator (op)",
                              "Everything verified: yes")
    replace = wording.describe(Event("REPLACE", "issued_form", "000001", new_value="000003"), NAMES)
    assert (replace.what, replace.subject, replace.changes) == ("Issued form", "000001",
                                                                ("Replacement form: 000003",))
    setting = wording.describe(Event("CONFIG_CHANGE", "setting", "records.correction_reasons", "value",
                                     json.dumps(["Typo"]), json.dumps(["Typo", "Calculation error"])), NAMES)
    assert setting.subject == "Reasons offered for a correction (comma separated)"  # the setting's title
    assert setting.changes == ("Value: Typo → Typo; Calculation error",)
    login = wording.describe(Event("LOGIN_SUCCESS"), NAMES)
    assert (login.action, login.changes, login.subject) == ("Logged in", (), "")
