"""The shapes of a question on its way to the database.

`GeneratedItem`/`GeneratedBatch` are the pydantic schema the LLM is asked to fill (its JSON
schema is sent as the structured-output format; validating one `GeneratedItem` checks one
item strictly). `DraftItem` is the generator-neutral candidate every later stage works on.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LETTERS = "ABCDE"
# The level a question tests, stored in its flags: a fact stated in the text, or a fact
# applied to a case.
RECALL = "recall"
APPLICATION = "application"
LLM_OPTION_COUNT = 5


# Array lengths and non-empty strings are described, not put in the JSON schema: strict
# structured-output modes refuse some constraints, and a batch must not be lost because one
# item in it has four options. The validators below enforce them item by item. Docstrings
# of these two classes are sent to the model as schema descriptions.
class GeneratedItem(BaseModel):
    """One single-best-answer multiple-choice question written from the sources."""

    model_config = ConfigDict(extra="ignore")

    stem: str = Field(
        description=(
            "The question. For medical material: a clinical vignette (age, sex, presentation, "
            "findings) followed by a lead-in that asks one clear question and ends with '?'. "
            "Otherwise a short context and a question ending with '?'."
        )
    )
    options: list[str] = Field(
        description=(
            "Exactly five answer options, homogeneous in kind and length, without letters; "
            "never 'all of the above' or 'none of the above'."
        )
    )
    answer: Literal["A", "B", "C", "D", "E"] = Field(
        description="The letter of the single best answer."
    )
    explanation: str = Field(
        description=(
            "Why the answer is right and why each other option is wrong, from the source."
        )
    )
    source_id: str = Field(description="The id of the source passage used, e.g. 'S2'.")
    support_quote: str = Field(
        description="One sentence copied word for word from that source that supports the answer."
    )
    teaching_point: str = Field(
        description=(
            "The one fact or principle from the sources this question tests, in one sentence."
        )
    )
    level: Literal["recall", "application"] = Field(
        description=(
            "'recall' if the key is a fact or term stated in the sources; 'application' if "
            "the student must apply a fact to a case (a patient, an experiment, a situation)."
        )
    )

    @model_validator(mode="before")
    @classmethod
    def _optional_labels(cls, value: object) -> object:
        # Older prompts and loose local models leave these out; the item is still usable,
        # and an unlabelled item claims no more than recall.
        if isinstance(value, dict):
            value = dict(value)
            value.setdefault("teaching_point", "")
            level = str(value.get("level") or "").strip().lower()
            value["level"] = "application" if level.startswith("appl") else "recall"
        return value

    @field_validator("answer", mode="before")
    @classmethod
    def _letter(cls, value: object) -> object:
        # "b", "(B)", "B." are one key written loosely; "B, D" stays two keys and fails.
        if isinstance(value, str):
            return value.strip().strip("().:").strip().upper()
        return value

    @model_validator(mode="after")
    def _one_clean_item(self) -> GeneratedItem:
        options = [o.strip() for o in self.options]
        if len(options) != LLM_OPTION_COUNT:
            raise ValueError(f"expected {LLM_OPTION_COUNT} options, got {len(options)}")
        if any(not o for o in options):
            raise ValueError("an option is empty")
        if not self.stem.strip():
            raise ValueError("empty stem")
        if not self.explanation.strip():
            raise ValueError("empty explanation")
        self.options = options
        return self


class GeneratedBatch(BaseModel):
    """The questions written from the sources."""

    model_config = ConfigDict(extra="ignore")

    questions: list[GeneratedItem] = Field(description="The requested questions.")


@dataclass(frozen=True)
class DraftItem:
    """A candidate question, from either generator, before validation and storage."""

    stem: str
    options: tuple[str, ...]
    correct_index: int
    explanation: str = ""
    source_chunk_ids: tuple[int, ...] = ()
    source_pages: tuple[int, ...] = ()
    # The sentence of the source that makes the key right (checked against the cited chunk).
    support: str = ""
    topic: str = ""
    difficulty: int = 3
    # What made it: "llm", or the offline pattern ("term", "definition", "cloze", ...).
    kind: str = ""
    # Cosine similarity of the key statement with the cited chunk, when the pipeline had
    # to compute it (the lexical support check failed); None when not computed.
    support_similarity: float | None = None
    flags: tuple[str, ...] = field(default=())

    @property
    def key(self) -> str:
        return self.options[self.correct_index]

    def with_options(self, options: tuple[str, ...], correct_index: int) -> DraftItem:
        return replace(self, options=options, correct_index=correct_index)
