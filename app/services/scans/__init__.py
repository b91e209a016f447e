"""Scanned paper: intake (store, record, plan, decode, link, mark read), the hot folder, exceptions, true copies."""
