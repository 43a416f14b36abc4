"""A real Celery worker, started as a subprocess against the test database.

Needs ``REDIS_URL``: without it the tests skip, except under CI, where a
missing broker is a failure. The worker reads ``config.settings.test`` with
``DATABASE_URL`` pointing at the database pytest-django created, listens on a
queue of its own and is stopped when the test ends.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection

from config.celery import app

BASE_DIR = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _subprocess_env(**overrides: str) -> dict[str, str]:
    """The current environment with ``overrides`` applied."""
    return {**os.environ, **overrides}


def database_url() -> str:
    """A URL for the database the tests are using right now."""
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        user = quote(db.get("USER") or "", safe="")
        password = quote(db.get("PASSWORD") or "", safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        port = f":{db['PORT']}" if db.get("PORT") else ""
        return f"postgres://{auth}{db.get('HOST') or 'localhost'}{port}/{quote(db['NAME'])}"
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            pytest.skip(
                "the worker cannot share an in-memory SQLite test database; "
                "set DATABASE_URL (PostgreSQL) to run it"
            )
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    pytest.skip(f"no DATABASE_URL form for {connection.vendor}")
    raise AssertionError  # unreachable, for type checkers


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        if _truthy(os.environ.get("CI")):
            pytest.fail("CI runs the Celery worker test: set REDIS_URL", pytrace=False)
        pytest.skip("needs REDIS_URL")
    return url


@dataclass
class Worker:
    """A running ``celery worker`` subprocess and its log."""

    process: subprocess.Popen[bytes]
    queue: str
    log_path: Path
    broker_url: str

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def enqueue(self, task: Any, *args: Any) -> str:
        """Send ``task`` to this worker's queue through the broker (never eagerly)."""
        with app.connection_for_write(self.broker_url) as conn:
            result = task.apply_async(args=args, queue=self.queue, connection=conn)
        return str(result.id)

    def results(self) -> dict[str, str]:
        """``task id -> returned value`` for every task the worker finished."""
        pattern = re.compile(r"Task [\w.]+\[([0-9a-f-]{36})\] succeeded in [\d.e-]+s: (.*)$")
        found: dict[str, str] = {}
        for line in self.log().splitlines():
            match = pattern.search(_log_message(line))
            if match:
                found[match.group(1)] = match.group(2).strip()
        return found

    def children(self) -> list[int]:
        """Process ids of the worker's pool processes (prefork)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def kill(self) -> None:
        """SIGKILL: the worker dies at once, as in a crash or an OOM kill."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT_S)

    def wait_for(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            if self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}):\n{self.tail()}")
            time.sleep(0.2)
        pytest.fail(
            f"timed out after {timeout:.0f} s waiting for {what}; worker log:\n{self.tail()}"
        )


def _log_message(line: str) -> str:
    """The message of a worker log line, whether JSON (the default) or plain text."""
    if line.startswith("{"):
        try:
            record = json.loads(line)
        except ValueError:
            return line
        if isinstance(record, dict):
            return str(record.get("event", ""))
    return line


def _celery_command() -> list[str]:
    venv_celery = Path(sys.executable).with_name("celery")
    if venv_celery.exists():
        return [str(venv_celery)]
    found = shutil.which("celery")
    return [found] if found else [sys.executable, "-m", "celery"]


def start_worker(
    *,
    redis_url: str,
    db_url: str,
    queue: str,
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    pool: str = "solo",
) -> Worker:
    """Start ``celery -A config worker`` on ``queue`` and wait until it is ready."""
    env = _subprocess_env(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        PYTHONUNBUFFERED="1",
        **(extra_env or {}),
    )
    command = [
        *_celery_command(),
        "-A",
        "config",
        "worker",
        f"--pool={pool}",
        "--concurrency=1",
        "-Q",
        queue,
        "-n",
        f"{queue}-{uuid.uuid4().hex[:6]}@%h",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process=process, queue=queue, log_path=log_path, broker_url=redis_url)
    try:
        worker.wait_for(lambda: " ready." in worker.log(), START_TIMEOUT_S, "the worker to start")
    except BaseException:
        _stop(process)
        raise
    return worker


@contextmanager
def _eager_off(settings: Any, redis_url: str) -> Iterator[None]:
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = {key: app.conf[key] for key in ("task_always_eager", "broker_url")}
    app.conf.task_always_eager = False
    app.conf.broker_url = redis_url
    try:
        yield
    finally:
        for key, value in saved.items():
            app.conf[key] = value


@pytest.fixture
def celery_worker(
    redis_url: str, transactional_db: None, settings: Any, tmp_path: Path
) -> Iterator[Worker]:
    """Start ``celery -A config worker`` on a queue of its own; stop it afterwards."""
    db_url = database_url()
    queue = f"xhht-test-{uuid.uuid4().hex[:12]}"
    with _eager_off(settings, redis_url):
        worker = start_worker(
            redis_url=redis_url, db_url=db_url, queue=queue, log_path=tmp_path / "worker.log"
        )
        try:
            yield worker
        finally:
            _stop(worker.process)
            _forget_queue(redis_url, queue)
            # The test database is flushed next: nothing of the worker may hold it.
            connection.close()


WorkerFactory = Callable[..., Worker]


@pytest.fixture
def worker_factory(
    redis_url: str, transactional_db: None, settings: Any, tmp_path: Path
) -> Iterator[WorkerFactory]:
    """Start workers one after another on one queue (``start(**env)``), e.g. to
    kill one in the middle of a job and let the next take over; all are stopped
    at the end."""
    db_url = database_url()
    queue = f"xhht-test-{uuid.uuid4().hex[:12]}"
    started: list[Worker] = []

    def start(*, pool: str = "solo", **extra_env: str) -> Worker:
        log_path = tmp_path / f"worker-{len(started) + 1}.log"
        worker = start_worker(
            redis_url=redis_url,
            db_url=db_url,
            queue=queue,
            log_path=log_path,
            extra_env=extra_env,
            pool=pool,
        )
        started.append(worker)
        return worker

    with _eager_off(settings, redis_url):
        try:
            yield start
        finally:
            for worker in started:
                _stop(worker.process)
            _forget_queue(redis_url, queue)
            connection.close()


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Warm shutdown (SIGTERM), then SIGKILL if the worker does not exit."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT_S)


def _forget_queue(broker_url: str, queue: str) -> None:
    """Remove the run's queue and kombu's bindings for it from Redis (best effort)."""
    import redis

    try:
        client = redis.Redis.from_url(broker_url)
        keys = [*client.scan_iter(match=f"*{queue}*", count=1000)]
        if keys:
            client.delete(*keys)
        client.close()
    except redis.RedisError:
        pass
