"""A per-user limit on actions that call the panel with the operator's key: a user may spend
`burst` at once, and regains `per_minute` a minute. Admins (the operator's team) are not
limited. A token bucket per user, in memory."""

from __future__ import annotations

import time
from collections.abc import Callable

PER_MINUTE = 30
BURST = 10


class UserRateLimit:
    def __init__(
        self,
        per_minute: float = PER_MINUTE,
        burst: int = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._buckets: dict[int, tuple[float, float]] = {}
        """user id -> (tokens, when counted)"""

    def wait(self, user_id: int) -> float:
        """0 and one action counted if the user may act now, else seconds until they may."""
        now = self._clock()
        tokens, then = self._buckets.get(user_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return (1 - tokens) / self._rate
        self._buckets[user_id] = (tokens - 1, now)
        return 0.0
