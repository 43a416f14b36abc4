"""Celery tasks of accounts: thin, idempotent, primitive arguments."""

from __future__ import annotations

from celery import shared_task


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_invitation_email(self, user_id: int, link: str) -> bool:  # type: ignore[no-untyped-def]
    """E-mail an invited user the link to choose a password (once per invitation)."""
    from accounts.services import invitation_email_send

    return invitation_email_send(user_id=user_id, link=link)
