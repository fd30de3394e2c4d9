"""Floods and bots: a limit on the messages each client sends, shared by the channels.

The counting is the `limits` library's moving window, kept in this process's memory: with N
replicas a client may get up to N times the limit, so a public deployment also limits at its
reverse proxy (README, deployment). The key is the channel's idea of a client: the remote
address for HTTP, the chat for Telegram.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

__all__ = ["RATE_LIMITED", "RateLimiter"]

RATE_LIMITED = (
    "Vous envoyez beaucoup de messages à la suite : attendez {seconds} seconde{s} avant le "
    "prochain, s'il vous plaît."
)


class RateLimiter:
    """`rule` is one or more limits, e.g. "20/minute;200/hour"; every one must hold."""

    def __init__(self, rule: str) -> None:
        self.items: list[RateLimitItem] = parse_many(rule)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def wait(self, client: str) -> int:
        """0 when the client may send now (the message is counted), else the seconds to wait."""
        if all(self._limiter.test(item, client) for item in self.items):
            for item in self.items:
                self._limiter.hit(item, client)
            return 0
        resets = [
            self._limiter.get_window_stats(item, client).reset_time
            for item in self.items
            if not self._limiter.test(item, client)
        ]
        return max(1, math.ceil(max(resets) - time.time()))

    @staticmethod
    def message(seconds: int) -> str:
        return RATE_LIMITED.format(seconds=seconds, s="s" if seconds > 1 else "")
