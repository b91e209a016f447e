"""Run the real `formtrail` command in a child process, as a user or a script would."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


class CliRunner:
    def __init__(self, home: Path, *, db_url: str | None = None) -> None:
        self.home = home
        self.db_url = db_url
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FORMTRAIL_")}
        self.env.update(FORMTRAIL_HOME=str(home), FORMTRAIL_HASH_PROFILE="fast", FORMTRAIL_WORKSTATION="CLI-WS")
        if db_url:
            self.env["FORMTRAIL_DB"] = db_url

    def run(self, *args: str, user: str | None = None, password: str | None = None,
            new_password: str | None = None, check: bool = True, timeout: float = 120,
            sign: str | None = None) -> subprocess.CompletedProcess:
        """Run ``formtrail ARGS``. ``sign``: the command signs; the signer types this password at the terminal
        (a pseudo-terminal here) when asked, as a person would."""
        if sign is not None:
            return self._signing(args, user=user, password=password, sign=sign, check=check, timeout=timeout)
        env = dict(self.env)
        if user:
            env["FORMTRAIL_USER"] = user
        if password is not None:
            env["FORMTRAIL_PASSWORD"] = password
        if new_password is not None:
            env["FORMTRAIL_NEW_PASSWORD"] = new_password
        # A session of its own: no controlling terminal, as in CI (a signature would otherwise ask on yours).
        proc = subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"formtrail {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def _signing(self, args: tuple[str, ...], *, user: str | None, password: str | None, sign: str, check: bool,
                 timeout: float) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if user:
            env["FORMTRAIL_USER"] = user
        if password is not None:
            env["FORMTRAIL_PASSWORD"] = password
        return self._at_terminal(args, env, {"Password to sign as": sign}, check=check, timeout=timeout)

    def at_terminal(self, *args: str, answers: dict[str, str], new_password: str | None = None,
                    check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``formtrail ARGS`` at a (pseudo-)terminal, as a person would: when the output shows a prompt
        (a key of ``answers``), its answer is typed, once."""
        env = dict(self.env)
        if new_password is not None:
            env["FORMTRAIL_NEW_PASSWORD"] = new_password
        return self._at_terminal(args, env, answers, check=check, timeout=timeout)

    def _at_terminal(self, args: tuple[str, ...], env: dict[str, str], answers: dict[str, str], *, check: bool,
                     timeout: float) -> subprocess.CompletedProcess:
        pid, fd = pty.fork()
        if pid == 0:  # the child: its controlling terminal is the pseudo-terminal
            try:
                os.execve(sys.executable, [sys.executable, "-m", "app", *args], env)
            finally:
                os._exit(127)
        output = b""
        waiting = {prompt.encode(): answer for prompt, answer in answers.items()}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _w, _x = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal (it ended)
                break
            if not chunk:
                break
            output += chunk
            for prompt in [p for p in waiting if p in output]:
                os.write(fd, waiting.pop(prompt).encode() + b"\n")
        else:  # the deadline passed with the command still running: stop it rather than wait for ever
            os.kill(pid, 9)
        _pid, status = os.waitpid(pid, 0)
        os.close(fd)
        code = os.waitstatus_to_exitcode(status)
        text = output.decode("utf-8", "replace").replace("\r\n", "\n")
        proc = subprocess.CompletedProcess([sys.executable, "-m", "app", *args], code, text, text)
        if check and code != 0:
            raise AssertionError(f"formtrail {' '.join(args)} exited {code}:\n{text}")
        return proc

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.run(*args, **kwargs).stdout)
