"""Versioned prompt templates: one file per version; its file name is the version id.

A template file has `### system`, `### user` and (for writers) `### repair` sections;
`{name}` fields of user and repair are filled with `str.format`. Changing a prompt means
adding a new file (mcq_v3.txt) and pointing PROMPT_VERSION (and ROUNDS_PROMPT_VERSION's
default) at it, so every stored question keeps naming the words it came from. The
arbiter's prompt (arbiter_v1.txt) has no repair section.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

PROMPT_VERSION = "mcq_v2"
PROMPT_VERSIONS = ("mcq_v1", "mcq_v2")
_SECTIONS = ("system", "user", "repair")
_REQUIRED = ("system", "user")


@dataclass(frozen=True)
class PromptTemplate:
    version: str
    system: str
    user: str
    repair: str


@lru_cache(maxsize=8)
def load_prompt(version: str = PROMPT_VERSION) -> PromptTemplate:
    """The template of `version`; raises FileNotFoundError for an unknown version."""
    text = resources.files(__package__).joinpath(f"{version}.txt").read_text("utf-8")
    parts: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        header = line.strip()
        if header.startswith("### ") and header[4:] in _SECTIONS:
            current = header[4:]
            parts[current] = []
        elif current is not None:
            parts[current].append(line)
    missing = [s for s in _REQUIRED if s not in parts]
    if missing:
        raise ValueError(f"prompt {version} lacks sections {missing}")
    return PromptTemplate(version, *("\n".join(parts.get(s, [])).strip() for s in _SECTIONS))
