"""Encryption at rest of national ID numbers, and their keyed "blind index".

Luật 91/2025/QH15 counts the citizen ID number among personal data that must be
protected by technical measures; here it is encrypted with Fernet (AES-128-CBC
with HMAC-SHA256, ``cryptography``) under the keys of ``PERSONAL_DATA_KEYS``:
encrypt with the first key, decrypt with any (``MultiFernet``), so keys rotate
without downtime. Encryption is randomised, so equal numbers give different
ciphertexts; exact lookups and the per-tenant uniqueness go through an
HMAC-SHA256 of the number under ``PERSONAL_DATA_INDEX_KEY`` (the blind index),
which cannot be reversed without that key.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet as _Fernet
from cryptography.fernet import InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class PersonalDataKeyError(RuntimeError):
    """A stored value that no configured key decrypts (a key was dropped too early):
    a configuration error of the server, not of the request."""


def setting(name: str) -> Any:
    """A setting added by ``config.settings.personal_data.apply`` (invisible to the stubs)."""
    return getattr(settings, name)


#: How every Fernet token starts (version byte 0x80, base64-encoded).
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 (a format marker, not a secret)


@lru_cache(maxsize=1)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([_Fernet(k.encode()) for k in keys])


def fernet() -> MultiFernet:
    """The configured keys, first one for encryption."""
    return _fernet(tuple(setting("PERSONAL_DATA_KEYS")))


def primary_fernet() -> _Fernet:
    """The first key alone (tells whether a value is already under it)."""
    return _Fernet(setting("PERSONAL_DATA_KEYS")[0].encode())


@receiver(setting_changed)
def _keys_changed(*, setting: str, **kwargs: object) -> None:
    if setting == "PERSONAL_DATA_KEYS":
        _fernet.cache_clear()


def encrypt(value: str) -> str:
    """The Fernet token of ``value``; the empty string stays empty (no number on record)."""
    if not value:
        return ""
    return fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plain value of a token written by :func:`encrypt` under any configured key."""
    if not token:
        return ""
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as exc:
        raise PersonalDataKeyError(
            "A stored citizen ID number cannot be decrypted with the configured "
            "PERSONAL_DATA_KEYS (was the key that encrypted it removed?)."
        ) from exc


def is_under_primary_key(token: str) -> bool:
    """Whether ``token`` is already encrypted with the first key."""
    if not token:
        return True
    try:
        primary_fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def blind_index(value: str) -> str:
    """HMAC-SHA256 (hex) of a normalised ID number; empty for no number."""
    if not value:
        return ""
    key = str(setting("PERSONAL_DATA_INDEX_KEY")).encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def mask(value: str) -> str:
    """``079123456789`` -> ``*********789``: lists and exports show only the last 3 digits."""
    return "" if not value else "*" * (len(value) - 3) + value[-3:]
