"""Where `leadms login` keeps its session tokens: one per database, in a 0600 file.

The file lives in the user's config directory (platformdirs); a database is named by its URL
without the password, so one person can be signed in to a test and a live database at once.
"""

import json
import os
from pathlib import Path

from platformdirs import user_config_path


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
    path = session_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(stored, handle, indent=2)
    os.chmod(path, 0o600)  # also when the file existed with looser rights
