"""Which failures are worth retrying, and which mean the task queue is down.

Transient: the database connection was lost or refused (PostgreSQL restarting,
a fail-over), the file storage could not be reached (a full or unmounted disk,
S3 timing out). A retry later may well succeed; anything else is a bug or bad
data and is not retried.
"""

from __future__ import annotations

from django.db import InterfaceError, OperationalError
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError


def _storage_errors() -> tuple[type[BaseException], ...]:
    try:
        from botocore.exceptions import BotoCoreError, ClientError
    except ImportError:  # pragma: no cover - botocore comes with django-storages[s3]
        return ()
    return (BotoCoreError, ClientError)


#: Database and storage failures a later attempt may not meet.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    OSError,
    *_storage_errors(),
)

#: The broker refused or did not answer (Redis down): nothing was queued.
QUEUE_ERRORS: tuple[type[BaseException], ...] = (
    KombuOperationalError,
    RedisConnectionError,
    RedisTimeoutError,
    ConnectionError,
    TimeoutError,
)

#: OS errors that another attempt would meet again.
_PERMANENT_OS_ERRORS = (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError)


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` (one of :data:`TRANSIENT_ERRORS`) is worth a retry."""
    return isinstance(exc, TRANSIENT_ERRORS) and not isinstance(exc, _PERMANENT_OS_ERRORS)
