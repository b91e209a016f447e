"""Building blocks every page uses: background operations, dialogs, messages, the signature and reason dialogs,
table models, the scan viewer."""
