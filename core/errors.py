"""The one exception family for problems a user can cause; adapters show `user_message`."""

from __future__ import annotations


class RoundsError(Exception):
    """A problem the student caused or can fix; never a bug. Carries a friendly message."""

    user_message: str = "Something went wrong with that request."

    def __init__(self, user_message: str | None = None, *, reason: str = "") -> None:
        self.user_message = user_message or self.user_message
        self.reason = reason or type(self).__name__
        super().__init__(self.reason)
