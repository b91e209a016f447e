"""Scans: import, the hot folder, exceptions, true-copy verification."""
