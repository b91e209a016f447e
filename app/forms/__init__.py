"""The paper side: template layouts, PDF rendering, QR payloads and scan decoding. Works on plain data only."""
