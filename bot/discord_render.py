"""How a Reply reaches Discord: rendered as a tone-coloured embed with persistent buttons
and files, then delivered as an interaction's response, its edits and followups, or as plain
channel messages.

Buttons are `PayloadButton`s, a discord.py `DynamicItem` whose custom_id is the opaque
handler payload itself. The client registers the class once at start-up, so a button works
for as long as its message exists, across restarts, without keeping any View in memory.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import discord

from core.buttons import MAX_PAYLOAD_BYTES, Button
from handlers.types import Reply, Tone

log = logging.getLogger(__name__)

PROGRESS_MIN_INTERVAL_S = 1.0
# What an answered command with nothing to show says, so Discord does not call it failed.
DONE = "Done."

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

# The payload alphabet of core/buttons.py (`action:part:part`); the router re-validates.
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


# -- delivery -------------------------------------------------------------------------------


def in_server(interaction: discord.Interaction) -> bool:
    return interaction.guild_id is not None


class Sender:
    """Delivers Replies somewhere; returns the message id of each one sent."""

    def in_delivery_order(self, replies: list[Reply]) -> list[Reply]:
        return replies

    async def send(self, reply: Reply) -> str:
        raise NotImplementedError

    async def progress(self, text: str) -> None:
        return None

    async def finish(self) -> None:
        """Called after the last reply: nothing may be left waiting (a "thinking…" state)."""
        return None


class InteractionReplier(Sender):
    """Answers one interaction: its response, then edits of it, then followups."""

    def __init__(self, interaction: discord.Interaction, *, private: bool) -> None:
        self.interaction = interaction
        self.private = private
        self.in_server = in_server(interaction)
        self._original_pending = False  # a deferred "thinking…" response awaiting its answer
        self._last_progress = 0.0

    @property
    def _is_click(self) -> bool:
        return self.interaction.type is discord.InteractionType.component

    async def acknowledge(self) -> None:
        """Defers the interaction unless it is already answered (idempotent)."""
        response = self.interaction.response
        if response.is_done():
            return
        if self._is_click:
            await response.defer()  # "deferred update": the clicked message stays as it is
        else:
            await response.defer(ephemeral=self.private, thinking=True)
            self._original_pending = True

    async def progress(self, text: str) -> None:
        """Shows a long command's progress in its deferred response ("Reading page 3/4…")."""
        now = time.monotonic()
        if self._is_click or now - self._last_progress < PROGRESS_MIN_INTERVAL_S:
            return
        self._last_progress = now
        try:
            await self.acknowledge()
            if self._original_pending:
                await self.interaction.edit_original_response(content=f"⏳ {text}")
        except discord.HTTPException:
            log.warning("progress update failed", exc_info=True)

    async def finish(self) -> None:
        try:
            if not self.interaction.response.is_done():
                if self._is_click:
                    await self.interaction.response.defer()  # nothing to say: just acknowledge
                else:
                    await self.interaction.response.send_message(DONE, ephemeral=True)
            elif self._original_pending:
                self._original_pending = False
                await self.interaction.edit_original_response(content=DONE)
        except discord.HTTPException:
            log.warning("could not close interaction %s", self.interaction.id, exc_info=True)

    def in_delivery_order(self, replies: list[Reply]) -> list[Reply]:
        # Updating the clicked message must be the interaction's own response: once a new
        # message answers the click, "@original" means that message instead.
        return sorted(replies, key=lambda reply: not self._edits_clicked(reply))

    def _edits_clicked(self, reply: Reply) -> bool:
        message = self.interaction.message
        return self._is_click and message is not None and reply.edit_of == str(message.id)

    async def send(self, reply: Reply) -> str:
        rendered = render(reply)
        response = self.interaction.response
        if self._edits_clicked(reply):
            if response.is_done():
                await self.interaction.edit_original_response(**rendered.edit())
            else:
                await response.edit_message(**rendered.edit())
            return reply.edit_of
        if reply.edit_of and await _edit_channel_message(
            self.interaction, reply.edit_of, rendered
        ):
            return reply.edit_of
        ephemeral = reply.is_alert or (self.in_server and (self.private or reply.ephemeral))
        if not response.is_done():
            callback = await response.send_message(**rendered.new_message(), ephemeral=ephemeral)
            return str(callback.message_id or "")
        if self._original_pending:
            self._original_pending = False
            message = await self.interaction.edit_original_response(**rendered.edit())
            return str(message.id)
        followup = await self.interaction.followup.send(
            **rendered.new_message(), ephemeral=ephemeral, wait=True
        )
        return str(followup.id)


class ChannelSender(Sender):
    """Replies in a channel outside any interaction (a DM); progress is one status message."""

    def __init__(self, channel: discord.abc.Messageable) -> None:
        self.channel = channel
        self._status: discord.Message | None = None
        self._last_progress = 0.0

    async def progress(self, text: str) -> None:
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_MIN_INTERVAL_S:
            return
        self._last_progress = now
        try:
            if self._status is None:
                self._status = await self.channel.send(f"⏳ {text}")
            else:
                await self._status.edit(content=f"⏳ {text}")
        except discord.HTTPException:
            log.warning("progress update failed", exc_info=True)

    async def send(self, reply: Reply) -> str:
        rendered = render(reply)
        target: discord.Message | discord.PartialMessage | None = None
        if reply.edit_of:
            target = self.channel.get_partial_message(int(reply.edit_of))  # type: ignore[attr-defined]
        elif self._status is not None:
            target, self._status = self._status, None  # the status message becomes the answer
        if target is not None:
            try:
                edited = await target.edit(**rendered.edit())
                return str(edited.id if edited is not None else target.id)
            except discord.NotFound:
                log.info("message %s is gone; sending a new one", target.id)
        message = await self.channel.send(**rendered.new_message())
        return str(message.id)


async def _edit_channel_message(
    interaction: discord.Interaction, message_ref: str, rendered: Any
) -> bool:
    """Edits an earlier, non-ephemeral message in the interaction's channel, if it can."""
    channel = interaction.client.get_partial_messageable(interaction.channel_id or 0)  # type: ignore[union-attr]
    try:
        await channel.get_partial_message(int(message_ref)).edit(**rendered.edit())
    except (discord.NotFound, discord.Forbidden, ValueError):
        return False
    return True
