"""The desktop face of Formtrail (Qt widgets, dialogs, item models, workers): the only package that imports PySide6."""
