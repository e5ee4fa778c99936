"""`python -m bot telegram` with a raised outbound cap, for the load test's what-if runs.

The bot paces every call that names a chat at Telegram's 30 a second per bot token (PTB's
AIORateLimiter); at a thousand students that cap, not the worker, sets the click latency.
To see what the worker itself can do, `python -m bench load --outbound-per-s N` starts the
workers through this module, which only changes that one default before the bot starts.
(Telegram allows up to 1,000 messages a second to bots that pay for broadcasts.)
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

from telegram.ext import AIORateLimiter

OUTBOUND_ENV = "ROUNDS_BENCH_OUTBOUND_PER_S"


def _raise_outbound_cap(per_second: float) -> None:
    original = AIORateLimiter.__init__

    @functools.wraps(original)
    def raised(self: AIORateLimiter, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("overall_max_rate", per_second)
        original(self, *args, **kwargs)

    AIORateLimiter.__init__ = raised  # type: ignore[method-assign]


if __name__ == "__main__":
    from bot.__main__ import main

    _raise_outbound_cap(float(os.environ[OUTBOUND_ENV]))
    sys.exit(main(["telegram"]))
