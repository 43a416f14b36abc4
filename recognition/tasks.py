"""Celery tasks of the recognition cycle: thin, idempotent, primitive arguments."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_dossier_notification(  # type: ignore[no-untyped-def]
    self, dossier_id: int, event: str, key: str, base_url: str = ""
) -> int:
    """E-mail the people a dossier event concerns (once per ``key``)."""
    from recognition.notifications import dossier_notification_send

    return dossier_notification_send(dossier_id=dossier_id, event=event, key=key, base_url=base_url)
