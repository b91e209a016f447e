"""Run the real `formtrail` command in a child process, as a user or a script would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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
            new_password: str | None = None, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        env = dict(self.env)
        if user:
            env["FORMTRAIL_USER"] = user
        if password is not None:
            env["FORMTRAIL_PASSWORD"] = password
        if new_password is not None:
            env["FORMTRAIL_NEW_PASSWORD"] = new_password
        proc = subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)
        if check and proc.returncode != 0:
            raise AssertionError(f"formtrail {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str, **kwargs: Any) -> Any:
        return json.loads(self.run(*args, **kwargs).stdout)
