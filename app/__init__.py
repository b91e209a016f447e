"""Formtrail: controlled blank forms for hybrid paper/electronic GMP records."""

__version__ = "0.1.0"
