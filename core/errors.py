"""The one exception family for problems a user can cause; adapters show `user_message`."""

from __future__ import annotations

from typing import Any


class RoundsError(Exception):
    """A problem the student caused or can fix; never a bug. Carries a friendly message."""

    user_message: str = "Something went wrong with that request."

    def __init__(self, user_message: str | None = None, *, reason: str = "") -> None:
        self.user_message = user_message or self.user_message
        self.reason = reason or type(self).__name__
        super().__init__(self.reason)

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process (core/offload.py), it crosses back pickled; subclasses
        # take keyword-only arguments, so it is rebuilt from its state, not its arguments.
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type[RoundsError], args: tuple[Any, ...], state: dict[str, Any]) -> RoundsError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error
