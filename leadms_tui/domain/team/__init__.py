"""The team: users, sign-in and access, team settings."""
