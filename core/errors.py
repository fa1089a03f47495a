"""Errors a user can act on: the CLI prints them as one line, never a traceback."""


class UserError(Exception):
    """Bad usage or bad data; ``exit_code`` 2 by default."""

    exit_code = 2


class AccessDenied(UserError):
    """The user's role or scope does not allow this."""


class StaleEdit(UserError):
    """Optimistic locking: the record changed since it was read."""

    def __init__(self, message, mine=None, theirs=None):
        super().__init__(message)
        self.mine = mine
        self.theirs = theirs
