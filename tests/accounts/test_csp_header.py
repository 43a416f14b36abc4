"""Content-Security-Policy (issue 10 §1): the header on every page, no inline
script anywhere, report-only mode from the environment."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from config.settings import security
from tests.conftest import Cast, client_for

TEMPLATES = Path(settings.BASE_DIR, "templates")
#: Rendered by WeasyPrint into PDFs only, never served to a browser as a page.
PDF_ONLY = {
    "campaigns/plan_document.html",
    "reports/report_document.html",
}


def _directives(header: str) -> dict[str, list[str]]:
    parts = (part.strip().split() for part in header.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def test_sign_in_page_carries_the_policy(db: None) -> None:
    response = Client().get(reverse("account_login"))
    policy = _directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"], "no inline script, no eval"
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["style-src-elem"] == ["'self'"], "no <style> element"
    assert "Content-Security-Policy-Report-Only" not in response


@pytest.mark.parametrize("role", ["admin", "reviewer", "ward_official", "viewer"])
def test_signed_in_pages_carry_the_policy(cast: Cast, role: str) -> None:
    client = client_for(cast.users[role])
    for url in ("/", "/units/", reverse("accounts:token-list")):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "script-src 'self'" in response["Content-Security-Policy"], url


def test_api_answers_carry_it_too(cast: Cast) -> None:
    response = client_for(cast.admin).get("/api/v1/me")
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]


def _applied(monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {
        "INSTALLED_APPS": [],
        "AUTHENTICATION_BACKENDS": [],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "allauth.account.middleware.AccountMiddleware",
        ],
        "ACCOUNT_RATE_LIMITS": {"login_failed": "10/m/ip,5/5m/key"},
    }
    security.apply(namespace)
    return namespace


def test_report_only_mode_from_the_environment(monkeypatch: pytest.MonkeyPatch, db: None) -> None:
    enforced = _applied(monkeypatch)
    assert enforced["CONTENT_SECURITY_POLICY_REPORT_ONLY"] is None
    report_only = _applied(
        monkeypatch, CSP_REPORT_ONLY="true", CSP_REPORT_URI="https://csp.example.org/r"
    )
    assert report_only["CONTENT_SECURITY_POLICY"] is None
    policy = report_only["CONTENT_SECURITY_POLICY_REPORT_ONLY"]
    assert policy["DIRECTIVES"]["report-uri"] == ["https://csp.example.org/r"]
    with override_settings(
        CONTENT_SECURITY_POLICY=None, CONTENT_SECURITY_POLICY_REPORT_ONLY=policy
    ):
        response = Client().get(reverse("account_login"))
    assert "Content-Security-Policy" not in response
    header = response["Content-Security-Policy-Report-Only"]
    assert "script-src 'self'" in header
    assert "report-uri https://csp.example.org/r" in header


def test_lockout_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = _applied(monkeypatch, AXES_FAILURE_LIMIT="3", AXES_COOLOFF_MINUTES="10")
    assert namespace["AXES_FAILURE_LIMIT"] == 3
    assert namespace["AXES_COOLOFF_TIME"].total_seconds() == 600
    assert namespace["AUTHENTICATION_BACKENDS"][0] == "accounts.backends.RequestAxesBackend"
    # allauth's per-account limit stays above the lock-out, which answers first.
    assert namespace["ACCOUNT_RATE_LIMITS"]["login_failed"] == "10/m/ip,12/5m/key"


def test_no_template_has_inline_script_or_style_element() -> None:
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    style_element = re.compile(r"<style\b", re.IGNORECASE)
    handler = re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE)
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        name = path.relative_to(TEMPLATES).as_posix()
        text = path.read_text(encoding="utf-8")
        if inline_script.search(text) or handler.search(text):
            offenders.append(f"{name}: inline script")
        if style_element.search(text) and name not in PDF_ONLY:
            offenders.append(f"{name}: <style> element")
        if "javascript:" in text:
            offenders.append(f"{name}: javascript: URL")
    assert offenders == []
