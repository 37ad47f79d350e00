"""Dynamic fields: admin-defined, typed fields on leads, clients and meetings, and files."""
