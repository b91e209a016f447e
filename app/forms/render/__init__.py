"""Drawing PDFs: issued forms, previews, reports, and their QR codes."""
