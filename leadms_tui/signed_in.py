"""Who works in the TUI after sign-in: the database, the user and the team's settings.

The app holds one `SignedIn` from sign-in on; screens read it as `self.signed_in`, never
optional (the FastAPI full-stack template's `CurrentUser`: a route that needs a user gets
one, or the request never reaches it). Settings changed by an admin replace the whole value.
"""

from dataclasses import dataclass

from leadms_tui.domain import audit
from leadms_tui.domain.db import Database
from leadms_tui.domain.team.settings import TeamSettings
from leadms_tui.domain.team.users import UserInfo


class NotSignedInError(RuntimeError):
    """A screen asked who is signed in before anyone was: a bug, not a user's mistake."""


@dataclass(frozen=True)
class SignedIn:
    database: Database
    user: UserInfo
    settings: TeamSettings

    @property
    def actor(self) -> audit.Actor:
        """Who every write and every lead read is done as (audited, access-checked)."""
        return self.user.actor
