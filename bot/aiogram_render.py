"""The Bot API calls replies need, made with aiogram 3: HTML parse mode, inline keyboards as
`InlineKeyboardMarkup`, files as `FSInputFile`, aiogram's errors as bot/telegram_replies.py's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiogram import Bot
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest, TelegramForbiddenError
from aiogram.types import FSInputFile, InlineKeyboardButton, InlineKeyboardMarkup

from bot.telegram_replies import BotApiBadRequest, BotApiError, BotApiForbidden, Keyboard


def markup(keyboard: Keyboard | None) -> InlineKeyboardMarkup | None:
    if keyboard is None:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=button.label, url=button.url)
                if button.url
                else InlineKeyboardButton(text=button.label, callback_data=button.callback_data)
                for button in row
            ]
            for row in keyboard
        ]
    )


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    try:
        yield
    except TelegramForbiddenError as error:
        raise BotApiForbidden(error.message) from error
    except TelegramBadRequest as error:
        raise BotApiBadRequest(error.message) from error
    except TelegramAPIError as error:  # network errors and exhausted 429 retries included
        raise BotApiError(error.message) from error


class AiogramBotApi:
    """`bot/telegram_replies.BotApi` over an aiogram `Bot` (its session's rate limiter
    included). aiogram does not keep the bot's username, so it is given once at start."""

    def __init__(self, bot: Bot, username: str) -> None:
        self.bot = bot
        self._username = username

    @property
    def username(self) -> str:
        return self._username

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
                text=text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                reply_markup=markup(keyboard),
            )  # fmt: skip

    async def send_file(
        self, chat_id: int, path: Path, *, photo: bool, caption: str, keyboard: Keyboard | None
    ) -> int:
        upload = FSInputFile(path, filename=path.name)
        async with _translated():
            if photo:
                message = await self.bot.send_photo(
                    chat_id, upload, caption=caption or None, parse_mode=ParseMode.HTML,
                    reply_markup=markup(keyboard),
                )  # fmt: skip
            else:
                message = await self.bot.send_document(
                    chat_id, upload, caption=caption or None, parse_mode=ParseMode.HTML,
                    reply_markup=markup(keyboard),
                )  # fmt: skip
        return message.message_id

    async def delete(self, chat_id: int, message_id: int) -> None:
        async with _translated():
            await self.bot.delete_message(chat_id, message_id)

    async def answer_button(self, query_id: str, text: str = "", alert: bool = False) -> None:
        async with _translated():
            await self.bot.answer_callback_query(query_id, text=text or None, show_alert=alert)
