"""Figures of a peak-load run: latency per request kind, throughput, errors, targets.

Percentiles are computed here from every request Locust made (the
``PEAK_REQUESTS`` log), so the page-view and save groups get exact p95s rather
than an average of per-name percentiles. "Sustained" requests per second count
the window after the last user was spawned, up to the last request.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from typing import Any

TARGET_PAGE_P95_MS = 300.0
TARGET_SAVE_P95_MS = 500.0
GROUPS = {"page": "page views (HTML)", "read": "API reads", "save": "saves (API writes)"}


def percentile(samples: list[float], q: float) -> float:
    """Nearest rank: the smallest sample with at least ``q`` of them at or below it."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _stats(rows: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    ms = [r["ms"] for r in rows]
    return {
        "requests": len(rows),
        "failures": sum(1 for r in rows if not r["ok"]),
        "rps": round(len(rows) / seconds, 1) if seconds else 0.0,
        "p50_ms": round(percentile(ms, 0.50), 1),
        "p95_ms": round(percentile(ms, 0.95), 1),
        "p99_ms": round(percentile(ms, 0.99), 1),
        "max_ms": round(max(ms), 1) if ms else 0.0,
    }


def minutes(
    requests: list[dict[str, Any]], writes: list[dict[str, Any]], first: float
) -> list[dict[str, Any]]:
    """The run minute by minute (from the first request): requests per second,
    p95 of page views and of saves, and the submits and approvals done in it, so
    the busiest minute shows beside the whole run's figures."""
    rows: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"page": [], "save": [], "requests": 0, "submits": 0, "approvals": 0}
    )
    for r in requests:
        row = rows[int((r["t"] - first) // 60)]
        row["requests"] += 1
        group = r["name"].split(":", 1)[0]
        if group in ("page", "save"):
            row[group].append(r["ms"])
    for w in writes:
        if w["kind"] in ("submit", "approve") and w["t"] >= first:
            rows[int((w["t"] - first) // 60)][
                "submits" if w["kind"] == "submit" else "approvals"
            ] += 1
    end = max((r["t"] for r in requests), default=first)
    return [
        {
            "minute": m + 1,
            # The last minute may be short: its rate is over the time it lasted.
            "rps": round(row["requests"] / max(1.0, min(60.0, end - first - 60 * m)), 1),
            "page_p95_ms": round(percentile(row["page"], 0.95), 1),
            "save_p95_ms": round(percentile(row["save"], 0.95), 1),
            "submits": row["submits"],
            "approvals": row["approvals"],
        }
        for m, row in sorted(rows.items())
        if row["requests"]
    ]


def figures(
    *,
    requests: list[dict[str, Any]],
    writes: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    log: dict[str, Any],
    args: dict[str, Any],
    environment: dict[str, Any],
) -> dict[str, Any]:
    if requests:
        first, last = min(r["t"] for r in requests), max(r["t"] for r in requests)
    else:
        first = last = 0.0
    users = args["users"] + args["reviewers"] + args["viewers"]
    ramp = users / args["spawn_rate"] if args["spawn_rate"] else 0.0
    steady = [r for r in requests if r["t"] >= first + ramp]
    steady_s = max(0.0, last - (first + ramp))
    whole_s = last - first
    by_group: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_name: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in requests:
        by_group[r["name"].split(":", 1)[0]].append(r)
        by_name[r["name"]].append(r)
    groups = {g: _stats(by_group[g], whole_s) for g in GROUPS if by_group[g]}
    names = {n: _stats(rows, whole_s) for n, rows in sorted(by_name.items())}
    statuses = Counter(str(r["status"]) for r in requests)
    failures = [w for w in writes if w["kind"] == "failure"]
    conflicts = [f for f in failures if f["status"] == 409]
    unexpected_4xx = [f for f in failures if 400 <= f["status"] < 500 and f["status"] != 409]
    failed_requests = sum(1 for r in requests if not r["ok"])
    kinds = Counter(w["kind"] for w in writes)
    targets = {
        "no errors (no failed request, no 5xx, no traceback)": failed_requests == 0
        and log["server_5xx"] == 0
        and log["tracebacks"] == 0
        and bool(requests),
        "no lost or duplicated write (database checks)": all(c["ok"] for c in checks),
        f"page views p95 ≤ {TARGET_PAGE_P95_MS:.0f} ms": bool(groups.get("page"))
        and groups["page"]["p95_ms"] <= TARGET_PAGE_P95_MS,
        f"saves p95 ≤ {TARGET_SAVE_P95_MS:.0f} ms": bool(groups.get("save"))
        and groups["save"]["p95_ms"] <= TARGET_SAVE_P95_MS,
    }
    return {
        "environment": environment,
        "arguments": args,
        "requests": len(requests),
        "failures": failed_requests,
        "statuses": dict(sorted(statuses.items())),
        "seconds": round(whole_s, 1),
        "rps_overall": round(len(requests) / whole_s, 1) if whole_s else 0.0,
        "rps_sustained": round(len(steady) / steady_s, 1) if steady_s else 0.0,
        "steady_window_s": round(steady_s, 1),
        "groups": groups,
        "kinds": names,
        "minutes": minutes(requests, writes, first),
        "writes": {
            "saves": kinds["save"],
            "completions": kinds["complete"],
            "items_added": sum(1 for w in writes if w["kind"] == "add" and w["count"]),
            "dossiers_submitted": kinds["submit"],
            "items_approved": kinds["approve"],
            "reviews_finished": kinds["finish"],
            "failed_writes": len(failures),
        },
        "conflicts_409": conflicts[:20],
        "unexpected_4xx": unexpected_4xx[:20],
        "server": log,
        "checks": checks,
        "targets": targets,
        "pass": all(targets.values()),
    }


def print_report(result: dict[str, Any]) -> None:
    env = result["environment"]
    print()
    print(
        f"XHHT deadline-peak load — PostgreSQL {env['postgresql']}, Python {env['python']}, "
        f"{env['cpus']} CPUs, {env['server']}; load average before "
        + "/".join(f"{x:.2f}" for x in env["load_average_before"])
    )
    a = result["arguments"]
    print(
        f"{a['users']} ward officials + {a['reviewers']} reviewers + {a['viewers']} steering "
        f"viewers, spawn {a['spawn_rate']:g}/s, {a['duration']} s, think time "
        f"{a['think_min']:g}–{a['think_max']:g} s; prepare {env['prepare_seconds']} s"
    )
    low, high = a.get("done") or (0, 0)
    if high or a.get("submitted_every"):
        sent = (
            f"every {a['submitted_every']}th ward's dossier already sent"
            if a.get("submitted_every")
            else "no dossier sent yet"
        )
        print(
            f"deadline week: {low}–{high} of each ward's 6 households done before the run, "
            f"{sent} ({env['prepared'].get('assessed', 0)} done, "
            f"{env['prepared'].get('submitted', 0)} sent)"
        )
    elif "done" in a:
        print("the campaign's first day: nothing done before the run")
    print(
        f"{result['requests']:,} requests in {result['seconds']} s, {result['failures']} failed; "
        f"{result['rps_overall']} req/s overall, {result['rps_sustained']} req/s sustained "
        f"(all users running, {result['steady_window_s']} s); statuses {result['statuses']}"
    )
    header = f"{'kind':<34} {'requests':>8} {'fail':>5} {'req/s':>6} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
    print()
    print(header)
    print("-" * len(header))

    def line(label: str, s: dict[str, Any]) -> None:
        print(
            f"{label:<34} {s['requests']:>8,} {s['failures']:>5} {s['rps']:>6.1f} "
            f"{s['p50_ms']:>7.0f} {s['p95_ms']:>7.0f} {s['p99_ms']:>7.0f} {s['max_ms']:>7.0f}"
        )

    for group, label in GROUPS.items():
        if group in result["groups"]:
            line(f"ALL {label}", result["groups"][group])
    print("-" * len(header))
    for name, s in result["kinds"].items():
        line(name, s)
    per_minute = result.get("minutes") or []
    if len(per_minute) > 1:
        print("\nminute by minute (p95 in ms):")
        print(
            f"{'minute':>6} {'req/s':>6} {'pages':>6} {'saves':>6} {'submits':>8} {'approvals':>9}"
        )
        for m in per_minute:
            print(
                f"{m['minute']:>6} {m['rps']:>6.1f} {m['page_p95_ms']:>6.0f} "
                f"{m['save_p95_ms']:>6.0f} {m['submits']:>8} {m['approvals']:>9}"
            )
        busiest = max(per_minute, key=lambda m: m["rps"])
        print(
            f"busiest minute: {busiest['minute']} at {busiest['rps']} req/s, pages p95 "
            f"{busiest['page_p95_ms']:.0f} ms, saves p95 {busiest['save_p95_ms']:.0f} ms"
        )
    w = result["writes"]
    print(
        f"\nwrites: {w['saves']} saves, {w['completions']} completions, {w['items_added']} items "
        f"added, {w['dossiers_submitted']} dossiers submitted, {w['items_approved']} items "
        f"approved, {w['reviews_finished']} reviews finished; {w['failed_writes']} failed"
    )
    server = result["server"]
    print(
        f"server: {server['server_5xx']} 5xx, {server['tracebacks']} tracebacks, "
        f"{server['worker_timeouts']} worker timeouts (log {server['error_log']})"
    )
    locks = server.get("database_locks") or {}
    if locks:
        print(
            f"  PostgreSQL, sampled each second: {locks['active_backends_avg']} active backends, "
            f"{locks['lock_waiting_avg']} waiting on a lock on average (max "
            f"{locks['lock_waiting_max']}), longest wait seen {locks['longest_lock_wait_ms']:.0f} ms"
        )
        for q in locks["waiting_queries"][:3]:
            print(f"    waiting ({q['samples']}×): {q['query']}")
    for group, t in server.get("server_time", {}).items():
        print(
            f"  gunicorn time of {GROUPS[group]} (no backlog wait): "
            f"p50 {t['p50_ms']:.0f} ms, p95 {t['p95_ms']:.0f} ms"
        )
    for title, rows in (
        ("409 conflicts", result["conflicts_409"]),
        ("unexpected 4xx", result["unexpected_4xx"]),
    ):
        for row in rows:
            print(f"  {title}: {row['name']} {row['path']} → {row['status']} {row['body'][:160]}")
    print("\ndatabase checks:")
    for c in result["checks"]:
        mark = "info" if c.get("info") else "ok  " if c["ok"] else "BAD "
        print(f"  [{mark}] {c['check']}: expected {c['expected']:,}, found {c['found']:,}")
        for problem in c["problems"][:5]:
            print(f"        {problem}")
    print("\ntargets:")
    for label, ok in result["targets"].items():
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    print(f"\n{'PASS' if result['pass'] else 'FAIL'}")
