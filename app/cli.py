"""`formtrail`: the command-line face over the same services as the desktop app."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

from app.commands.base import Cli, CliError, parse_date

__all__ = ["Cli", "CliError", "build_parser", "main", "parse_date"]


class _VersionAction(argparse.Action):
    """``--version``: the version, the build's commit and its source hash (SE-02), worked out only when asked."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        from app import buildinfo

        print(f"formtrail {buildinfo.text()}")  # on stdout, as argparse's own version action does
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the sub-commands of ``command`` only (for None: every command's name and summary)."""
    from app import commands

    parser = argparse.ArgumentParser(
        prog="formtrail",
        description="Controlled blank forms for hybrid paper/electronic GMP records.",
    )
    parser.add_argument("--version", action=_VersionAction, nargs=0, help="show the version and build, and exit")
    parser.add_argument("--home", help="data directory (default: the user data directory; env FORMTRAIL_HOME)")
    parser.add_argument("--db", help="SQLAlchemy database URL (default: SQLite in the data directory; "
                                     "env FORMTRAIL_DB)")
    parser.add_argument("--user", help="acting user (env FORMTRAIL_USER); the password comes from FORMTRAIL_PASSWORD "
                                       "or a prompt")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    if command not in commands.NEEDS:
        # `formtrail --help` or `--version`, no command (the desktop app) or an unknown one: the names and
        # one-line help are enough, and loading every command module (and with it SQLAlchemy) would take a second.
        for name, text in commands.SUMMARY.items():
            sub.add_parser(name, help=text, add_help=False)
        return parser
    for module in commands.modules_for(command):
        module.register(sub)
    return parser


@contextlib.contextmanager
def _errors_to_stderr() -> Iterator[list[int]]:
    from sqlalchemy.exc import OperationalError

    from app.models.checks import BadStoredValue
    from app.services.core.errors import FormtrailError

    code = [0]
    try:
        yield code
    except (FormtrailError, CliError, BadStoredValue) as exc:
        # BadStoredValue: read or migrated outside a service (a schema upgrade, a backup's raw copy); its text
        # names table, column and value and says what to do, like the services' DamagedData
        print(f"formtrail: error: {exc}", file=sys.stderr)
        code[0] = 1
    except OperationalError as exc:
        print(f"formtrail: error: the database cannot be used: {exc.orig}", file=sys.stderr)
        code[0] = 1
    except BrokenPipeError:
        # The reader went away (`formtrail register | head`): stop quietly, as other Unix tools do; stdout is
        # pointed at devnull so Python's own flush at exit does not complain again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code[0] = 141
    except OSError as exc:
        print(f"formtrail: error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        code[0] = 1
    except KeyboardInterrupt:
        print("formtrail: interrupted", file=sys.stderr)
        code[0] = 130


def _command_word(argv: Sequence[str]) -> str | None:
    """The command named on the line (skipping the global options), or None for --help and the like."""
    words = list(argv)
    while words:
        word = words.pop(0)
        if word in ("--home", "--db", "--user"):
            words = words[1:]
        elif word.startswith(("--home=", "--db=", "--user=")):
            continue
        elif word == "--version":
            return ""  # no command module is needed to print the version
        elif word.startswith("-"):
            return None
        else:
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command_word(argv))
    args = parser.parse_args(argv)
    if args.command is None:
        from app.ui.shell.launch import main as gui_main

        return gui_main(home=args.home, db=args.db)
    cli = Cli(args)
    with _errors_to_stderr() as code:
        try:
            result = args.handler(cli)
            code[0] = int(result or 0)
            sys.stdout.flush()  # here, so a reader gone away is handled above and not at interpreter exit
        finally:
            cli.close()
    return code[0]


if __name__ == "__main__":
    sys.exit(main())
