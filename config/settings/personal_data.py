"""Personal data (issue 10 §2, Luật Bảo vệ dữ liệu cá nhân 91/2025/QH15): encryption of national ID numbers at rest, access log, retention.

``base.py`` calls :func:`apply` with its namespace at the end, so this module can
add apps and middleware in the right places and read what base defined.

Environment variables (each may also be given as ``NAME_FILE``, a path whose
content is the value, as secrets are mounted in containers):

``PERSONAL_DATA_KEYS``
    Comma-separated Fernet keys (``Fernet.generate_key()``). National ID numbers
    are encrypted with the first and decrypted with any, so a new key is put
    first and ``manage.py personal_data_rotate_keys`` re-encrypts every row
    before the old key is dropped.
``PERSONAL_DATA_INDEX_KEY``
    The HMAC key of the "blind index" (exact lookup and uniqueness of ID numbers
    without decrypting). Changing it needs ``personal_data_rotate_keys`` too.

Production (``DJANGO_SETTINGS_MODULE=config.settings.production``) refuses to
start without both; other settings fall back to fixed development keys, which
protect nothing and are refused in production.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from config.env import env

PRODUCTION_SETTINGS = "config.settings.production"

#: Development and test keys: public, in the repository, never for real data.
DEV_KEYS = ["eGhodC1kZXYtb25seS1rZXktbm90LWZvci1wcm9kISE="]  # xhht-dev-only-key-not-for-prod!!
DEV_INDEX_KEY = "dev-only-blind-index-key-do-not-use-in-production"


def _secret(name: str) -> str:
    """``NAME`` from the environment, or the content of the file ``NAME_FILE``."""
    value = env.str(name, default="")
    if not value:
        path = os.environ.get(f"{name}_FILE")
        if path and Path(path).is_file():
            value = Path(path).read_text(encoding="utf-8").strip()
    return value


def _check_fernet_keys(keys: list[str]) -> None:
    from cryptography.fernet import Fernet

    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(
                f"PERSONAL_DATA_KEYS: key {position} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`)."
            ) from exc


def load_keys(*, production: bool) -> tuple[list[str], str]:
    """The encryption keys and the blind-index key, or ImproperlyConfigured."""
    keys = [k.strip() for k in _secret("PERSONAL_DATA_KEYS").split(",") if k.strip()]
    index_key = _secret("PERSONAL_DATA_INDEX_KEY")
    if production:
        if not keys or not index_key:
            raise ImproperlyConfigured(
                "PERSONAL_DATA_KEYS and PERSONAL_DATA_INDEX_KEY must be set in production: "
                "national ID numbers are encrypted at rest (Luật 91/2025/QH15)."
            )
        if DEV_KEYS[0] in keys or index_key == DEV_INDEX_KEY:
            raise ImproperlyConfigured(
                "The development personal-data keys cannot be used in production."
            )
        if len(index_key) < 32:
            raise ImproperlyConfigured("PERSONAL_DATA_INDEX_KEY must be at least 32 characters.")
    keys = keys or list(DEV_KEYS)
    _check_fernet_keys(keys)
    return keys, index_key or DEV_INDEX_KEY


def apply(settings: dict[str, Any]) -> None:
    """Adjust the settings namespace ``settings`` (base.py's globals) in place."""
    production = os.environ.get("DJANGO_SETTINGS_MODULE") == PRODUCTION_SETTINGS
    keys, index_key = load_keys(production=production)
    settings["PERSONAL_DATA_KEYS"] = keys
    settings["PERSONAL_DATA_INDEX_KEY"] = index_key

    # Who sees a citizen's full ID number over the citizen's unit (everyone else
    # sees *********123): the officials who keep the record. Reviewers and the
    # steering committee judge results, not identities.
    settings["PERSONAL_DATA_FULL_ID_ROLES"] = env.list(
        "PERSONAL_DATA_FULL_ID_ROLES",
        default=["ward_official", "neighbourhood_lead", "tenant_admin"],
    )
    # Whose spreadsheet exports carry full ID numbers (logged as containing
    # identifiers); a neighbourhood lead's lists stay masked.
    settings["PERSONAL_DATA_EXPORT_ID_ROLES"] = env.list(
        "PERSONAL_DATA_EXPORT_ID_ROLES", default=["ward_official", "tenant_admin"]
    )

    # Retention (UNCERTAIN: Luật 91/2025/QH15 asks that data be kept no longer
    # than the purpose needs but sets no number of years for this purpose;
    # these defaults are the project's choice, configurable per deployment).
    # Evidence files of assessments whose year ended this many years ago are deleted.
    settings["PERSONAL_DATA_EVIDENCE_YEARS"] = env.int("PERSONAL_DATA_EVIDENCE_YEARS", default=5)
    # Personal fields of subjects inactive for this many years are anonymised.
    settings["PERSONAL_DATA_INACTIVE_YEARS"] = env.int("PERSONAL_DATA_INACTIVE_YEARS", default=5)
    # At most this many subjects/evidence files per run (the task runs daily).
    settings["PERSONAL_DATA_RETENTION_BATCH"] = env.int(
        "PERSONAL_DATA_RETENTION_BATCH", default=5000
    )

    imports = list(settings.get("CELERY_IMPORTS") or [])
    imports.append("recognition.personal_data.tasks")
    settings["CELERY_IMPORTS"] = imports
    settings["CELERY_BEAT_SCHEDULE"]["personal-data-retention"] = {
        "task": "recognition.personal_data_retention",
        "schedule": crontab(hour=2, minute=15),
    }
