"""Leads: intake from every channel, numbering, repeat detection and edits."""
