"""Controlled issuance: numbered copies and their QR tags, serial guards, the register, replacement, printing."""
