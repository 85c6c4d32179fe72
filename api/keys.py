"""API keys: held as digests, compared in constant time, never logged."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from functools import lru_cache

from starlette.types import Scope


class KeyRing:
    """The configured keys as sha256 digests; a token is compared with every one of them, all the way through.

    Digests make every comparison the same length (``compare_digest`` on raw keys would leak a key's length), and
    the loop never stops at a match (the time taken says nothing about which key, if any, matched).
    """

    def __init__(self, keys: Sequence[str]) -> None:
        self._digests = tuple(_digest(k) for k in keys)

    def __bool__(self) -> bool:
        return bool(self._digests)

    def match(self, token: str) -> int | None:
        """The position of the key ``token`` is, or None."""
        probe = _digest(token)
        found = -1
        for i, digest in enumerate(self._digests):
            same = hmac.compare_digest(probe, digest)
            found = i if same else found
        return None if found < 0 else found


@lru_cache(maxsize=8)
def key_ring(keys: tuple[str, ...]) -> KeyRing:
    """The ring of these keys (built once per configuration)."""
    return KeyRing(keys)


def bearer_token(scope: Scope) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            token = token.strip()
            return token if scheme.lower() == "bearer" and token else None
    return None


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
