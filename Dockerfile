# One image for web (gunicorn), worker and beat (Celery); see docker-compose.yml.
#   docker build -t xhht .
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/var/lib/xhht/media

# WeasyPrint's system libraries (Pango, HarfBuzz with subsetting, fontconfig).
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        libharfbuzz-subset0 \
        fontconfig \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 xhht \
    && useradd --system --uid 10001 --gid xhht --home-dir /app --shell /usr/sbin/nologin xhht \
    && mkdir -p /var/lib/xhht/media \
    && chown -R xhht:xhht /var/lib/xhht

WORKDIR /app

# The pinned dependencies of pyproject.toml first: code changes reuse this layer.
COPY pyproject.toml ./
RUN pip install .

COPY . .

# Static files are collected (and compressed for WhiteNoise) at build time; the
# key exists only for this command and is not kept in the image.
RUN SECRET_KEY="build-only-collectstatic-key-not-used-at-runtime-0123456789" \
        python manage.py collectstatic --noinput --verbosity 0 \
    && python -m compileall -q /app

USER xhht
EXPOSE 8000

# Workers: WEB_CONCURRENCY; other options: GUNICORN_CMD_ARGS.
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
