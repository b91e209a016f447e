"""The site itself: first run, its key file, its configuration, its PostgreSQL server."""
