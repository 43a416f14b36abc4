"""Settings shared by every environment. Differences live in environment variables."""

from __future__ import annotations

from typing import Any

from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from config.env import BASE_DIR, env

SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "django_htmx",
    "template_partials",
    "django_tables2",
    "django_filters",
    "django_celery_beat",
    "core",
    "accounts",
    "units",
    "recognition",
    "campaigns",
    "reports",
    "spreadsheets",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "core.context_processors.navigation",
            ],
        },
    }
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "account_login"

# --- django-allauth: sign-in by username or e-mail, no self sign-up (invitations only)
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_ADAPTER = "accounts.adapters.InvitationOnlyAccountAdapter"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = {
    # Wrong passwords are limited per IP and per account (allauth's limits).
    "login_failed": env.str("LOGIN_FAILED_RATE", default="10/m/ip,5/5m/key"),
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[XHHT] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "XHHT"

# --- Internationalisation: Vietnamese first, English available
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["config.formats"]
USE_THOUSAND_SEPARATOR = True
LANGUAGE_COOKIE_NAME = "xhht_language"

# --- Static and media files
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "/media/"
# Uploads and generated files live outside the web root and are served only
# through scoped views.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Cache, broker, Celery
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "xhht",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True


def _clock(value: str) -> dict[str, int]:
    """ "07:30" -> {"hour": 7, "minute": 30} (local time, CELERY_TIMEZONE)."""
    hour, _sep, minute = value.partition(":")
    return {"hour": int(hour), "minute": int(minute or 0)}


# Campaign deadlines (campaigns/tasks.py): reminders N days before a deadline and
# the reviewers' daily digest. The DatabaseScheduler copies these entries into
# django-celery-beat's tables when beat starts; both tasks are idempotent.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "campaigns-deadline-reminders": {
        "task": "campaigns.reminders_send",
        "schedule": crontab(**_clock(env.str("CAMPAIGN_REMINDERS_AT", default="07:00"))),
    },
    "campaigns-reviewer-digest": {
        "task": "campaigns.digest_send",
        "schedule": crontab(**_clock(env.str("CAMPAIGN_DIGEST_AT", default="07:30"))),
    },
    # reports/report_tasks.py: draft and build the reviews and yearly reports due soon.
    "reports-schedule-from-milestones": {
        "task": "reports.schedule_from_milestones",
        "schedule": crontab(**_clock(env.str("REPORT_SCHEDULE_AT", default="06:30"))),
    },
    # spreadsheets/tasks.py: unconfirmed imports expire and their files are deleted.
    "spreadsheets-expire-imports": {
        "task": "spreadsheets.imports_expire",
        "schedule": crontab(minute=15),
    },
}
#: Days before a phase's review or a report deadline that the beat drafts the report.
REPORT_LEAD_DAYS = env.int("REPORT_LEAD_DAYS", default=14)

# --- E-mail
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="XHHT <no-reply@xhht.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Sessions and cookies
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"

DJANGO_TABLES2_TEMPLATE = "django_tables2/bootstrap5.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- XHHT
# The public address of the site, for links in e-mails sent outside a request.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
API_PAGE_SIZE = 50

# --- Evidence files (minh chứng) of self-assessments: checked by content, size-limited.
EVIDENCE_MAX_BYTES = env.int("EVIDENCE_MAX_BYTES", default=10 * 1024 * 1024)
#: Kinds accepted (a subset of pdf, jpeg, png, docx, xlsx; see recognition/evidence_validation.py).
EVIDENCE_ALLOWED_TYPES: list[str] = env.list(
    "EVIDENCE_ALLOWED_TYPES", default=["pdf", "jpeg", "png", "docx", "xlsx"]
)

# --- Spreadsheet imports (spreadsheets/): limits checked before any row is read.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
#: An XLSX is a zip: refuse one that would unpack to more than this (zip bombs).
IMPORT_MAX_UNPACKED_BYTES = env.int("IMPORT_MAX_UNPACKED_BYTES", default=1024 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=2_000_000)
#: Uploaded files of imports not confirmed within this many hours are deleted.
IMPORT_EXPIRY_HOURS = env.int("IMPORT_EXPIRY_HOURS", default=72)

# --- Public certificate verification (/verify/<token>): requests per client IP.
VERIFY_RATE_LIMIT = env.str("VERIFY_RATE_LIMIT", default="30/m")
#: Behind a reverse proxy that overwrites X-Forwarded-For, take the client IP from
#: its first hop (rate limits); otherwise REMOTE_ADDR is the client.
TRUST_X_FORWARDED_FOR = env.bool("TRUST_X_FORWARDED_FOR", default=False)

# --- Campaign deadlines: the reviewers' digest lists deadlines overdue for at most this many days.
CAMPAIGN_DIGEST_OVERDUE_DAYS = env.int("CAMPAIGN_DIGEST_OVERDUE_DAYS", default=60)

# --- Issue 10 (production readiness): each concern keeps its settings in its own module.
from config.settings import observability as _observability  # noqa: E402
from config.settings import personal_data as _personal_data  # noqa: E402
from config.settings import security as _security  # noqa: E402

for _module in (_security, _personal_data, _observability):
    _module.apply(globals())
