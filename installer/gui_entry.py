"""Entry point of the windowed executable (no console window on Windows)."""

import sys

from app.ui.launch import main

sys.exit(main())
