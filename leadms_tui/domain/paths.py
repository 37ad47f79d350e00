"""Where Lead MS keeps its files by default (platformdirs), and how the database is chosen."""

import os
from pathlib import Path

from platformdirs import user_data_path

DATABASE_URL_ENV = "LEADMS_DATABASE_URL"


def data_dir() -> Path:
    """The user data directory (created on first use)."""
    path = user_data_path("leadms", appauthor=False, ensure_exists=True)
    return path


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def default_database_url() -> str:
    """`$LEADMS_DATABASE_URL`, else the SQLite file in the user data directory."""
    return os.environ.get(DATABASE_URL_ENV) or sqlite_url(data_dir() / "leadms.db")


def demo_database_url() -> str:
    """The demo's own SQLite file: never the user's real database."""
    return sqlite_url(data_dir() / "demo.db")
