"""Administration: users, settings, this workstation's checks."""
