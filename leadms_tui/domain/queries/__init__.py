"""Repositories: queries only, as plain functions taking a keyword-only session."""
