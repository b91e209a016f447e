"""Electronic records: transcription, corrections, verification, review and approval, reports."""
