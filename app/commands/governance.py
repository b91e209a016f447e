"""Commands for configuration approvals and periodic reviews (issue 16)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """(filled in by its part of issue 16)"""
