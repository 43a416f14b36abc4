"""The public verification page of a certificate (/verify/<token>): valid,
revoked and unknown tokens, only what the certificate shows, no caching or
indexing, and the per-IP rate limit."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse

from core.ratelimit import client_ip, parse_rate
from recognition.models import Certificate, DecisionItem
from recognition.services import decision as services
from tests.recognition.decision_support import issued_decision


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    cache.clear()


def _url(token: str) -> str:
    return reverse("verify", args=[token])


def _certificates(decision) -> list[Certificate]:
    services.certificates_ensure(decision)
    return list(Certificate.objects.filter(item__decision=decision).order_by("item__position"))


def test_a_valid_certificate_shows_what_it_shows_and_nothing_more(cycle) -> None:
    setup = issued_decision(cycle, count=2)
    decision = setup.decision
    certificate = _certificates(decision)[0]
    item = certificate.item
    # Make the second field look like a citizen's birth year: it must never show.
    DecisionItem.objects.filter(pk=item.pk).update(subject_code="1968")
    response = Client().get(_url(certificate.token))
    assert response.status_code == 200
    html = response.content.decode()
    assert item.subject_name in html
    assert item.address in html
    assert decision.agency in html
    assert decision.reference in html
    assert decision.issued_on.strftime("%d/%m/%Y") in html
    assert str(decision.year) in html
    assert response.context["valid"] is True
    assert 'data-testid="verify-status"' in html
    # Nothing private: no code or birth year, no result or score, no other subject.
    assert "1968" not in html
    assert item.result not in html and "điểm" not in html
    assert setup.items[0].registration.household.code not in html
    assert _certificates(decision)[1].item.subject_name not in html
    assert decision.signer_name not in html
    # Not indexed, not cached, no referrer.
    assert '<meta name="robots" content="noindex' in html
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"].startswith("noindex")


def test_a_revoked_certificate_names_the_revoking_decision(
    cycle, django_capture_on_commit_callbacks
) -> None:
    setup = issued_decision(cycle, count=1)
    decision = setup.decision
    certificate = _certificates(decision)[0]
    revoking = services.revocation_create(
        actor=cycle.cast.reviewer, decision=decision, reason="Lập sai danh sách"
    )
    revoking = services.decision_update(
        actor=cycle.cast.reviewer,
        decision=revoking,
        expected_version=revoking.version,
        data={"issued_on": decision.issued_on},
    )
    from tests.recognition.decision_support import issue

    job = issue(revoking, cycle.cast.reviewer)
    assert job.status == "done", job.message
    revoking.refresh_from_db()
    response = Client().get(_url(certificate.token))
    assert response.status_code == 200
    assert response.context["valid"] is False
    html = response.content.decode()
    assert revoking.reference in html
    assert revoking.issued_on.strftime("%d/%m/%Y") in html
    assert certificate.item.subject_name in html


def test_unknown_and_malformed_tokens_are_not_found(cycle) -> None:
    setup = issued_decision(cycle, count=1)
    token = _certificates(setup.decision)[0].token
    client = Client()
    pages = [
        client.get(_url(t)) for t in (token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 200)
    ]
    for response in pages:
        assert response.status_code == 404
        html = response.content.decode()
        assert 'data-testid="verify-not-found"' in html
        assert setup.decision.agency not in html
        assert '<meta name="robots" content="noindex' in html
    assert pages[0].content == pages[1].content  # no hint which tokens are close


@override_settings(VERIFY_RATE_LIMIT="3/m")
def test_rate_limit_per_client_ip(cycle) -> None:
    client = Client()
    for _ in range(3):
        assert client.get(_url("unknown"), REMOTE_ADDR="10.0.0.1").status_code == 404
    limited = client.get(_url("unknown"), REMOTE_ADDR="10.0.0.1")
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert client.get(_url("unknown"), REMOTE_ADDR="10.0.0.2").status_code == 404
    # X-Forwarded-For is ignored unless the proxy is trusted.
    spoofed = client.get(_url("unknown"), REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="192.0.2.9")
    assert spoofed.status_code == 429


@override_settings(VERIFY_RATE_LIMIT="2/m", TRUST_X_FORWARDED_FOR=True)
def test_rate_limit_behind_a_trusted_proxy(cycle) -> None:
    client = Client()
    for _ in range(2):
        client.get(_url("x"), REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="192.0.2.1, 10.0.0.9")
    assert (
        client.get(
            _url("x"), REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="192.0.2.1, 10.0.0.9"
        ).status_code
        == 429
    )
    assert (
        client.get(_url("x"), REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="192.0.2.2").status_code
        == 404
    )


def test_rate_parsing_and_client_ip(rf) -> None:
    assert parse_rate("30/m") == (30, 60)
    assert parse_rate("100/h") == (100, 3600)
    assert parse_rate("5/10s") == (5, 10)
    with pytest.raises(ValueError):
        parse_rate("lots")
    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert client_ip(request) == "10.1.1.1"
    with override_settings(TRUST_X_FORWARDED_FOR=True):
        assert client_ip(request) == "203.0.113.5"


def test_the_qr_code_address_is_this_page() -> None:
    """The certificates print ``<SITE_URL>/verify/<token>``: the same route."""
    from recognition.documents.certificates import verify_url

    assert verify_url("https://xhht.example.gov.vn/", "abc") == (
        "https://xhht.example.gov.vn" + reverse("verify", args=["abc"])
    )
