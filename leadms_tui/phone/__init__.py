"""Adapters from phone systems (Asterisk AMI) into the domain's phone events (issue 29)."""
