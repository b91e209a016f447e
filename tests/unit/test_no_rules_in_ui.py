"""A reviewer's grep (issue 13, "Done when"): no GMP rule is decided in app/ui.

Who may act (user-name, author or issuer comparisons) and in which states (sets of states copied from the
services) are decided by the services and read from their views' ``may_*`` fields; a screen that compares
them itself decides a rule the audit trail never sees."""

from __future__ import annotations

import re
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "app" / "ui"

FORBIDDEN = {
    "an issuer comparison": re.compile(r"issued_by\w*\s*[!=]="),
    "a user-name comparison": re.compile(r"\.username\s*[!=]=|[!=]=\s*[\w.()]*\.username\b|\.username\s+(not\s+)?in\b"),
    "an author comparison": re.compile(r"author\w*\s*[!=]=|[!=]=\s*[\w.()]*author\w*\b"),
    "a user-id comparison": re.compile(r"user_id\s*[!=]=|[!=]=\s*[\w.()]*user_id\b"),
    "a button enabled from a state": re.compile(
        r"set(Enabled|Visible)\([^)]*\.(state|status|outcome)\s+(is|==|!=|in)\b"),
    "a state-set constant copied from a service": re.compile(
        r"^\s*(RETRYABLE|ENTERABLE|RETURNABLE|OPEN_EXCEPTIONS)\s*[:=]", re.MULTILINE),
    "a set of states spelled out": re.compile(
        r"\bin\s*[({]\s*(F|FormState|S|TemplateStatus|O|ScanOutcome|RecordState)\.\w+\s*,"
        r"|\bin\s*[({]\s*\"(issued|returned|draft|in_review|effective)\"\s*,"),
}


# Matches that decide no rule, each with why (a reviewer reads this list, so it stays short).
ALLOWED = {
    "app/ui/pages/records/records_list.py: a set of states spelled out": "the colour of the state column",
    "app/ui/pages/issuance/register_model.py: a set of states spelled out": "faded text for replaced and voided rows",
    "app/ui/pages/scans/scans_models.py: a set of states spelled out": "the colour of the outcome column",
}


def findings() -> list[str]:
    out = []
    for path in sorted(UI.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for what, pattern in FORBIDDEN.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                if f"{path.relative_to(UI.parent.parent)}: {what}" in ALLOWED:
                    continue
                out.append(f"{path.relative_to(UI.parent.parent)}:{line}: {what}: {match.group(0).strip()}")
    return out


def test_the_ui_decides_no_gmp_rule() -> None:
    assert findings() == []


def test_the_grep_finds_what_it_looks_for() -> None:
    """The patterns catch the comparisons this test was written against (issue 13)."""
    samples = {
        "an issuer comparison": "if view.issued_by == ctx.actor.username:",
        "a user-name comparison": "mine = self._ctx.actor.username in importers",
        "an author comparison": 'status is S.IN_REVIEW and info.author_username != me',
        "a state-set constant copied from a service": "RETRYABLE = frozenset({O.NO_CODE, O.BLANK})",
        "a set of states spelled out": "enabled = state in (F.ISSUED, F.REPLACED)",
        "a button enabled from a state": "self.replace_button.setEnabled(row is not None and row.state is F.ISSUED)",
        "a user-id comparison": "self.deactivate_button.setEnabled(usable and user.id != self._ctx.actor.user_id)",
    }
    for what, sample in samples.items():
        assert FORBIDDEN[what].search(sample), what
