"""(issue 16: filled in by its part)"""

from __future__ import annotations
