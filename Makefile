# XHHT — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: run test lint worker beat format migrate demo messages bench bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## Set everything up and serve the demo on http://127.0.0.1:8000 (SQLite, tasks in-process)
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

## Set everything up and run the whole suite (SQLite unless DATABASE_URL is set)
test: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/djlint templates --lint
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/mypy config core accounts units recognition campaigns reports spreadsheets
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## A real Celery worker (needs REDIS_URL)
worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel=INFO --scheduler django_celery_beat.schedulers:DatabaseScheduler

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

demo: $(STAMP)
	$(BIN)/python manage.py seed_demo

## Rebuild the translation catalogues (needs GNU gettext); the compiled .mo files are committed
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l vi -l en --ignore='.venv/*' --ignore='static/*'
	$(BIN)/python manage.py compilemessages --ignore='.venv/*'

## Benchmarks (need DATABASE_URL pointing at PostgreSQL)
bench: $(STAMP)
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python bench/run.py

## The deadline-peak load benchmark: 500 concurrent users against gunicorn on PostgreSQL (DATABASE_URL)
bench-load: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,load]'
	DJANGO_SETTINGS_MODULE=config.settings.test $(BIN)/python bench/peak_load/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 media
