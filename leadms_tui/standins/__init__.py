"""Stand-ins for the outside systems no machine here reaches (tests, the demo, the docs)."""
