"""The administrator's tools: backup and restore, moving to the site server, the workstation doctor."""
