"""What a form prints, as plain data: the template layout schema and the QR payload."""
