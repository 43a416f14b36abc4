"""Outages answer 503 cleanly (issue 10 §4): the database lost in a view or in the
middleware (session, user), and the task queue refusing a job, give the site's
503 page or the API's JSON — never a stack trace — and the next request works."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

import units.api
import units.views
from core.jobs import QueueUnavailableError

DB_DOWN = 'connection to server at "127.0.0.1", port 5432 failed: Connection refused'


def _raise(exc: Exception) -> Any:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return fail


def _english(client: Client) -> Client:
    client.cookies["xhht_language"] = "en"
    return client


def test_database_lost_in_a_page_gives_the_503_page(cast, login, monkeypatch) -> None:
    client = _english(login(cast.ward_official))
    monkeypatch.setattr(units.views, "units_for_user", _raise(OperationalError(DB_DOWN)))
    response = client.get(reverse("units:browser"), {"q": "Bến"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Temporarily unavailable" in html and "database cannot be reached" in html
    assert 'class="navbar navbar-dark bg-xhht"' in html  # the site's look
    assert "Traceback" not in html and "5432" not in html
    assert response["X-Request-ID"] in html  # the reference the user can quote
    monkeypatch.undo()
    assert client.get(reverse("units:browser"), {"q": "Bến"}).status_code == 200  # it recovers


def test_database_lost_in_the_api_gives_json(cast, login, monkeypatch) -> None:
    client = _english(login(cast.ward_official))
    monkeypatch.setattr(units.api, "units_for_user", _raise(OperationalError(DB_DOWN)))
    response = client.get("/api/v1/units")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert "database cannot be reached" in response.json()["detail"]


def test_database_lost_before_the_view_gives_the_503_page(cast, login, monkeypatch) -> None:
    """Loading the session fails in the middleware: handler500 answers 503."""
    client = login(cast.ward_official)
    monkeypatch.setattr(SessionStore, "load", _raise(OperationalError(DB_DOWN)))
    client.raise_request_exception = False
    response = client.get(reverse("units:browser"))
    assert response.status_code == 503
    assert "5432" not in response.content.decode()
    assert 'lang="vi"' in response.content.decode()  # Vietnamese first


def test_a_real_bug_is_still_a_500(cast, login, monkeypatch) -> None:
    client = login(cast.ward_official)
    client.raise_request_exception = False
    monkeypatch.setattr(units.views, "units_for_user", _raise(ZeroDivisionError()))
    page = client.get(reverse("units:browser"), {"q": "Bến"})
    assert page.status_code == 500
    html = page.content.decode()
    assert 'lang="vi"' in html and "Lỗi 500" in html  # the bare layout, in Vietnamese
    assert "Hệ thống không thể hoàn tất yêu cầu của bạn" in html
    assert f"<code>{page['X-Request-ID']}</code>" in html  # the reference to quote
    monkeypatch.setattr(units.api, "units_for_user", _raise(ZeroDivisionError()))
    response = client.get("/api/v1/units")
    assert response.status_code == 500 and response.json()["code"] == "server_error"


def test_queue_refusing_a_job_in_the_api_is_503(cast, login, monkeypatch) -> None:
    client = _english(login(cast.ward_official))
    monkeypatch.setattr(units.api, "units_for_user", _raise(QueueUnavailableError()))
    response = client.get("/api/v1/units")
    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    assert "task queue is unavailable" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/healthz"])
def test_liveness_answers_during_the_outage(db, client, monkeypatch, path) -> None:
    monkeypatch.setattr(SessionStore, "load", _raise(OperationalError(DB_DOWN)))
    assert client.get(path).status_code == 200


def test_a_task_refused_after_its_commit_says_the_change_may_be_saved(
    cast, login, monkeypatch
) -> None:
    """An e-mail task sent on commit with Redis down: the 503 does not claim that
    nothing changed."""
    from kombu.exceptions import OperationalError as KombuOperationalError

    client = _english(login(cast.ward_official))
    monkeypatch.setattr(
        units.api, "units_for_user", _raise(KombuOperationalError("Connection refused"))
    )
    response = client.get("/api/v1/units")
    assert response.status_code == 503
    assert response.json()["code"] == "queue_unavailable"
    assert "Your change may have been saved" in response.json()["detail"]
