"""Stand-ins on loopback for the outside systems Lead MS talks to (tests and demos)."""
