"""The deadline-peak load benchmark (issue 10 §5): ward officials saving and
submitting, reviewers approving and the dashboard read, all at once.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/xhht_bench_load make bench-load
    DATABASE_URL=... .venv/bin/python bench/peak_load/run.py --users 500 --duration 600 \\
        --spawn-rate 10 --workers 5 --think-min 10 --think-max 30 --done 2-5 --submitted-every 5

1. Creates and migrates the database; prepares the city ``bench-peak`` (built
   once, then reused) and starts the year's family cycle afresh (``prepare.py``).
2. Starts gunicorn on 127.0.0.1 with ``config.settings.production`` (DEBUG off,
   a fixed test SECRET_KEY, no SSL redirect, ``CONN_MAX_AGE``), ``--workers``
   sync workers (``--threads`` > 1: gthread), e-mail to the in-memory backend.
3. Runs Locust headless for ``--duration`` seconds (``locustfile.py``):
   ``--users`` ward officials plus ``--reviewers`` reviewers and ``--viewers``
   steering viewers, spawned at ``--spawn-rate`` per second; meanwhile
   PostgreSQL's lock waits are sampled every second (``LockSampler``). At the
   end each user gets up to 60 s to finish its request.
4. Stops everything, checks every recorded write against the database
   (``verify.py``), reads gunicorn's logs for 5xx and tracebacks, prints the
   figures (requests, failures, sustained requests per second, p50/p95/p99 of
   page views and of saves and per request kind) and PASS/FAIL per target, and
   writes ``bench/out/peak_load.json``. Exits 1 when a target is missed.

Loopback only; every phase is bounded (Locust's ``--run-time`` and
``--stop-timeout``, a timeout on the Locust process, gunicorn's request timeout).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
BASE_DIR = HERE.parents[1]
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))
sys.path.insert(0, str(HERE))

from report import figures, percentile, print_report  # noqa: E402
from servers import free_port, wait_for  # noqa: E402
from subtree import ensure_database  # noqa: E402

OUT_DIR = BASE_DIR / "bench" / "out"
OUT = OUT_DIR / "peak_load.json"
WORK = OUT_DIR / "peak_load"
#: Not a secret: a throwaway bench database on loopback. Fixed so the sessions
#: written by ``prepare`` are valid in gunicorn (and on a reused tenant).
TEST_SECRET_KEY = "bench-peak-load-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
#: Personal-data keys production insists on (Fernet of b"bench-peak-load-test-only-key-32").
TEST_PERSONAL_DATA_KEYS = "YmVuY2gtcGVhay1sb2FkLXRlc3Qtb25seS1rZXktMzI="
TEST_PERSONAL_DATA_INDEX_KEY = "bench-peak-load-blind-index-key-not-a-secret"


def server_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": TEST_SECRET_KEY,
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "CONN_MAX_AGE": str(args.conn_max_age),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "PERSONAL_DATA_KEYS": TEST_PERSONAL_DATA_KEYS,
        "PERSONAL_DATA_INDEX_KEY": TEST_PERSONAL_DATA_INDEX_KEY,
    }


def start_gunicorn(args: argparse.Namespace, port: int, env: dict[str, str]) -> subprocess.Popen:
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--backlog",
        "2048",
        "--timeout",
        "60",
        "--access-logfile",
        str(WORK / "access.log"),
        "--access-logformat",
        "%(s)s %(D)s %(m)s %(U)s",
        "--error-logfile",
        str(WORK / "gunicorn.log"),
        "--log-level",
        "warning",
    ]
    if args.threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    output = (WORK / "server.log").open("w")
    return subprocess.Popen(  # noqa: S603 - our own gunicorn, no shell
        command,
        cwd=BASE_DIR,
        env=env,
        start_new_session=True,
        stdout=output,
        stderr=subprocess.STDOUT,
    )


def warm_up(port: int, data: dict[str, Any], workers: int) -> None:
    """Import every view in every worker before the clock starts."""
    import http.client

    viewer = data["viewers"][0]
    ward = data["wards"][0]
    paths = [
        (data["paths"]["dashboard"], viewer),
        (data["paths"]["assessment_list"], ward),
        (data["paths"]["dossier"].format(id=ward["dossier"]), ward),
        (data["paths"]["assessment"].format(id=ward["assessments"][0]["id"]), ward),
        (data["paths"]["review_queue"], data["reviewers"][0]),
    ]
    for _ in range(2 * workers):
        for path, person in paths:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            cookie = f"{data['session_cookie']}={person['session']}"
            conn.request("GET", path, headers={"Cookie": cookie, "Host": "127.0.0.1"})
            response = conn.getresponse()
            response.read()
            conn.close()
            if response.status != 200:
                raise RuntimeError(f"warm-up GET {path} answered {response.status}")


def run_locust(args: argparse.Namespace, port: int, env: dict[str, str]) -> int:
    total = args.users + args.reviewers + args.viewers
    command = [
        str(Path(sys.executable).with_name("locust")),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--host",
        f"http://127.0.0.1:{port}",
        "--users",
        str(total),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{args.duration}s",
        # Let each user finish its request (gunicorn's timeout is 60 s), so that
        # few writes are cut without an answer (verify.py counts those apart).
        "--stop-timeout",
        "60",
        "--csv",
        str(WORK / "locust"),
        "--only-summary",
        "--loglevel",
        "WARNING",
    ]
    locust_env = {
        **env,
        "PEAK_DATA": str(WORK / "data.json"),
        "PEAK_WRITES": str(WORK / "writes.jsonl"),
        "PEAK_REQUESTS": str(WORK / "requests.jsonl"),
        "PEAK_THINK": f"{args.think_min},{args.think_max}",
    }
    started = time.monotonic()
    result = subprocess.run(  # noqa: S603 - our own Locust, no shell
        command, cwd=BASE_DIR, env=locust_env, timeout=args.duration + 180, check=False
    )
    print(f"locust ran {time.monotonic() - started:.0f} s, exit code {result.returncode}")
    return result.returncode


class LockSampler(threading.Thread):
    """Samples ``pg_stat_activity`` of the bench database once a second during the
    load: backends waiting on a lock (row locks of hot rows such as the city's
    rollup row, which every transition updates), and the longest such wait."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        import environ

        config = environ.Env.db_url_config(url)
        self.conninfo = {
            k: v
            for k, v in {
                "dbname": config["NAME"],
                "user": config.get("USER") or None,
                "password": config.get("PASSWORD") or None,
                "host": config.get("HOST") or None,
                "port": config.get("PORT") or None,
            }.items()
            if v
        }
        self.samples: list[tuple[int, int, float]] = []
        self.queries: Counter[str] = Counter()
        self.done = threading.Event()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(**self.conninfo, autocommit=True) as conn:
            while not self.done.wait(1.0):
                rows = conn.execute(
                    "SELECT wait_event_type, "
                    "EXTRACT(EPOCH FROM clock_timestamp() - state_change) * 1000, left(query, 120) "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND state = 'active'"
                ).fetchall()
                waiting = [r for r in rows if r[0] == "Lock"]
                self.samples.append(
                    (len(rows), len(waiting), max((float(r[1]) for r in waiting), default=0.0))
                )
                self.queries.update(r[2] for r in waiting)

    def summary(self) -> dict[str, Any]:
        if not self.samples:
            return {}
        n = len(self.samples)
        return {
            "samples": n,
            "active_backends_avg": round(sum(s[0] for s in self.samples) / n, 1),
            "lock_waiting_avg": round(sum(s[1] for s in self.samples) / n, 2),
            "lock_waiting_max": max(s[1] for s in self.samples),
            "longest_lock_wait_ms": round(max(s[2] for s in self.samples), 1),
            "waiting_queries": [{"query": q, "samples": c} for q, c in self.queries.most_common(5)],
        }


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def server_log() -> dict[str, Any]:
    """5xx in the access log; tracebacks and worker timeouts in the error log."""
    statuses: dict[str, int] = {}
    server_ms: dict[str, list[float]] = {"page": [], "read": [], "save": []}
    for line in (WORK / "access.log").read_text().splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        status, micros, method, path = parts[:4]
        statuses[status] = statuses.get(status, 0) + 1
        group = "page" if not path.startswith("/api/") else "read" if method == "GET" else "save"
        server_ms[group].append(int(micros) / 1000)
    errors = (WORK / "gunicorn.log").read_text() + (WORK / "server.log").read_text()
    tracebacks = errors.count("Traceback (most recent call last)")
    return {
        "statuses": statuses,
        # gunicorn's own time per request (%(D)s), without the wait in its backlog.
        "server_time": {
            g: {"p50_ms": round(percentile(ms, 0.5), 1), "p95_ms": round(percentile(ms, 0.95), 1)}
            for g, ms in server_ms.items()
            if ms
        },
        "server_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
        "tracebacks": tracebacks,
        "worker_timeouts": errors.count("WORKER TIMEOUT"),
        "request_failed_events": errors.count('"event": "request_failed"'),
        "error_log": f"{WORK / 'gunicorn.log'}, {WORK / 'server.log'}",
    }


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _done_range(text: str) -> tuple[int, int]:
    """``--done``: "4" or "2-5" (each ward draws its number in the range)."""
    low, _sep, high = text.partition("-")
    bounds = (int(low), int(high or low))
    if not 0 <= bounds[0] <= bounds[1] <= 6:
        raise argparse.ArgumentTypeError("between 0 and 6, e.g. 4 or 2-5")
    return bounds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=500, help="ward officials (one per ward)")
    parser.add_argument("--reviewers", type=int, default=15)
    parser.add_argument("--viewers", type=int, default=3, help="steering viewers")
    parser.add_argument("--duration", type=int, default=600, help="seconds of load")
    parser.add_argument("--spawn-rate", type=float, default=10, help="users started per second")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--threads", type=int, default=1, help="> 1: gthread workers")
    parser.add_argument("--conn-max-age", type=int, default=60)
    # A person between two actions (reading, typing ten scores): 10–30 s.
    parser.add_argument("--think-min", type=float, default=10.0)
    parser.add_argument("--think-max", type=float, default=30.0)
    parser.add_argument(
        "--done",
        type=_done_range,
        default=(2, 5),
        help="assessments per ward already done and in the dossier, of 6: N or LOW-HIGH "
        "(drawn per ward; 0: the first day)",
    )
    parser.add_argument(
        "--submitted-every",
        type=int,
        default=5,
        help="every n-th ward has already submitted its dossier (0: none)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument(
        "--prepare-only", action="store_true", help="build the tenant and the cycle, then stop"
    )
    args, _unknown = parser.parse_known_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print(
            "DATABASE_URL must point at PostgreSQL, e.g.\n  DATABASE_URL=postgres://postgres@"
            "127.0.0.1:5432/xhht_bench_load make bench-load",
            file=sys.stderr,
        )
        return 2
    if shutil.which("locust", path=str(Path(sys.executable).parent)) is None:
        print("Locust is missing: pip install -e '.[load]'", file=sys.stderr)
        return 2
    env = {**os.environ, **server_env(args)}
    os.environ.update(server_env(args))
    ensure_database(url)
    whole = time.monotonic()

    import django

    django.setup()
    import prepare
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone
    from verify import verify

    call_command("migrate", interactive=False, verbosity=0)
    year = timezone.localdate().year
    tenant = prepare.ensure_tenant(wards=args.users, reviewers=args.reviewers, viewers=args.viewers)
    counts = prepare.reset_cycle(tenant=tenant, wards=args.users, year=year)
    counts |= prepare.head_start(
        tenant=tenant,
        wards=args.users,
        year=year,
        done=args.done,
        submitted_every=args.submitted_every,
    )
    data = prepare.credentials(
        tenant=tenant, wards=args.users, reviewers=args.reviewers, viewers=args.viewers, year=year
    )
    # Fresh planner statistics, as autovacuum keeps them on a live server: the
    # prepare has just rewritten the year's rows, and stale estimates (e.g. one
    # row where the audit log holds 30,000 of a kind) give plans no server runs.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    (WORK / "data.json").write_text(json.dumps(data, ensure_ascii=False))
    connection.close()
    prepared_s = time.monotonic() - whole
    if args.prepare_only:
        print(f"prepared in {prepared_s:.1f} s: {WORK / 'data.json'}")
        return 0

    port = free_port()
    server = start_gunicorn(args, port, env)
    try:
        wait_for(port)
        warm_up(port, data, args.workers)
        (WORK / "access.log").write_text("")
        since = timezone.now()
        load_before = os.getloadavg()
        sampler = LockSampler(url)
        sampler.start()
        locust_exit = run_locust(args, port, env)
    finally:
        stop(server)
    sampler.done.set()
    sampler.join(timeout=5)
    log = server_log()
    log["database_locks"] = sampler.summary()
    writes = read_jsonl(WORK / "writes.jsonl")
    requests = read_jsonl(WORK / "requests.jsonl")
    checks = verify(data=data, writes=writes, since=since - dt.timedelta(seconds=1))
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    result = figures(
        requests=requests,
        writes=writes,
        checks=checks,
        log=log,
        args=vars(args) | {"out": str(args.out)},
        environment={
            "postgresql": pg,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "server": f"gunicorn {args.workers} "
            + (f"gthread workers × {args.threads} threads" if args.threads > 1 else "sync workers"),
            "prepared": counts,
            "prepare_seconds": round(prepared_s, 1),
            "total_seconds": round(time.monotonic() - whole, 1),
            "locust_exit": locust_exit,
        },
    )
    print_report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"results: {args.out} (request and write logs in {WORK})")
    return 0 if result["pass"] else 1


if __name__ == "__main__":
    sys.exit(main())
