"""Domain errors: each carries a message fit to show a user as it is."""


class LeadMSError(Exception):
    """Base of every error a user may see; the message is one clear sentence."""


class ValidationError(LeadMSError):
    """Input that breaks a rule (bad phone, unknown channel, invalid setting)."""


class NotFoundError(LeadMSError):
    """A lead, user or other record that does not exist."""


class ConflictError(LeadMSError):
    """A write that lost a race: someone else changed the record first, or it already exists."""


class PermissionDeniedError(LeadMSError):
    """The acting user's role does not allow the action."""


class DatabaseError(LeadMSError):
    """The database is unreachable, busy past the retry budget, or at the wrong schema."""
