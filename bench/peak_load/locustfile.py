"""The deadline peak as Locust users (started by ``run.py``; one Locust process).

Environment (set by ``run.py``): ``PEAK_DATA`` (the JSON written by
``prepare.credentials``), ``PEAK_WRITES`` (JSON lines of every successful write),
``PEAK_REQUESTS`` (JSON lines of every request: time, name, ms, status),
``PEAK_THINK`` ("1,5": the officials' and viewers' think time in seconds).

* :class:`WardOfficial` (all users but the fixed ones, one per ward): for each of
  the ward's assessments not yet in the dossier (``prepare.head_start``) opens the assessment page, saves scores through the API
  (``PUT /api/v1/assessments/{id}/scores`` with the version; every value drawn
  anew and different from the last, the second save changes a few of them),
  completes it and adds it to the dossier (``POST /api/v1/dossiers/{id}/items``);
  once all are in, submits the dossier with its version; then keeps reading its
  pages (dossier, lists, an assessment). Think time ``PEAK_THINK`` between requests.
* :class:`Reviewer` (fixed count): reads the review queue page; takes the
  submitted dossiers of its own share of wards (the ward officials hand them over
  when their submit succeeds, as the e-mail would), opens the review page,
  approves every item with its version and finishes the review. Think time 1–3 s
  between dossiers, 0.2–0.5 s between item approvals (clicks in one list); with
  nothing waiting, ``PEAK_THINK`` before reading the queue again. Dossiers sent
  before the run (``prepare.head_start``) are waiting from the start.
* :class:`SteeringViewer` (fixed count): reads the city dashboard; think time
  ``PEAK_THINK``.

Requests are named by kind — "page: …" (an HTML page), "read: …" (an API read)
and "save: …" (a write) — so the figures split page views from saves. A write
that fails is recorded with its status and body; the user then reads the object
again to resynchronise and continues.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections import defaultdict, deque
from typing import Any

from locust import HttpUser, between, events, task
from locust.exception import StopUser

DATA: dict[str, Any] = json.loads(open(os.environ["PEAK_DATA"], encoding="utf-8").read())  # noqa: SIM115
THINK = tuple(float(x) for x in os.environ.get("PEAK_THINK", "1,5").split(","))
WRITES = open(os.environ["PEAK_WRITES"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115
REQUESTS = open(os.environ["PEAK_REQUESTS"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115
INDICATORS: list[dict[str, Any]] = DATA["indicators"]
PATHS: dict[str, str] = DATA["paths"]
REVIEWERS = len(DATA["reviewers"])

_ward_numbers = itertools.count()
_reviewer_numbers = itertools.count()
_viewer_numbers = itertools.count()
_write_numbers = itertools.count(1)
#: Submitted dossiers waiting for their reviewer: reviewer index -> queue of
#: (ward index, dossier id, dossier version, [(assessment id, version)]).
SUBMITTED: dict[int, deque[tuple[int, str, int, list[tuple[str, int]]]]] = defaultdict(deque)
# Dossiers sent before the run (``prepare.head_start``) wait from the first second.
for _n, _ward in enumerate(DATA["wards"]):
    if _ward.get("dossier_status") == "submitted":
        SUBMITTED[_n % REVIEWERS].append(
            (
                _n,
                _ward["dossier"],
                _ward["dossier_version"],
                [(a["id"], a["version"]) for a in _ward["assessments"] if a.get("in_dossier")],
            )
        )


def record(kind: str, **fields: Any) -> None:
    WRITES.write(json.dumps({"kind": kind, "t": time.time(), **fields}) + "\n")


@events.request.add_listener
def _on_request(
    request_type: str,
    name: str,
    response_time: float,
    response_length: int,
    response: Any = None,
    exception: Any = None,
    **_kwargs: Any,
) -> None:
    status = getattr(response, "status_code", 0) if response is not None else 0
    REQUESTS.write(
        json.dumps(
            {
                "t": round(time.time(), 3),
                "name": name,
                "ms": round(response_time, 2),
                "status": status,
                "ok": exception is None,
            }
        )
        + "\n"
    )


def _body(response: Any) -> str:
    try:
        return response.text[:300]
    except Exception:
        return ""


class _Person(HttpUser):
    abstract = True
    wait_time = between(*THINK)
    row: dict[str, Any]

    def _headers(self, *, api: bool) -> dict[str, str]:
        if api:
            return {"Authorization": f"Bearer {self.row['token']}", "Accept": "application/json"}
        return {"Cookie": f"{DATA['session_cookie']}={self.row['session']}"}

    def page(self, name: str, path: str) -> bool:
        """An HTML page with the session cookie; fails on anything but 200."""
        with self.client.get(
            path,
            name=f"page: {name}",
            headers=self._headers(api=False),
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {_body(response)}")
                return False
            return True

    def api(
        self, method: str, kind: str, name: str, path: str, payload: Any = None
    ) -> dict[str, Any] | None:
        """A JSON API call with the token; the decoded body, or ``None`` on failure.

        A write is recorded as attempted before it is sent, and its outcome
        (``done`` or ``failure``) after, under one write number: a write with no
        outcome was cut by the end of the run, and ``verify`` leaves its object
        out of the exact checks (its effect may or may not have landed)."""
        self.write_id = 0
        if kind == "save":
            self.write_id = next(_write_numbers)
            record("attempt", write=self.write_id, name=f"{kind}: {name}", path=path)
        with self.client.request(
            method,
            path,
            name=f"{kind}: {name}",
            headers=self._headers(api=True),
            json=payload,
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {_body(response)}")
                record(
                    "failure",
                    write=self.write_id,
                    name=f"{kind}: {name}",
                    path=path,
                    status=response.status_code,
                    body=_body(response),
                    user=self.row["username"],
                )
                return None
            return response.json()  # type: ignore[no-any-return]

    def done(self, kind: str, **fields: Any) -> None:
        """Record the successful outcome of the last write."""
        record(kind, write=self.write_id, **fields)


class WardOfficial(_Person):
    weight = 1

    def on_start(self) -> None:
        number = next(_ward_numbers)
        if number >= len(DATA["wards"]):
            raise StopUser()
        self.number = number
        self.row = DATA["wards"][number]
        self.dossier_version: int = self.row["dossier_version"]
        # Assessments done before the run are already complete and in the dossier.
        self.items = [
            dict(a, values={}, saves=0, ready=a.get("in_dossier"), added=a.get("in_dossier"))
            for a in self.row["assessments"]
        ]
        self.sent = self.row.get("dossier_status", "draft") != "draft"
        self.steps = self._plan()

    def _plan(self) -> Any:
        """The official's session as a generator: one request per step."""
        for item in [] if self.sent else [i for i in self.items if not i["added"]]:
            yield lambda item=item: self.page(
                "assessment", PATHS["assessment"].format(id=item["id"])
            )
            yield lambda item=item: self.save(item, every=True)
            yield lambda item=item: self.save(item, every=False)
            yield lambda item=item: self.complete(item)
            yield lambda item=item: self.add(item)
        if not self.sent:
            yield lambda: self.page("dossier", PATHS["dossier"].format(id=self.row["dossier"]))
            yield self.submit
        while True:
            yield random.choice(
                [
                    lambda: self.page("dossier", PATHS["dossier"].format(id=self.row["dossier"])),
                    lambda: self.page("assessment list", PATHS["assessment_list"]),
                    lambda: self.page("dossier list", PATHS["dossier_list"]),
                    lambda: self.page(
                        "assessment",
                        PATHS["assessment"].format(id=random.choice(self.items)["id"]),
                    ),
                ]
            )

    @task
    def step(self) -> None:
        next(self.steps)()

    def _resync(self, item: dict[str, Any]) -> None:
        body = self.api("GET", "read", "assessment (resync)", f"/api/v1/assessments/{item['id']}")
        if body is not None:
            item["version"] = body["version"]

    def save(self, item: dict[str, Any], *, every: bool) -> None:
        """Scores for every indicator (first save) or 3 of them (second save), each
        value new and different from the one saved before."""
        chosen = INDICATORS if every else random.sample(INDICATORS, 3)
        values = {}
        for ind in chosen:
            old = item["values"].get(ind["id"])
            choices = [v for v in range(0, ind["max"] + 1) if v != old]
            values[ind["id"]] = random.choice(choices)
        path = f"/api/v1/assessments/{item['id']}/scores"
        body = self.api(
            "PUT", "save", "assessment scores", path, {"version": item["version"], "values": values}
        )
        if body is None:
            self._resync(item)
            return
        self.done(
            "save",
            assessment=item["id"],
            sent_version=item["version"],
            version=body["version"],
            values=values,
        )
        item["values"].update(values)
        item["version"] = body["version"]

    def complete(self, item: dict[str, Any]) -> None:
        path = f"/api/v1/assessments/{item['id']}/complete"
        body = self.api("POST", "save", "complete assessment", path, {"version": item["version"]})
        if body is None:
            self._resync(item)
            return
        self.done(
            "complete",
            assessment=item["id"],
            sent_version=item["version"],
            version=body["version"],
            status=body["status"],
        )
        item["version"] = body["version"]
        item["ready"] = True

    def add(self, item: dict[str, Any]) -> None:
        if not item.get("ready"):
            return
        path = f"/api/v1/dossiers/{self.row['dossier']}/items"
        body = self.api("POST", "save", "add to dossier", path, {"assessment_ids": [item["id"]]})
        if body is None:
            return
        self.done("add", dossier=self.row["dossier"], assessment=item["id"], count=body["count"])
        if body["count"]:
            self.dossier_version += 1
            item["added"] = True

    def submit(self) -> None:
        added = [i for i in self.items if i.get("added")]
        if not added:
            return
        path = f"/api/v1/dossiers/{self.row['dossier']}/submit"
        body = self.api("POST", "save", "submit dossier", path, {"version": self.dossier_version})
        if body is None:
            return
        self.done(
            "submit",
            dossier=self.row["dossier"],
            sent_version=self.dossier_version,
            version=body["version"],
            status=body["status"],
            items=[i["id"] for i in added],
        )
        self.dossier_version = body["version"]
        SUBMITTED[self.number % REVIEWERS].append(
            (
                self.number,
                self.row["dossier"],
                body["version"],
                [(i["id"], i["version"] + 1) for i in added],  # the submit bumps each item once
            )
        )


class Reviewer(_Person):
    fixed_count = REVIEWERS

    def wait_time(self) -> float:
        """1–3 s to the next waiting dossier; with none waiting, the queue page is
        read again after the officials' think time (a person, not a poller)."""
        if SUBMITTED[self.number]:
            return random.uniform(1, 3)
        return random.uniform(*THINK)

    def on_start(self) -> None:
        number = next(_reviewer_numbers)
        if number >= REVIEWERS:
            raise StopUser()
        self.number = number
        self.row = DATA["reviewers"][number]

    @task
    def review(self) -> None:
        self.page("review queue", PATHS["review_queue"])
        waiting = SUBMITTED[self.number]
        if not waiting:
            return
        ward, dossier, dossier_version, items = waiting.popleft()
        self.page("review dossier", PATHS["review"].format(id=dossier))
        approved = 0
        for assessment, version in items:
            time.sleep(random.uniform(0.2, 0.5))
            path = f"/api/v1/dossiers/{dossier}/items/{assessment}/approve"
            body = self.api("POST", "save", "approve item", path, {"version": version})
            if body is None:
                continue
            approved += 1
            self.done(
                "approve",
                dossier=dossier,
                assessment=assessment,
                sent_version=version,
                version=body["version"],
                status=body["status"],
            )
        if approved != len(items):
            return
        path = f"/api/v1/dossiers/{dossier}/finish"
        body = self.api("POST", "save", "finish review", path, {"version": dossier_version})
        if body is not None:
            self.done(
                "finish",
                dossier=dossier,
                ward=ward,
                sent_version=dossier_version,
                version=body["version"],
                status=body["status"],
            )


class SteeringViewer(_Person):
    fixed_count = len(DATA["viewers"])

    def on_start(self) -> None:
        number = next(_viewer_numbers)
        if number >= len(DATA["viewers"]):
            raise StopUser()
        self.row = DATA["viewers"][number]

    @task
    def dashboard(self) -> None:
        self.page("dashboard", PATHS["dashboard"])
