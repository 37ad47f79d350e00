"""The work on leads: calls, follow-ups, meetings, and the rules that react to them."""
