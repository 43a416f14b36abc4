"""Vietnamese first: the browser's Accept-Language does not switch the UI."""

from django.conf import settings


def test_english_browser_still_gets_vietnamese(client, db):
    response = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "vi"
    assert "Đăng nhập" in response.content.decode()


def test_language_switch_gives_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get("/accounts/login/")
    assert page.headers["Content-Language"] == "en"
    assert "Sign in" in page.content.decode()


def test_unknown_language_cookie_falls_back_to_vietnamese(client, db):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert client.get("/accounts/login/").headers["Content-Language"] == "vi"


def test_allauth_email_management_is_not_offered(cast, login):
    assert login(cast.ward_official).get("/accounts/email/").status_code == 404
