"""A rate limit on every route, per client: its API key when it sends a valid one, else its address (``limits``)."""

from __future__ import annotations

import ipaddress
import math
import time

from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from api.errors import error_response
from api.keys import KeyRing, bearer_token

#: Routes whose requests also count against the write limit (each embeds and publishes a generation).
WRITE_METHODS = frozenset({"POST", "DELETE"})
WRITE_PREFIX = "/documents"


class RateLimitMiddleware:
    """Answer 429 with ``Retry-After`` and the JSON error shape once a client is over a limit.

    ``limit`` applies to every request, ``write_limit`` to document writes on top. A request with a valid API key is
    counted under that key wherever it comes from; any other under its address (an invalid key counts as none, so
    inventing keys buys nothing). Loopback clients are not limited unless ``loopback``. Counts live in memory, per
    process (a moving window).
    """

    def __init__(self, app: ASGIApp, *, limit: str | None, write_limit: str | None, keys: KeyRing,
                 loopback: bool = False) -> None:
        self.app = app
        self.limit: RateLimitItem | None = parse(limit) if limit else None
        self.write_limit: RateLimitItem | None = parse(write_limit) if write_limit else None
        self.keys = keys
        self.loopback = loopback
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = (scope.get("client") or ("unknown", 0))[0]
        if not self.loopback and is_loopback(host):
            await self.app(scope, receive, send)
            return
        who = self._client(scope, host)
        for item in self._items(scope):
            if not self.limiter.hit(item, who):
                reset, _ = self.limiter.get_window_stats(item, who)
                wait = max(1, math.ceil(reset - time.time()))
                message = (f"too many requests: the limit is {item.amount} per {_period(item)}; "
                           f"try again in {wait} s")
                await error_response(429, "too_many_requests", message, {"Retry-After": str(wait)})(
                    scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _client(self, scope: Scope, host: str) -> str:
        token = bearer_token(scope) if self.keys else None
        index = None if token is None else self.keys.match(token)
        # Counted by the key's position, never by the key itself.
        return f"key:{index}" if index is not None else f"address:{host}"

    def _items(self, scope: Scope) -> list[RateLimitItem]:
        items = [self.limit] if self.limit else []
        if self.write_limit and scope.get("method") in WRITE_METHODS and scope["path"].startswith(WRITE_PREFIX):
            items.append(self.write_limit)
        return items


def is_loopback(host: str) -> bool:
    """Whether ``host`` is a loopback address (127.0.0.0/8, ::1); names such as "testclient" are not."""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _period(item: RateLimitItem) -> str:
    unit = item.GRANULARITY.name
    return unit if item.multiples == 1 else f"{item.multiples} {unit}s"
