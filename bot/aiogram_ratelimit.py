"""Outbound rate limiting for aiogram, as PTB's AIORateLimiter does it: at most 30 calls a
second that name a chat, at most 20 a minute per group, and a 429's retry_after honoured by
every call (retried up to `max_retries` times). An aiogram session middleware over aiolimiter,
the leaky-bucket library PTB's limiter uses too."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiolimiter import AsyncLimiter

log = logging.getLogger(__name__)

# Telegram's published limits (PTB: constants.FloodLimit).
MESSAGES_PER_SECOND = 30
MESSAGES_PER_MINUTE_PER_GROUP = 20
# Beyond this many idle groups, limiters with nothing in flight are forgotten.
MAX_GROUP_LIMITERS = 512


class OutboundRateLimiter(BaseRequestMiddleware):
    """One per bot session; every Bot API call passes through it."""

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max_retries
        self._overall = AsyncLimiter(MESSAGES_PER_SECOND, 1)
        self._groups: dict[int | str, AsyncLimiter] = {}
        # Cleared while a 429's retry_after runs out: Telegram is cross with the whole bot.
        self._unpaused = asyncio.Event()
        self._unpaused.set()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        for attempt in range(self.max_retries + 1):
            try:
                await self._take_turn(chat_id)
                await self._unpaused.wait()
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.max_retries:
                    log.warning("rate limited after %d retries", self.max_retries)
                    raise
                pause = error.retry_after + 0.1
                log.info("rate limited by Telegram; retrying in %.1f s", pause)
                self._unpaused.clear()
                try:
                    await asyncio.sleep(pause)
                finally:
                    self._unpaused.set()
        raise AssertionError("unreachable")  # the loop returns or raises

    async def _take_turn(self, chat_id: Any) -> None:
        """The group's bucket first, then the bot-wide one (PTB's order). Calls that name no
        chat (getUpdates, answerCallbackQuery) are not counted, as in PTB."""
        if chat_id is None:
            return
        group = _group_key(chat_id)
        if group is not None:
            await self._group(group).acquire()
        await self._overall.acquire()

    def _group(self, key: int | str) -> AsyncLimiter:
        if len(self._groups) > MAX_GROUP_LIMITERS:
            for idle in [k for k, limiter in self._groups.items() if k != key and
                         limiter.has_capacity(limiter.max_rate)]:  # fmt: skip
                del self._groups[idle]
        if key not in self._groups:
            self._groups[key] = AsyncLimiter(MESSAGES_PER_MINUTE_PER_GROUP, 60)
        return self._groups[key]


def _group_key(chat_id: Any) -> int | str | None:
    """Negative ids are groups and channels; an @username can only be one of those."""
    if isinstance(chat_id, str):
        try:
            chat_id = int(chat_id)
        except ValueError:
            return chat_id
    return chat_id if isinstance(chat_id, int) and chat_id < 0 else None
