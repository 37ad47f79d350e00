"""People and their data: who a person is across leads and clients, and everything held
about them, exported in one file."""
