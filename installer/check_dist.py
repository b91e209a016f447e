"""Start the built program the way a user would: `--version`, then the desktop app offscreen until the log-in
window shows (after a first-run `init` made with the built command line itself)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path


def main(folder: str) -> int:
    exe = Path(folder) / ("formtrail.exe" if os.name == "nt" else "formtrail")
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120)
    print(version.stdout.strip() or version.stderr.strip())
    if version.returncode != 0:
        return 1
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "FORMTRAIL_HOME": home, "QT_QPA_PLATFORM": "offscreen",
               "FORMTRAIL_NEW_PASSWORD": "Dist-Check-Pw1!"}
        init = subprocess.run([str(exe), "init", "--site", "DIST-01", "--site-name", "Dist check", "--admin", "admin"],
                              env=env, capture_output=True, text=True, timeout=300)
        print(init.stdout.strip() or init.stderr.strip())
        if init.returncode != 0:
            return 1
        smoke = subprocess.run([str(exe), "gui", "--smoke-test"], env=env, capture_output=True, text=True,
                               timeout=300)
        print(smoke.stdout.strip() or smoke.stderr.strip())
        if smoke.returncode != 0 or "login window shown" not in smoke.stdout:
            return 1
    print("dist check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
