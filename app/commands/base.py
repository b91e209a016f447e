"""What every command module shares: the handler's view of the command line (``Cli``), its errors and
argument helpers. Here and not in app.cli, so the command modules do not import the module that loads them."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: `formtrail --version` and `--help` must not load SQLAlchemy
    from app.runtime import RuntimeConfig
    from app.services.core.db import Actor, Database


def _has_terminal() -> bool:
    if os.name == "nt":
        return sys.stdin.isatty()  # getpass reads the console itself
    try:
        os.close(os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY))
    except OSError:
        return False
    return True


class CliError(Exception):
    """A problem with how the command was called; printed without a traceback."""


class Cli:
    """What a command handler gets: the parsed options, the database, the acting user, output helpers."""

    def __init__(self, args: argparse.Namespace) -> None:
        from app.runtime import resolve_config

        self.args = args
        self.config: RuntimeConfig = resolve_config(home=args.home, db=args.db)
        self._db: Database | None = None
        self._actor: Actor | None = None
        self._typed: dict[str, str] = {}  # a password typed at the prompt, asked once per command

    @property
    def db(self) -> Database:
        if self._db is None:
            from app.runtime import open_database

            self._db = open_database(self.config)
        return self._db

    def password(self, prompt: str = "Password: ", *, env: str = "FORMTRAIL_PASSWORD") -> str:
        value = os.environ.get(env)
        if value is not None:
            return value
        if env not in self._typed:
            if not sys.stdin.isatty():
                raise CliError(f"no password: set {env} or run the command in a terminal to be asked")
            self._typed[env] = getpass.getpass(prompt)
        return self._typed[env]

    def new_password(self, prompt: str = "New password") -> str:
        value = os.environ.get("FORMTRAIL_NEW_PASSWORD")
        if value is not None:
            return value
        if not sys.stdin.isatty():
            raise CliError("no new password: set FORMTRAIL_NEW_PASSWORD or run the command in a terminal")
        first = getpass.getpass(f"{prompt}: ")
        if getpass.getpass(f"{prompt} (again): ") != first:
            raise CliError("the two passwords differ; nothing was changed")
        return first

    def username(self) -> str:
        name = self.args.user or os.environ.get("FORMTRAIL_USER")
        if not name:
            raise CliError("name the acting user with --user NAME or FORMTRAIL_USER")
        return name

    def actor(self, *, allow_password_change: bool = False) -> Actor:
        """Log the acting user in (once per command); a wrong password counts toward the lockout."""
        if self._actor is None:
            from app.services.core.errors import PasswordChangeRequired
            from app.services.identity import auth
            from app.services.site import setup

            setup.require_site(self.db)
            outcome = auth.authenticate(self.db, username=self.username(), password=self.password())
            self._actor = outcome.actor
            if outcome.password_change and not allow_password_change:
                raise PasswordChangeRequired(
                    f"the password of {outcome.actor.username!r} is {outcome.password_change}: "
                    "set a new one with `formtrail user passwd` first"
                )
        return self._actor

    def sign_password(self, meaning: str) -> str:
        """Signing asks for the password again, whatever the session, and only from the signer's terminal:
        never from FORMTRAIL_PASSWORD or a pipe, so no script can sign for a person (Part 11 §11.200: the
        signing components stay under the sole control of their owner)."""
        if not _has_terminal():
            raise CliError(f"signing as '{meaning}' needs you at a terminal to type your password; a signature "
                           "is never taken from FORMTRAIL_PASSWORD or from a pipe")
        with warnings.catch_warnings():
            warnings.simplefilter("error", getpass.GetPassWarning)  # never fall back to reading stdin
            try:
                return getpass.getpass(f"Password to sign as '{meaning}': ")
            except getpass.GetPassWarning:
                raise CliError("no terminal to read the signing password from") from None

    def close(self) -> None:
        if self._actor is not None and self._db is not None:
            from app.services.core.errors import FormtrailError
            from app.services.identity import auth

            with contextlib.suppress(FormtrailError):
                auth.logout(self._db, self._actor)
        if self._db is not None:
            self._db.engine.dispose()

    @staticmethod
    def out(text: str = "") -> None:
        print(text)

    @staticmethod
    def json(data: Any) -> None:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))

    @staticmethod
    def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        cells = [[("" if c is None else str(c)) for c in row] for row in rows]
        widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
        print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        print("  ".join("-" * w for w in widths))
        for row in cells:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip())


Handler = Callable[[Cli], int | None]


def parse_date(text: str, what: str = "dates") -> dt.date:
    """A calendar date typed on the command line, with an error a person can act on."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{what} are YYYY-MM-DD, not {text!r}") from None


def add_group(parser: argparse.ArgumentParser, **kwargs: Any) -> argparse._SubParsersAction:
    """Sub-commands under ``parser`` (e.g. `db init`), kept where another module can add to them."""
    group = parser.add_subparsers(**kwargs)
    parser.formtrail_group = group  # type: ignore[attr-defined]
    return group


def group_of(sub: argparse._SubParsersAction, command: str) -> argparse._SubParsersAction:
    """The sub-commands another module created under ``command`` (see ``add_group``)."""
    return sub.choices[command].formtrail_group
