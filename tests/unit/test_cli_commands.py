"""The lazy command table names exactly the modules that register each command, and each command parses
with only its own modules loaded."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from app import commands
from app.cli import _command_word, build_parser

ROOT = Path(__file__).resolve().parents[2]


def _registered_by() -> dict[str, set[str]]:
    """command -> modules whose register() created or extended it (by comparing sub-parsers)."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    found: dict[str, set[str]] = {}
    for module in commands.all_modules():
        before = {name: len(p._actions) for name, p in sub.choices.items()}  # noqa: SLF001 - argparse has no API
        before_sub = {name: len(p._subparsers._group_actions[0].choices) if p._subparsers else 0  # noqa: SLF001
                      for name, p in sub.choices.items()}
        module.register(sub)
        name = module.__name__.rsplit(".", 1)[1]
        for command, p in sub.choices.items():
            grew = command not in before or len(p._actions) != before[command] or (  # noqa: SLF001
                p._subparsers and len(p._subparsers._group_actions[0].choices) != before_sub[command])  # noqa: SLF001
            if grew:
                found.setdefault(command, set()).add(name)
    return found


def test_the_lazy_table_matches_the_modules() -> None:
    assert {c: set(m) for c, m in commands.NEEDS.items()} == _registered_by()


def test_each_command_parses_with_only_its_modules() -> None:
    for command in commands.NEEDS:
        parser = build_parser(command)
        subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))  # noqa: SLF001
        assert command in subparsers.choices


def test_the_command_word_skips_global_options() -> None:
    assert _command_word(["--home", "/x", "--user", "dc", "issue", "X"]) == "issue"
    assert _command_word(["--db=sqlite:///x", "scan", "import"]) == "scan"
    assert _command_word(["--help"]) is None and _command_word([]) is None


def test_version_does_not_load_the_command_modules() -> None:
    probe = ("import sys, app.cli; sys.argv = ['formtrail', '--version']\n"
             "try:\n    app.cli.main()\nexcept SystemExit:\n    pass\n"
             "print(sorted(m for m in sys.modules if m.startswith('app.commands.') and m != 'app.commands.base'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_summary_table_matches_the_modules() -> None:
    """`formtrail --help` lists commands from commands.SUMMARY without loading the modules: the same names and
    one-line help as the modules register."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    for module in commands.all_modules():
        module.register(sub)
    registered = {a.dest: a.help for a in sub._choices_actions}  # noqa: SLF001 - argparse has no API
    assert registered == commands.SUMMARY


def test_help_and_unknown_commands_do_not_load_sqlalchemy() -> None:
    probe = ("import sys, contextlib, io, app.cli\n"
             "for argv in (['--help'], ['bogus']):\n"
             "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()), "
             "contextlib.redirect_stderr(io.StringIO()):\n"
             "        app.cli.main(argv)\n"
             "print(sorted(m for m in sys.modules if m.startswith(('sqlalchemy', 'app.commands.', 'alembic'))\n"
             "             and m != 'app.commands.base'))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_a_typed_password_is_asked_once_per_command(monkeypatch) -> None:
    """`db upgrade` checks the administrator before and records the act after the upgrade: one prompt."""
    import getpass as gp

    from app.commands.base import Cli
    asked: list[str] = []
    monkeypatch.delenv("FORMTRAIL_PASSWORD", raising=False)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr(gp, "getpass", lambda prompt="": asked.append(prompt) or "typed-secret")
    cli = Cli(build_parser("roles").parse_args(["roles"]))
    assert cli.password() == cli.password() == "typed-secret"
    assert len(asked) == 1
