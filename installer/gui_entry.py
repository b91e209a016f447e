"""Entry point of the windowed executable (no console window on Windows)."""

import multiprocessing
import sys

if __name__ == "__main__":
    # A frozen program's helper processes (scan decoding, QR encoding) start this same executable: let them
    # run their task instead of a second desktop app.
    multiprocessing.freeze_support()
    from app.ui.shell.launch import main

    sys.exit(main())
