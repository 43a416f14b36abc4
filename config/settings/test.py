"""Test settings: SQLite unless DATABASE_URL is set (PostgreSQL in CI)."""

from .base import *

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
MEDIA_ROOT = BASE_DIR / ".test-media"
# The cache backs allauth's rate limits; keep tests independent of Redis state.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Unit tests run tasks in-process; the Celery integration test starts a real
# worker against REDIS_URL and switches eager mode off itself.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = REDIS_URL or "memory://"
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# No collectstatic in tests: let WhiteNoise find files through the finders.
WHITENOISE_AUTOREFRESH = True
