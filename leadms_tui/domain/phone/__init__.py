"""The phone bridge: what the phone system reports (Asterisk AMI, Twilio, a signed webhook)
in one event model, stored once per call and matched to a lead and a rep."""
