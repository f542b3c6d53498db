"""A fake Prolific: a real HTTP server on 127.0.0.1 with its own state (study status machine, places, submissions,
bonuses, participant groups) and signed webhook deliveries.

Every request it receives and every response it serves is validated against Prolific's own OpenAPI document
(``../shared/prolific/openapi.yml``) with openapi-core; a request that does not match is answered 400 and recorded
in ``violations``, and so is a response of ours that does not (the fixture fails the test on any). So the fake
cannot drift from Prolific while our client drifts with it.

Faults: ``fail(method, path_pattern, kind, times)`` with kind ``429`` (with Retry-After), ``500``, or ``timeout``
(the server acts, then answers too late: the client's outcome is unknown while Prolific has done it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import os
import re
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

SPEC_PATH = (
    Path(os.environ["PERSONA_LAB_SHARED_PROLIFIC"])
    if os.environ.get("PERSONA_LAB_SHARED_PROLIFIC")
    else Path(__file__).resolve().parents[3].parent / "shared" / "prolific"
) / "openapi.yml"
PROLIFIC_HOST = "https://api.prolific.com"
PLACE_HOLDING = ("RESERVED", "ACTIVE", "AWAITING REVIEW", "APPROVED", "SCREENED OUT")
REJECTION_CATEGORIES = {
    "TOO_QUICKLY",
    "TOO_SLOWLY",
    "FAILED_INSTRUCTIONS",
    "INCOMP_LONGITUDINAL",
    "FAILED_CHECK",
    "LOW_EFFORT",
    "MALINGERING",
    "NO_CODE",
    "BAD_CODE",
    "NO_DATA",
    "UNSUPP_DEVICE",
    "OTHER",
}
TRANSITIONS = {
    ("UNPUBLISHED", "PUBLISH"): "ACTIVE",
    ("ACTIVE", "PAUSE"): "PAUSED",
    ("PAUSED", "START"): "ACTIVE",
    ("ACTIVE", "STOP"): "COMPLETED",
    ("PAUSED", "STOP"): "COMPLETED",
}


@cache
def openapi() -> Any:
    from openapi_core import Config, OpenAPI

    # Prolific's document breaks one rule of the OpenAPI meta-schema (component names with spaces, e.g.
    # "AI Task Builder_…"), so the document itself is not checked; every exchange still is, against it.
    return OpenAPI.from_file_path(str(SPEC_PATH), config=Config(spec_validator_cls=None))


class _SpecRequest:
    """A werkzeug request seen as if sent to Prolific's host (the spec's server)."""

    def __init__(self, request: Request) -> None:
        from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest

        self._inner = WerkzeugOpenAPIRequest(request)
        self.parameters = self._inner.parameters
        self.host_url = PROLIFIC_HOST
        self.path = request.path
        self.method = request.method.lower()
        self.body = request.get_data()
        self.content_type = request.content_type or "application/octet-stream"


@dataclass
class Event:
    event_id: str
    body: bytes
    timestamp: int


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    kind: str
    times: int


@dataclass
class FakeProlific:
    token: str = "fake-token"
    secret: str = "fake-webhook-secret"
    workspace_id: str = "ws-1"
    timeout_delay: float = 1.5
    studies: dict[str, dict[str, Any]] = field(default_factory=dict)
    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    bonuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    approvals: Counter[str] = field(default_factory=Counter)  # submission id → approvals that took effect
    rejections: Counter[str] = field(default_factory=Counter)
    pays: Counter[str] = field(default_factory=Counter)  # bulk bonus id → pay calls that paid
    paid: Counter[str] = field(default_factory=Counter)  # participant id → total paid in cents
    calls: list[tuple[str, str, int]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    # --- test controls -------------------------------------------------------------------------------------------

    def fail(self, method: str, pattern: str, kind: str, times: int = 1) -> None:
        self.faults.append(Fault(method, re.compile(pattern), kind, times))

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}{uuid.uuid4().hex[:8]}"

    def _event(self, payload: dict[str, Any]) -> None:
        self.events.append(Event(self._new_id("evt"), json.dumps(payload).encode(), int(time.time())))

    def signed(self, event: Event) -> dict[str, str]:
        """Prolific's headers: base64(HMAC-SHA256(secret, timestamp + body)), the event id and send time."""
        stamp = str(int(time.time()))
        signature = base64.b64encode(
            hmac.new(self.secret.encode(), stamp.encode() + event.body, hashlib.sha256).digest()
        ).decode()
        return {
            "X-Prolific-Request-Signature": signature,
            "X-Prolific-Request-Timestamp": stamp,
            "X-Event-ID": event.event_id,
            "X-Timestamp": str(event.timestamp),
        }

    def _set_submission(self, sub: dict[str, Any], status: str) -> None:
        sub["status"] = status
        if status in ("AWAITING REVIEW", "RETURNED", "TIMED-OUT") and not sub.get("completed_at"):
            sub["completed_at"] = _now()
        self._event(
            {
                "event_type": "submission.status.change",
                "resource_id": sub["id"],
                "participant_id": sub["participant_id"],
                "status": status,
            }
        )
        self._study_settle(self.studies[sub["study_id"]])

    def _held(self, study: dict[str, Any]) -> int:
        return sum(
            1 for s in self.submissions.values() if s["study_id"] == study["id"] and s["status"] in PLACE_HOLDING
        )

    def _study_settle(self, study: dict[str, Any]) -> None:
        before = study["status"]
        held = self._held(study)
        mine = [s for s in self.submissions.values() if s["study_id"] == study["id"]]
        in_progress = any(s["status"] in ("RESERVED", "ACTIVE") for s in mine)
        if study["status"] == "ACTIVE" and held >= study["total_available_places"] and not in_progress:
            study["status"] = "AWAITING REVIEW"
        if study["status"] == "AWAITING REVIEW":
            if held < study["total_available_places"]:
                study["status"] = "ACTIVE"
            elif all(s["status"] in ("APPROVED", "RETURNED", "TIMED-OUT", "REJECTED", "SCREENED OUT") for s in mine):
                study["status"] = "COMPLETED"
        study["places_taken"] = held
        study["number_of_submissions"] = len(mine)
        if study["status"] != before:
            self._event({"event_type": "study.status.change", "resource_id": study["id"], "status": study["status"]})

    def eligible(self, study_id: str, pid: str) -> bool:
        study = self.studies[study_id]
        for flt in study.get("filters") or []:
            blocked = [g for g in flt.get("selected_values", []) if g in self.groups]
            if flt.get("filter_id") == "participant_group_blocklist" and any(
                pid in self.groups[g]["members"] for g in blocked
            ):
                return False
        return not any(s["participant_id"] == pid and s["study_id"] == study_id for s in self.submissions.values())

    def worker_start(self, study_id: str, pid: str) -> str | None:
        """A worker takes a place (None: study not active, full, or the worker is not eligible)."""
        with self.lock:
            study = self.studies[study_id]
            if study["status"] != "ACTIVE" or self._held(study) >= study["total_available_places"]:
                return None
            if not self.eligible(study_id, pid):
                return None
            sub = {
                "id": self._new_id("sub"),
                "participant_id": pid,
                "study_id": study_id,
                "status": "ACTIVE",
                "started_at": _now(),
                "completed_at": None,
                "has_siblings": False,
                "study_code": None,
            }
            self.submissions[sub["id"]] = sub
            self._set_submission(sub, "ACTIVE")
            return sub["id"]

    def worker_finish(self, submission_id: str, code: str) -> None:
        with self.lock:
            sub = self.submissions[submission_id]
            assert sub["status"] == "ACTIVE"
            codes = [c["code"] for c in self.studies[sub["study_id"]].get("completion_codes", [])]
            assert code in codes, f"{code!r} is not one of the study's completion codes"
            sub["study_code"] = code
            self._set_submission(sub, "AWAITING REVIEW")

    def worker_leave(self, submission_id: str, status: str) -> None:
        with self.lock:
            assert self.submissions[submission_id]["status"] == "ACTIVE"
            self._set_submission(self.submissions[submission_id], status)

    # --- the HTTP side ------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._handle(request)
        return response(environ, start_response)

    def _handle(self, request: Request) -> Response:
        from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse

        spec_request = _SpecRequest(request)
        result = openapi().unmarshal_request(spec_request)
        if result.errors:
            detail = "; ".join(_error_text(e) for e in result.errors)
            if not (request.headers.get("Authorization") or "").startswith("Token "):
                self.calls.append((request.method, request.path, 401))
                return _error(401, "Authentication credentials were not provided.")
            self.violations.append(f"request {request.method} {request.path}: {detail}")
            self.calls.append((request.method, request.path, 400))
            return _error(400, f"request does not match Prolific's API: {detail}")
        if request.headers.get("Authorization") != f"Token {self.token}":
            self.calls.append((request.method, request.path, 401))
            return _error(401, "Invalid token.")
        fault = self._fault(request)
        if fault in ("429", "500"):
            self.calls.append((request.method, request.path, int(fault)))
            response = _error(int(fault), "Too many requests" if fault == "429" else "Server error")
            if fault == "429":
                response.headers["Retry-After"] = "1"
            return response
        with self.lock:
            try:
                status, body = self._route(request)
            except _Refuse as refusal:
                status, body = refusal.status, _error_body(refusal.status, refusal.detail, refusal.bare)
        response = Response(json.dumps(body), status=status, content_type="application/json")
        if status < 300 or status == 400:
            checked = openapi().unmarshal_response(spec_request, WerkzeugOpenAPIResponse(response))
            if checked.errors:
                detail = "; ".join(_error_text(e) for e in checked.errors)
                self.violations.append(f"response {request.method} {request.path} {status}: {detail}")
        self.calls.append((request.method, request.path, status))
        if fault == "timeout":
            time.sleep(self.timeout_delay)  # it has acted; the answer comes after the client gave up
        return response

    def _fault(self, request: Request) -> str | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == request.method and fault.pattern.search(request.path):
                fault.times -= 1
                return fault.kind
        return None

    def _route(self, request: Request) -> tuple[int, Any]:
        path, method = request.path.removeprefix("/api/v1/"), request.method
        data = request.get_json(silent=True) if request.data else None
        parts = [p for p in path.split("/") if p]
        match (method, parts):
            case ("GET", ["workspaces"]):
                return 200, {"results": [{"id": self.workspace_id, "title": "Lab"}]}
            case ("POST", ["study-cost-calculator"]):
                return 200, {"total_cost": round(data["reward"] * data["total_available_places"] * 4 / 3)}
            case ("POST", ["studies", "predicted-recruitment-time"]):
                hours = 0.05 * data["total_available_places"]
                return 200, {
                    "precise_recruitment_time_hours": hours,
                    "lower_bound_hours": hours / 2,
                    "upper_bound_hours": hours * 2,
                    "display_string": f"about {hours:.1f} hours",
                }
            case ("POST", ["studies"]):
                return self._study_create(data)
            case ("GET", ["studies"]):
                return 200, {"results": [_short(s) for s in self.studies.values()]}
            case ("GET", ["studies", sid]):
                return 200, self._study(sid)
            case ("PATCH", ["studies", sid]):
                return self._study_update(self._study(sid), data)
            case ("POST", ["studies", sid, "transition"]):
                study = self._study(sid)
                target = TRANSITIONS.get((study["status"], data["action"]))
                if target is None:
                    raise _Refuse(400, f"cannot {data['action']} a study that is {study['status']}")
                study["status"] = target
                self._event({"event_type": "study.status.change", "resource_id": sid, "status": target})
                return 200, study
            case ("GET", ["studies", sid, "submissions"]):
                self._study(sid)
                rows = [_submission_short(s) for s in self.submissions.values() if s["study_id"] == sid]
                return 200, {"results": rows}
            case ("POST", ["submissions", "bulk-approve"]):
                return self._bulk_approve(data)
            case ("POST", ["submissions", subid, "transition"]):
                return self._submission_transition(subid, data)
            case ("POST", ["participant-groups"]):
                gid = self._new_id("grp")
                self.groups[gid] = {
                    "id": gid,
                    "name": data["name"],
                    "workspace_id": data.get("workspace_id"),
                    "members": set(data.get("participant_ids") or []),
                }
                return 201, _group(self.groups[gid])
            case ("POST", ["participant-groups", gid, "participants"]):
                if gid not in self.groups:
                    raise _Refuse(404, "no such group")
                self.groups[gid]["members"].update(data.get("participant_ids") or [])
                members = sorted(self.groups[gid]["members"])
                return 200, {"results": [{"participant_id": m, "datetime_created": _now()} for m in members]}
            case ("POST", ["submissions", "bonus-payments"]):
                return self._bonus_create(data)
            case ("POST", ["bulk-bonus-payments", bid, "pay"]):
                if bid not in self.bonuses:
                    raise _Refuse(404, "no such bulk bonus")
                self.pays[bid] += 1  # Prolific pays again on every call
                for pid, cents in self.bonuses[bid]["lines"]:
                    self.paid[pid] += cents
                return 202, "Bonuses will be paid"
        raise _Refuse(404, f"the fake has no {method} {path}")

    def _study(self, sid: str) -> dict[str, Any]:
        if sid not in self.studies:
            raise _Refuse(404, "Study not found")
        return self.studies[sid]

    def _study_create(self, data: dict[str, Any]) -> tuple[int, Any]:
        codes = [c.get("code") for c in data.get("completion_codes") or []]
        if len(codes) != len(set(codes)):
            raise _Refuse(400, "completion codes must be unique", bare=True)
        for placeholder in ("{{%PROLIFIC_PID%}}", "{{%STUDY_ID%}}", "{{%SESSION_ID%}}"):
            if placeholder not in data["external_study_url"]:
                raise _Refuse(400, f"external_study_url lacks {placeholder}", bare=True)
        sid = self._new_id("std")
        study = {**data, "id": sid, "status": "UNPUBLISHED", "places_taken": 0, "number_of_submissions": 0}
        self.studies[sid] = study
        return 201, study

    def _study_update(self, study: dict[str, Any], data: dict[str, Any]) -> tuple[int, Any]:
        if study["status"] != "UNPUBLISHED":
            if set(data) - {"total_available_places", "internal_name"}:
                raise _Refuse(400, "only total_available_places can change after publishing")
            if data.get("total_available_places", study["total_available_places"]) < study["total_available_places"]:
                raise _Refuse(400, "places can only be increased")
            if study["status"] == "COMPLETED" and data["total_available_places"] > study["total_available_places"]:
                study["status"] = "ACTIVE"
        study.update(data)
        self._study_settle(study)
        return 200, study

    def _bulk_approve(self, data: dict[str, Any]) -> tuple[int, Any]:
        ids = data.get("submission_ids") or [
            s["id"]
            for s in self.submissions.values()
            if s["study_id"] == data.get("study_id") and s["participant_id"] in data.get("participant_ids", [])
        ]
        for sub_id in ids:
            if self.submissions.get(sub_id, {}).get("status") != "AWAITING REVIEW":
                raise _Refuse(400, f"{sub_id} is not awaiting review", bare=True)
        for sub_id in ids:
            self.approvals[sub_id] += 1
            self._set_submission(self.submissions[sub_id], "APPROVED")
        return 200, "Bulk approve in progress"

    def _submission_transition(self, subid: str, data: dict[str, Any]) -> tuple[int, Any]:
        sub = self.submissions.get(subid)
        if sub is None:
            raise _Refuse(404, "Submission not found")
        action = data["action"]
        if action in ("APPROVE", "REJECT") and sub["status"] in ("APPROVED", "REJECTED"):
            return 200, _submission(sub)  # "idempotent, the second request will be ignored"
        if sub["status"] != "AWAITING REVIEW":
            raise _Refuse(400, f"submission is {sub['status']}")
        if action == "REJECT":
            if len(data.get("message") or "") < 100:
                raise _Refuse(400, "message must be at least 100 characters")
            if data.get("rejection_category") not in REJECTION_CATEGORIES:
                raise _Refuse(400, "rejection_category is required")
            self.rejections[subid] += 1
            self._set_submission(sub, "REJECTED")
        elif action == "APPROVE":
            self.approvals[subid] += 1
            self._set_submission(sub, "APPROVED")
        else:
            raise _Refuse(400, f"the fake does not do {action}")
        return 200, _submission(sub)

    def _bonus_create(self, data: dict[str, Any]) -> tuple[int, Any]:
        study = self._study(data["study_id"])
        takers = {s["participant_id"] for s in self.submissions.values() if s["study_id"] == study["id"]}
        lines = []
        for line in data["csv_bonuses"].splitlines():
            if not line.strip():
                continue
            pid, amount = line.split(",")
            if pid not in takers:
                raise _Refuse(400, f"{pid} did not take part in this study")
            lines.append((pid, int(Decimal(amount) * 100)))
        bid = self._new_id("bb")
        amount = sum(c for _, c in lines)
        fees = round(amount / 3)
        self.bonuses[bid] = {"lines": lines}
        body = {
            "id": bid,
            "study": study["id"],
            "amount": amount,
            "fees": fees,
            "vat": 0,
            "total_amount": amount + fees,
        }
        return 201, body


class _Refuse(Exception):
    def __init__(self, status: int, detail: str, bare: bool = False) -> None:
        self.status, self.detail, self.bare = status, detail, bare


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _error_body(status: int, detail: str, bare: bool = False) -> dict[str, Any]:
    inner = {"status": status, "error_code": status * 100, "title": "Error", "detail": detail}
    return inner if bare else {"error": inner}


def _error(status: int, detail: str) -> Response:
    return Response(json.dumps(_error_body(status, detail)), status=status, content_type="application/json")


def _error_text(error: Exception) -> str:
    nested = getattr(error, "schema_errors", None) or getattr(error, "__cause__", None)
    if isinstance(nested, (list, tuple)):
        return f"{error}: " + "; ".join(str(getattr(e, "message", e))[:300] for e in nested)
    return f"{error}: {nested}"[:600] if nested else str(error)[:600]


def _short(study: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "name", "internal_name", "status", "total_available_places", "places_taken", "reward")
    return {k: study[k] for k in keys if k in study}


def _submission_short(sub: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "participant_id", "status", "started_at", "completed_at", "has_siblings", "study_code")
    return {k: sub[k] for k in keys}


def _submission(sub: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": sub["id"],
        "participant": sub["participant_id"],
        "status": sub["status"],
        "started_at": sub["started_at"],
        "completed_at": sub["completed_at"],
        "study_id": sub["study_id"],
    }


def _group(group: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": group["id"],
        "name": group["name"],
        "workspace_id": group["workspace_id"],
        "participant_count": len(group["members"]),
        "is_deleted": False,
    }


class FakeServer:
    def __init__(self, fake: FakeProlific) -> None:
        self.fake = fake
        self.server = make_server("127.0.0.1", 0, fake, threaded=True)
        fake.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeProlific:
        self.thread.start()
        return self.fake

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
