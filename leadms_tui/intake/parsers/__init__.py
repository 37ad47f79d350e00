"""Channel parsers: bytes in, `LeadRecord`s and `RejectedRow`s out (see `intake/records.py`)."""
