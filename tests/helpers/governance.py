"""Settings in tests: a GMP-relevant setting changes only once QA approves it (SE-02); ``set_setting`` asks as the
administrator and, when the change waits, approves it as QA, so a test can put a site rule in effect in one line."""

from __future__ import annotations

from typing import Any

from app.services.site import config_changes, settings
from tests.helpers.cli import CliRunner
from tests.helpers.seed import PASSWORD, Seed


def set_setting(seed: Seed, key: str, value: Any, *, reason: str = "test set-up",
                approver: str = "qa") -> config_changes.ConfigChangeView | None:
    """Change ``key`` as the seed's administrator and put it in effect (approved by ``approver`` when it needs)."""
    change = settings.change(seed.db, seed.admin, key=key, value=value, reason=reason)
    if change is not None and change.is_pending:
        qa = seed.actors[approver]
        change = config_changes.approve(seed.db, qa, change_id=change.id, username=qa.username, password=PASSWORD)
    return change


def set_config_cli(cli: CliRunner, key: str, value: str, *, admin: tuple[str, str], approver: tuple[str, str],
                   reason: str = "test set-up") -> None:
    """`config set` as ``admin`` (user, password) and, when the change waits for QA, `config approve` as
    ``approver``, who types the password at the (pseudo-)terminal."""
    out = cli.run("config", "set", key, value, "--reason", reason, user=admin[0], password=admin[1]).stdout
    if "PENDING" in out:
        (change,) = [c for c in cli.json("config", "pending", "--json", user=approver[0], password=approver[1])
                     if c["key"] == key]
        cli.run("config", "approve", str(change["id"]), user=approver[0], password=approver[1], sign=approver[1])
