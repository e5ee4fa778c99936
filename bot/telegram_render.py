"""The Bot API calls replies need, made with python-telegram-bot: HTML parse mode, inline
keyboards as `InlineKeyboardMarkup`, PTB's errors as bot/telegram_replies.py's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.telegram_replies import (
    BotApiBadRequest,
    BotApiError,
    BotApiForbidden,
    Keyboard,
)


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, url=button.url)
                if button.url
                else InlineKeyboardButton(button.label, callback_data=button.callback_data)
                for button in row
            ]
            for row in keyboard
        ]
    )


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except Forbidden as error:
        raise BotApiForbidden(error.message) from error
    except BadRequest as error:
        raise BotApiBadRequest(error.message) from error
    except TelegramError as error:
        raise BotApiError(error.message) from error


class PtbBotApi:
    """`bot/telegram_replies.BotApi` over a PTB `Bot` (its rate limiter included)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    @property
    def username(self) -> str:
        return self.bot.username

    async def send_text(self, chat_id: int, text: str, keyboard: Keyboard | None = None) -> int:
        async with _translated():
            message = await self.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup(keyboard)
            )
        return message.message_id

    async def edit_text(
        self, chat_id: int, message_id: int, text: str, keyboard: Keyboard | None = None
    ) -> None:
        async with _translated():
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                reply_markup=markup(keyboard),
            )  # fmt: skip

    async def send_file(
        self, chat_id: int, path: Path, *, photo: bool, caption: str, keyboard: Keyboard | None
    ) -> int:
        async with _translated():
            if photo:
                message = await self.bot.send_photo(
                    chat_id, path, caption=caption or None, parse_mode=ParseMode.HTML,
                    reply_markup=markup(keyboard),
                )  # fmt: skip
            else:
                message = await self.bot.send_document(
                    chat_id, path, caption=caption or None, parse_mode=ParseMode.HTML,
                    reply_markup=markup(keyboard), filename=path.name,
                )  # fmt: skip
        return message.message_id

    async def delete(self, chat_id: int, message_id: int) -> None:
        async with _translated():
            await self.bot.delete_message(chat_id, message_id)

    async def answer_button(self, query_id: str, text: str = "", alert: bool = False) -> None:
        async with _translated():
            await self.bot.answer_callback_query(query_id, text=text or None, show_alert=alert)
