"""Reply -> discord.py message parts: a tone-coloured embed, persistent buttons, files.

Buttons are `PayloadButton`s, a discord.py `DynamicItem` whose custom_id is the opaque
handler payload itself. The client registers the class once at start-up, so a button works
for as long as its message exists, across restarts, without keeping any View in memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import discord

from handlers.payloads import MAX_PAYLOAD_BYTES
from handlers.types import Button, Reply, Tone

# Discord's limits (https://discord.com/developers/docs/resources/message).
CONTENT_LIMIT = 2000
EMBED_TITLE_LIMIT = 256
EMBED_DESCRIPTION_LIMIT = 4096
BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5
ROWS_PER_MESSAGE = 5

TONE_COLOUR = {
    Tone.NEUTRAL: discord.Colour.blurple(),
    Tone.GOOD: discord.Colour.green(),
    Tone.BAD: discord.Colour.red(),
    Tone.WARNING: discord.Colour.gold(),
}

# The payload alphabet of handlers/payloads.py (`action:part:part`); the router re-validates.
PAYLOAD_TEMPLATE = rf"(?P<payload>[A-Za-z0-9_\-:]{{1,{MAX_PAYLOAD_BYTES}}})"


class ButtonSink(Protocol):
    """What a button press is handed to: the Rounds Discord client."""

    async def on_button(self, interaction: discord.Interaction, payload: str) -> None: ...


class PayloadButton(discord.ui.DynamicItem[discord.ui.Button], template=PAYLOAD_TEMPLATE):  # type: ignore[type-arg]
    """A button whose custom_id is a handler payload; rebuilt from the custom_id on click."""

    def __init__(self, label: str, payload: str, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=_clip(label, BUTTON_LABEL_LIMIT) or "·",
                custom_id=payload,
                style=discord.ButtonStyle.secondary,
            ),
            row=row,
        )

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Button,  # type: ignore[type-arg]
        match: re.Match[str],
        /,
    ) -> PayloadButton:
        return cls(item.label or "", match["payload"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        client: ButtonSink = interaction.client  # type: ignore[assignment]
        await client.on_button(interaction, self.custom_id)


@dataclass(frozen=True)
class Rendered:
    """One Reply as Discord message parts; `files` are re-opened for every send attempt."""

    content: str | None
    embed: discord.Embed | None
    view: discord.ui.View | None
    files: tuple[Path, ...] = field(default=())

    def _discord_files(self) -> list[discord.File]:
        return [discord.File(path, filename=path.name) for path in self.files]

    def new_message(self) -> dict[str, Any]:
        """Keyword arguments for channel.send / response.send_message / followup.send."""
        kwargs: dict[str, Any] = {"content": self.content}
        if self.embed is not None:
            kwargs["embed"] = self.embed
        if self.view is not None:
            kwargs["view"] = self.view
        if self.files:
            kwargs["files"] = self._discord_files()
        return kwargs

    def edit(self) -> dict[str, Any]:
        """Keyword arguments for the edit calls: replaces everything, old buttons included."""
        return {
            "content": self.content,
            "embed": self.embed,
            "view": self.view,
            "attachments": self._discord_files(),
        }


def render(reply: Reply) -> Rendered:
    """An alert is a short plain line; everything else is an embed with buttons under it."""
    if reply.is_alert:
        return Rendered(content=_clip(reply.text, CONTENT_LIMIT), embed=None, view=None)
    embed = discord.Embed(
        title=_clip(reply.title, EMBED_TITLE_LIMIT) or None,
        description=_clip(reply.text, EMBED_DESCRIPTION_LIMIT) or None,
        colour=TONE_COLOUR[reply.tone],
    )
    files = tuple(path for path in (reply.image, reply.document) if path is not None)
    if reply.image is not None:
        embed.set_image(url=f"attachment://{reply.image.name}")
    return Rendered(content=None, embed=embed, view=button_view(reply.buttons), files=files)


def button_view(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """Button rows as a View; rows wider than Discord allows wrap onto the next row."""
    if not rows:
        return None
    # No timeout: the buttons are persistent; the View object only carries their layout.
    view = discord.ui.View(timeout=None)
    row_index = 0
    for row in rows:
        for start in range(0, len(row), BUTTONS_PER_ROW):
            if row_index >= ROWS_PER_MESSAGE:
                raise ValueError(f"a reply may have at most {ROWS_PER_MESSAGE} rows of buttons")
            for button in row[start : start + BUTTONS_PER_ROW]:
                view.add_item(PayloadButton(button.label, button.payload, row=row_index))
            row_index += 1
    return view


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
