"""The invitation e-mail task on a real worker: sent once, however often enqueued."""

from __future__ import annotations

import pytest

from accounts.tasks import send_invitation_email
from core.models import AuditEvent
from tests.factories import make_tenant, make_unit, make_user
from tests.integration.conftest import Worker

pytestmark = pytest.mark.celery_worker

TIMEOUT_S = 30.0


def test_invitation_task_runs_on_worker_and_is_idempotent(celery_worker: Worker) -> None:
    tenant = make_tenant("TP. Thử Nghiệm", slug="worker-test", code="79")
    make_unit(tenant, None, "thanh_pho_tw", "Thành phố Thử Nghiệm", "79")
    user = make_user(tenant, "moi.duoc.moi", email="moi.duoc.moi@example.vn")
    sent = AuditEvent.objects.filter(
        action="user.invitation_sent", object_type="accounts.user", object_id=str(user.public_id)
    )
    assert not sent.exists()
    link = "https://xhht.example.gov.vn/accounts/password/reset/key/test/"

    first = celery_worker.enqueue(send_invitation_email, user.pk, link)
    second = celery_worker.enqueue(send_invitation_email, user.pk, link)

    celery_worker.wait_for(sent.exists, TIMEOUT_S, "the user.invitation_sent audit event")
    results = celery_worker.wait_for(
        lambda: (found := celery_worker.results()) and {first, second} <= found.keys() and found,
        TIMEOUT_S,
        "both tasks to finish",
    )
    # Both ran to completion on the worker; only one of them sent the e-mail.
    assert sorted([results[first], results[second]]) == ["False", "True"]
    assert sent.count() == 1
