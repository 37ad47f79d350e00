"""A pytest plugin `bin/_mutate.py` loads into each mutant's test run (`-p _mutate_plugin`).

argon2 at its cheapest (1 pass, 8 KiB): the seeded users' password hashes cost about 1 s each
on the busy machine, 4 s before every assignment test, and no guarded module but access is
about the hash's cost. Hashing and verifying are still real argon2. Not used by bin/test.
"""

import pytest
from argon2 import PasswordHasher


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        from leadms_tui.domain.team import users
    except Exception:  # a mutant that breaks the import: collection reports it
        return
    users._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
