"""Where `leadms login` keeps its session tokens: one per database, in a 0600 file.

The file lives in the user's config directory (platformdirs); a database is named by its URL
without the password, so one person can be signed in to a test and a live database at once.
"""

import json
from pathlib import Path

from platformdirs import user_config_path

from leadms_tui.domain.local_files import replace_private


def session_file() -> Path:
    return user_config_path("leadms", appauthor=False) / "sessions.json"


def _key(database_url: str) -> str:
    from leadms_tui.domain.db import describe_url, normalize_url

    return describe_url(normalize_url(database_url))


def _read() -> dict[str, str]:
    try:
        stored = json.loads(session_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def load(database_url: str) -> str | None:
    return _read().get(_key(database_url))


def save(database_url: str, token: str | None) -> None:
    """Remember (or with None forget) the session for this database, readable by its owner only."""
    stored = _read()
    if token is None:
        stored.pop(_key(database_url), None)
    else:
        stored[_key(database_url)] = token
    # A new 0600 file renamed into place: a symlink planted at the path is replaced, never
    # written through, and a crash midway leaves the old file whole.
    replace_private(session_file(), json.dumps(stored, indent=2).encode("utf-8"))
