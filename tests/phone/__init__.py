"""The phone bridge's adapters (issue 29)."""
