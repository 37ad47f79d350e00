"""Stand-ins on loopback for the outside systems no machine here reaches (Meta, Asterisk,
Twilio): tests, the demo and the docs use them."""
