"""Filling in records through the services."""

from __future__ import annotations

from app.services.records import records
from tests.helpers.seed import Seed

# Values for every field of QC-WS-014 (the balance weighing worksheet), all within limits.
QC_WS_014 = {
    "balance_id": "BAL-QC-03", "calibration_valid_until": "2027-01-31", "balance_level_ok": "yes",
    "check_weight_id": "CW-100-07", "check_weight_reading": "100.0003", "sample_id": "LOT 24-0117",
    "sample_weight_1": "0.1002", "sample_weight_2": "0.0998", "sample_weight_3": "0.1011",
    "weighing_time": "09:42", "printout_attached": "yes",
}


def fill(seed: Seed, serial: str, values: dict[str, str] = QC_WS_014, *, who: str = "op") -> records.RecordView:
    view = None
    for field, value in values.items():
        try:
            view = records.enter_value(seed.db, seed.actors[who], serial=serial, field=field, value=value)
        except Exception as exc:  # noqa: BLE001 - name the field that failed
            raise AssertionError(f"{field}={value!r}: {exc}") from exc
    return view


def verify_critical(seed: Seed, serial: str, *, who: str = "op2") -> records.RecordView:
    view = records.record_view(seed.db, seed.actors[who], serial)
    for field in view.fields:
        if field.needs_verification:
            view = records.verify_field(seed.db, seed.actors[who], serial=serial, field=field.name)
    return view
