"""Celery tasks of the spreadsheets app: thin and idempotent."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="spreadsheets.imports_expire")
def imports_expire() -> int:
    """Expire unconfirmed imports and delete the files nobody needs any more."""
    from spreadsheets.services import imports_expire as expire

    return expire()
