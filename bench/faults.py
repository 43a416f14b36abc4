"""Fault drill: restart PostgreSQL under a running gunicorn (issue 10 §4), one command.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_faults .venv/bin/python bench/faults.py

What it does, on this machine, loopback only:

1. prepares the database named in ``DATABASE_URL`` (created if missing,
   migrated; a tenant, a ward official with a session and an API token);
2. starts gunicorn (2 workers, ``config.settings.local`` with ``DEBUG=False``,
   persistent connections ``CONN_MAX_AGE=60`` as in production);
3. checks that a signed-in page, an API call and the liveness probe answer 200;
4. keeps asking for the three every 100 ms while it restarts PostgreSQL with
   ``--restart-command`` (default ``pg_ctlcluster --skip-systemctl-redirect 15 main restart``);
5. goes on for ``--after`` seconds, then prints what was answered during the
   outage and how long until everything was 200 again — without restarting
   gunicorn.

It fails (exit 1) if any answer is a 500 or shows a stack trace, if a
failure is not a clean 503 (the site's page for the page, JSON for the API),
if liveness ever failed, or if the app has not recovered at the end. With
``--no-restart`` it only runs steps 1–3 and a short poll (a dry run that leaves
PostgreSQL alone); with ``--block 5`` the outage is simulated on this database
only (new connections refused and open ones cut for 5 s), which is safe on a
shared server. PostgreSQL is shared: run the real restart only when nobody else
depends on it for a few seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(BASE_DIR))

DEFAULT_RESTART = "pg_ctlcluster --skip-systemctl-redirect 15 main restart"
SECRET_KEY = "fault-drill-only-" + "x" * 40


@dataclass
class Answer:
    at: float
    target: str
    status: int
    clean: bool
    note: str = ""


@dataclass
class Drill:
    base: str
    cookie: str
    token: str
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def targets(self) -> dict[str, tuple[str, dict[str, str]]]:
        return {
            "page": ("/units/?q=a", {"Cookie": f"sessionid={self.cookie}"}),
            "api": ("/api/v1/units", {"Authorization": f"Bearer {self.token}"}),
            "liveness": ("/healthz", {}),
        }

    def ask(self, target: str) -> Answer:
        path, headers = self.targets()[target]
        request = urllib.request.Request(self.base + path, headers=headers)  # noqa: S310
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                status, body, kind = (
                    response.status,
                    response.read(),
                    response.headers.get("Content-Type", ""),
                )
        except urllib.error.HTTPError as exc:
            status, body, kind = exc.code, exc.read(), exc.headers.get("Content-Type", "")
        except (urllib.error.URLError, OSError) as exc:
            return Answer(started, target, 0, False, f"no answer: {type(exc).__name__}")
        text = body.decode("utf-8", "replace")
        clean = "Traceback" not in text and status != 500
        note = ""
        if status == 503:
            if target == "api":
                clean = (
                    clean
                    and kind.startswith("application/json")
                    and _json_code(text) in {"service_unavailable"}
                )
            else:
                clean = clean and 'class="navbar navbar-dark bg-xhht"' in text
            note = "503"
        elif status not in (200, 503):
            clean = False
            note = f"unexpected {status}"
        return Answer(started, target, status, clean, note)

    def poll(self, interval: float = 0.1) -> None:
        while not self.stop.is_set():
            for target in self.targets():
                self.answers.append(self.ask(target))
            time.sleep(interval)


def _json_code(text: str) -> str:
    try:
        return str(json.loads(text).get("code", ""))
    except ValueError:
        return ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _create_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def prepare(url: str) -> tuple[str, str]:
    """Migrate and create a ward official; return (session key, API token)."""
    _create_database(url)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0, interactive=False)
    from accounts.services import api_token_create
    from tests.factories import grant, make_tenant, make_unit, make_user
    from units.models import AdministrativeUnit, Tenant
    from units.roles import Role

    tenant = Tenant.objects.filter(slug="fault-drill").first() or make_tenant(
        "Tỉnh Diễn Tập", slug="fault-drill", code="98"
    )
    units = AdministrativeUnit.objects.filter(tenant=tenant)
    city = units.filter(parent=None).first() or make_unit(
        tenant, None, "thanh_pho_tw", "Thành phố Diễn Tập", "98"
    )
    district = units.filter(code="981").first() or make_unit(
        tenant, city, "quan", "Quận Diễn Tập", "981"
    )
    ward = units.filter(code="98001").first() or make_unit(
        tenant, district, "phuong", "Phường Diễn Tập", "98001"
    )
    user = make_user(tenant, "dien.tap")
    grant(user, ward, Role.WARD_OFFICIAL)
    _token, raw = api_token_create(user=user, name="fault drill")
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    key = session.session_key
    if key is None:
        raise SystemExit("could not create the drill's session")
    connections.close_all()
    return key, raw


def block_database(url: str, seconds: float) -> None:
    """An outage of this database only: refuse new connections, cut the open ones."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        try:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            time.sleep(seconds)
        finally:
            conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')


def start_gunicorn(url: str, port: int, log_path: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DATABASE_URL": url,
        "DEBUG": "False",
        "SECRET_KEY": SECRET_KEY,
        "CONN_MAX_AGE": "60",
        "LOG_FORMAT": "json",
        "REDIS_URL": "",
    }
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--timeout",
        "30",
    ]
    log = log_path.open("wb")
    return subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        command, cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
    )


def wait_ready(drill: Drill, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(drill.ask(t).status == 200 for t in drill.targets()):
            return
        time.sleep(0.5)
    raise SystemExit("gunicorn did not serve the page, the API and /healthz with 200")


def summarise(drill: Drill, restart_at: float, restart_done: float) -> tuple[bool, dict[str, Any]]:
    answers = drill.answers
    during = [a for a in answers if restart_at <= a.at <= restart_done + 1]
    unclean = [a for a in answers if not a.clean and a.target != "liveness"]
    liveness_failed = [a for a in answers if a.target == "liveness" and a.status != 200]
    failures = [a for a in answers if a.status != 200 and a.target != "liveness"]
    last_failure = max((a.at for a in failures), default=restart_at)
    tail = [a for a in answers if a.at > last_failure]
    recovered = bool(tail) and all(a.status == 200 for a in tail)
    by_status = Counter(f"{a.target} {a.status or 'no answer'}" for a in answers)
    figures = {
        "requests": len(answers),
        "answers": dict(sorted(by_status.items())),
        "answers_during_restart": dict(
            sorted(Counter(f"{a.target} {a.status}" for a in during).items())
        ),
        "restart_seconds": round(restart_done - restart_at, 2),
        "recovered_after_restart_seconds": round(max(0.0, last_failure - restart_done), 2)
        if failures
        else 0.0,
        "unclean_answers": [f"{a.target} {a.status} {a.note}" for a in unclean][:10],
        "liveness_failures": len(liveness_failed),
        "recovered": recovered,
    }
    ok = recovered and not unclean and not liveness_failed
    return ok, figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restart-command", default=DEFAULT_RESTART)
    parser.add_argument(
        "--after", type=float, default=8.0, help="seconds to poll after the restart"
    )
    parser.add_argument("--no-restart", action="store_true", help="dry run: leave PostgreSQL alone")
    parser.add_argument(
        "--block",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="instead of restarting PostgreSQL, shut only this database out for SECONDS "
        "(connections refused and cut), which leaves other databases alone",
    )
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("Set DATABASE_URL to a PostgreSQL database of its own (e.g. xhht_faults).")
        return 2

    cookie, token = prepare(url)
    port = _free_port()
    log_path = Path(tempfile.gettempdir()) / "xhht-faults-gunicorn.log"
    server = start_gunicorn(url, port, log_path)
    drill = Drill(base=f"http://127.0.0.1:{port}", cookie=cookie, token=token)
    try:
        wait_ready(drill)
        poller = threading.Thread(target=drill.poll, daemon=True)
        poller.start()
        time.sleep(1.0)
        restart_at = time.monotonic()
        if args.block:
            block_database(url, args.block)
        elif not args.no_restart:
            subprocess.run(shlex.split(args.restart_command), check=True)  # noqa: S603
        restart_done = time.monotonic()
        time.sleep(args.after if not args.no_restart else 1.0)
        drill.stop.set()
        poller.join(timeout=30)
        # The same gunicorn, never restarted, answers again:
        final = {t: drill.ask(t).status for t in drill.targets()}
    finally:
        server.terminate()
        server.wait(timeout=30)
    ok, figures = summarise(drill, restart_at, restart_done)
    figures["final_answers"] = final
    ok = ok and all(status == 200 for status in final.values())
    figures["outage"] = (
        f"database blocked {args.block:g} s"
        if args.block
        else ("none (dry run)" if args.no_restart else args.restart_command)
    )
    figures["ok"] = ok
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
