"""The friendly failures of question generation (a student can act on each one)."""

from __future__ import annotations

from core.errors import RoundsError


class GenerationError(RoundsError):
    """Nothing at all could be generated; `run` (if set) holds the counted attempt."""

    user_message = "I could not write any questions just now. Please try again in a moment."

    def __init__(
        self, user_message: str | None = None, *, reason: str = "", run: object | None = None
    ) -> None:
        super().__init__(user_message, reason=reason)
        # The generation_runs row (not added to the session) so a caller can log the counts.
        self.run = run


class NoMaterial(GenerationError):
    user_message = (
        "There is no material to write questions from yet. Send me a PDF first, then ask again."
    )


class NothingOnTopic(GenerationError):
    user_message = (
        "I found nothing about that topic in your material. Try another word, "
        "or /topics to see what I have."
    )


class ProviderUnavailable(GenerationError):
    user_message = (
        "The question-writing model is not answering right now (it timed out or refused). "
        "Nothing was lost; please try again in a few minutes."
    )
