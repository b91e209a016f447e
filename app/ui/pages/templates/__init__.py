"""Templates: the list, the editor, fields and the preview."""
