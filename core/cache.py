"""A Redis cache that degrades to "always a miss" while Redis is down (issue 10 §4).

The cache holds rendered dashboard fragments and the counters of the rate
limits. With Redis unreachable Django's ``RedisCache`` raises on every call and
every page that reads the cache answers 500; here a read is a miss (the page is
computed from the database), a write is dropped, ``add`` answers True (the first
hit of a rate-limit window: limits are not enforced during the outage, which is
logged) and ``incr`` counts 1. The socket timeouts are short (settings), so an
outage costs a request at most about a second.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, OSError)
#: After a failure, skip Redis for this many seconds instead of waiting on it again.
RETRY_AFTER_S = 5.0


class ResilientRedisCache(RedisCache):
    _down_until = 0.0

    def _guard(self, default: Any, call: Any, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self._down_until:
            return default
        try:
            return call(*args, **kwargs)
        except UNAVAILABLE as exc:
            self._down_until = time.monotonic() + RETRY_AFTER_S
            log.warning("cache unavailable (%s): serving without it", type(exc).__name__)
            return default

    def get(self, key: Any, default: Any = None, version: Any = None) -> Any:
        return self._guard(default, super().get, key, default, version)

    def get_many(self, keys: Any, version: Any = None) -> Any:
        return self._guard({}, super().get_many, keys, version)

    def set(self, *args: Any, **kwargs: Any) -> None:
        self._guard(None, super().set, *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._guard([], super().set_many, *args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._guard(True, super().add, *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._guard(False, super().touch, *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._guard(False, super().delete, *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        self._guard(None, super().delete_many, *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._guard(False, super().has_key, *args, **kwargs)

    def incr(self, key: Any, delta: int = 1, version: Any = None) -> Any:
        return self._guard(delta, super().incr, key, delta, version)

    def clear(self) -> Any:
        return self._guard(False, super().clear)
