"""A throwaway PostgreSQL server for the test session (real server, loopback only, trust auth).

`initdb` refuses to run as root, so as root the cluster is created and run as the `postgres` system user
that Debian's package creates. FORMTRAIL_TEST_PG_URL points the tests at an existing server instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not candidates:
        raise PostgresUnavailable("no PostgreSQL server binaries (pg_ctl); `make test` installs the postgresql package")
    return Path(candidates[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_as(user: str | None, argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    if user is not None:
        argv = ["runuser", "-u", user, "--", *argv]
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kwargs)


def _certificate(base: Path, owner: pwd.struct_passwd | None) -> str:
    """A self-signed certificate for the server (clients use sslmode=require: encrypted, not verified)."""
    key, cert = base / "server.key", base / "server.crt"
    subprocess.run(["openssl", "req", "-new", "-x509", "-days", "2", "-nodes", "-subj", "/CN=127.0.0.1",
                    "-newkey", "rsa:2048", "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    key.chmod(0o600)
    if owner is not None:
        for path in (key, cert):
            os.chown(path, owner.pw_uid, owner.pw_gid)
    return f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"


def _start_reaper(pg_ctl: Path, data: Path, base: Path, run_user: str | None) -> None:
    """A detached watcher that stops the server if this process dies before its teardown runs."""
    root = Path(__file__).resolve().parents[2]
    subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "tests.helpers.pg_reaper", str(os.getpid()), str(pg_ctl), str(data), str(base),
         *([run_user] if run_user else [])],
        cwd=root, start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


@contextlib.contextmanager
def throwaway_server(*, tls: bool = False, password: str | None = None) -> Iterator[str]:
    """Start a cluster in a temporary directory and yield a superuser URL; stop and remove it afterwards.

    ``tls``: the server offers TLS with a self-signed certificate. ``password``: TCP connections need a
    password (SCRAM) and the superuser ``postgres`` has this one (the URL yielded holds none, as a real
    server's administrator would use PGPASSWORD or ~/.pgpass)."""
    existing = os.environ.get("FORMTRAIL_TEST_PG_URL")
    if existing and not (tls or password):
        yield existing
        return
    bindir = _bindir()
    run_user = None
    if os.geteuid() == 0:
        try:
            pw = pwd.getpwnam("postgres")
        except KeyError:
            raise PostgresUnavailable("running as root and there is no 'postgres' user to run the server") from None
        run_user = "postgres"
    base = Path(tempfile.mkdtemp(prefix="formtrail-pg-"))
    if run_user:
        os.chown(base, pw.pw_uid, pw.pw_gid)
    data = base / "data"
    port = _free_port()
    try:
        auth = ["--auth=trust"]
        if password:
            pwfile = base / "pwfile"
            pwfile.write_text(password + "\n")
            if run_user:
                os.chown(pwfile, pw.pw_uid, pw.pw_gid)
            auth = ["--auth-local=trust", "--auth-host=scram-sha-256", f"--pwfile={pwfile}"]
        _run_as(run_user, [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", *auth,
                           "-E", "UTF8", "--no-sync"])
        opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={base} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        if tls:
            opts += " " + _certificate(base, pw if run_user else None)
        _run_as(run_user, [str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(base / "log"),
                           "-w", "-t", "60", "start"])
        _start_reaper(bindir / "pg_ctl", data, base, run_user)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            time.sleep(0.1)
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        with contextlib.suppress(Exception):
            _run_as(run_user, [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"])
        shutil.rmtree(base, ignore_errors=True)
