"""Reports: what each rep and the team did, for coaching, from aggregate SQL."""
