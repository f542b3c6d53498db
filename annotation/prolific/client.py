"""The one client of Prolific's REST API (``PROLIFIC_API_URL``, token in ``PROLIFIC_API_TOKEN``).

Every call is logged (method, path, status, duration; never the token). Calls are retried only where repeating
them cannot do anything twice: GETs, computations (cost, predicted recruitment time), PATCHes that set an absolute
value, and calls Prolific documents as idempotent (submission transitions, bulk approve, adding group members).
Everything else (creating a study, setting up or paying a bonus) is sent once; the caller owns any guard. A timeout
on a call sent once raises ``ProlificError`` with ``uncertain=True``: Prolific may have acted.

Field names, units and status values are Prolific's (../shared/prolific/openapi.yml): ``reward`` in cents,
``estimated_completion_time`` in minutes, submission statuses with spaces (``AWAITING REVIEW``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx
from django.conf import settings

logger = logging.getLogger("annotation.prolific")

TIMEOUT_SECONDS = 20.0
MAX_ATTEMPTS = 3
MAX_RETRY_AFTER_SECONDS = 30.0
BACKOFF_SECONDS = 0.5

_STATUS_MESSAGES = {
    401: "Prolific refused the API token (401): check PROLIFIC_API_TOKEN.",
    403: "Prolific says this token may not do that (403): check the token's workspace and permissions.",
    404: "Prolific does not know this object (404): it may have been deleted on Prolific.",
    429: "Prolific is limiting our requests (429): wait a minute and try again.",
}


class ProlificError(Exception):
    """A call to Prolific failed; ``str()`` is fit to show a coordinator.

    ``transient``: Prolific is down or busy (5xx, 429, no connection) — try again later.
    ``uncertain``: the request may have reached Prolific and acted (a timeout on a call sent once).
    """

    def __init__(
        self, message: str, *, status: int | None = None, transient: bool = False, uncertain: bool = False
    ) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient
        self.uncertain = uncertain


def is_configured() -> bool:
    return bool(settings.PROLIFIC_API_TOKEN)


def _url(path: str) -> str:
    base = settings.PROLIFIC_API_URL or "https://api.prolific.com"
    return f"{base.rstrip('/')}/api/v1/{path.lstrip('/')}"


def _error_detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            detail = inner.get("detail") or inner.get("title") or inner
            return str(detail)[:500]
    return str(body)[:300]


def _retry_delay(response: httpx.Response | None, attempt: int) -> float:
    if response is not None:
        value = response.headers.get("Retry-After", "")
        if value.strip().isdigit():
            return min(float(value), MAX_RETRY_AFTER_SECONDS)
    return BACKOFF_SECONDS * (2**attempt)


def request(
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, str] | None = None,
    retry_safe: bool | None = None,
) -> Any:
    """One API call; returns the decoded JSON body (None for an empty one). ``retry_safe`` defaults to GET only."""
    token = settings.PROLIFIC_API_TOKEN
    if not token:
        raise ProlificError("Prolific is not connected: set PROLIFIC_API_TOKEN.")
    safe = method == "GET" if retry_safe is None else retry_safe
    headers = {"Authorization": f"Token {token}"}
    last: ProlificError | None = None
    delay = 0.0
    for attempt in range(MAX_ATTEMPTS if safe else 1):
        if attempt:
            time.sleep(delay)
        started = time.monotonic()
        response: httpx.Response | None = None
        try:
            response = httpx.request(
                method, _url(path), json=json, params=params, headers=headers, timeout=TIMEOUT_SECONDS
            )
        except httpx.TimeoutException as exc:
            logger.warning("prolific %s %s -> timeout after %.0f ms", method, path, _ms(started))
            last = ProlificError(
                f"Prolific did not answer in time ({type(exc).__name__}).", transient=True, uncertain=not safe
            )
            delay = _retry_delay(None, attempt)
            continue
        except httpx.HTTPError as exc:
            logger.warning("prolific %s %s -> no connection (%s) after %.0f ms", method, path, exc, _ms(started))
            # A connect error means the request never left; anything later might have reached Prolific.
            sent = not isinstance(exc, httpx.ConnectError)
            last = ProlificError(
                f"Prolific is unreachable ({type(exc).__name__}).", transient=True, uncertain=sent and not safe
            )
            delay = _retry_delay(None, attempt)
            continue
        logger.info("prolific %s %s -> %s in %.0f ms", method, path, response.status_code, _ms(started))
        if response.is_success:
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ProlificError(
                    "Prolific answered with something that is not JSON.", status=response.status_code
                ) from None
        status = response.status_code
        if status == 429 or status >= 500:
            message = _STATUS_MESSAGES.get(status) or f"Prolific is having trouble ({status}); try again later."
            last = ProlificError(message, status=status, transient=True)
            delay = _retry_delay(response, attempt)
            continue
        message = _STATUS_MESSAGES.get(status) or f"Prolific refused the request ({status}): {_error_detail(response)}"
        raise ProlificError(message, status=status)
    assert last is not None
    raise last


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000


# --- Studies -----------------------------------------------------------------------------------------------------


def study_create(*, body: dict[str, Any]) -> dict[str, Any]:
    """POST /studies/ — sent once (the service guards a retry by looking the draft up by ``internal_name``)."""
    return request("POST", "studies/", json=body, retry_safe=False)


def studies_list() -> list[dict[str, Any]]:
    return request("GET", "studies/").get("results", [])


def study_get(*, study_id: str) -> dict[str, Any]:
    return request("GET", f"studies/{study_id}/")


def study_places_set(*, study_id: str, places: int) -> dict[str, Any]:
    """PATCH ``total_available_places`` to an absolute number (repeating it changes nothing)."""
    return request("PATCH", f"studies/{study_id}/", json={"total_available_places": places}, retry_safe=True)


def study_transition(*, study_id: str, action: str) -> dict[str, Any]:
    """POST /studies/{id}/transition/ — sent once; the service re-reads the status when the outcome is unclear."""
    return request("POST", f"studies/{study_id}/transition/", json={"action": action}, retry_safe=False)


def study_cost(*, reward_cents: int, places: int) -> int:
    """Prolific's cost calculator: the total in cents (rewards, fees and VAT) for ``places`` at ``reward_cents``."""
    body = request(
        "POST",
        "study-cost-calculator/",
        json={"reward": reward_cents, "total_available_places": places},
        retry_safe=True,
    )
    return round(float(body["total_cost"]))


def predicted_recruitment_time(
    *,
    reward_cents: int,
    places: int,
    estimated_minutes: int,
    filters: list[dict[str, Any]] | None = None,
    devices: list[str] | None = None,
    workspace: str | None = None,
) -> dict[str, Any]:
    """Prolific's predicted time to fill ``places`` (a single study in the workspace): a dict with
    ``precise_recruitment_time_hours``, ``lower_bound_hours``, ``upper_bound_hours``, ``display_string``."""
    body: dict[str, Any] = {
        "workspace_id": workspace or workspace_id(),
        "study_type": "SINGLE",
        "reward": reward_cents,
        "total_available_places": places,
        "estimated_completion_time": estimated_minutes,
        "filters": filters or [],
    }
    if devices:
        body["device_compatibility"] = devices
    return request("POST", "studies/predicted-recruitment-time/", json=body, retry_safe=True)


def study_submissions(*, study_id: str) -> list[dict[str, Any]]:
    """Every submission of a study (``SubmissionShort``: id, participant_id, status, started_at, …)."""
    return request("GET", f"studies/{study_id}/submissions/").get("results", [])


# --- Submissions -------------------------------------------------------------------------------------------------


def submissions_bulk_approve(*, submission_ids: list[str]) -> None:
    """Approve AWAITING REVIEW submissions. Sent once: the service claims each submission before the call, and the
    next sync shows what a call with a lost answer did."""
    request("POST", "submissions/bulk-approve/", json={"submission_ids": submission_ids}, retry_safe=False)


def submission_reject(*, submission_id: str, message: str, category: str) -> dict[str, Any]:
    body = {"action": "REJECT", "message": message, "rejection_category": category}
    return request("POST", f"submissions/{submission_id}/transition/", json=body, retry_safe=True)


# --- Participant groups ------------------------------------------------------------------------------------------


def workspace_id() -> str:
    """``PROLIFIC_WORKSPACE_ID``, or the first workspace the token sees."""
    if settings.PROLIFIC_WORKSPACE_ID:
        return str(settings.PROLIFIC_WORKSPACE_ID)
    workspaces = request("GET", "workspaces/").get("results", [])
    if not workspaces:
        raise ProlificError("Prolific lists no workspace for this token; set PROLIFIC_WORKSPACE_ID.")
    return str(workspaces[0]["id"])


def participant_group_create(*, workspace_id: str, name: str, description: str = "") -> dict[str, Any]:
    body = {"workspace_id": workspace_id, "name": name, "description": description}
    return request("POST", "participant-groups/", json=body, retry_safe=False)


def participant_group_add(*, group_id: str, participant_ids: list[str]) -> None:
    """Add members (Prolific ignores ones already in the group, so repeating it is safe)."""
    request(
        "POST",
        f"participant-groups/{group_id}/participants/",
        json={"participant_ids": participant_ids},
        retry_safe=True,
    )


# --- Bonuses -----------------------------------------------------------------------------------------------------


def bonus_create(*, study_id: str, csv_bonuses: str) -> dict[str, Any]:
    """Set up a bulk bonus (nothing is paid); ``csv_bonuses`` amounts are in currency units, not cents."""
    return request(
        "POST", "submissions/bonus-payments/", json={"study_id": study_id, "csv_bonuses": csv_bonuses}, retry_safe=False
    )


def bonus_pay(*, bulk_id: str) -> None:
    """Pay a set-up bulk bonus. Never retried: every repeat pays again."""
    request("POST", f"bulk-bonus-payments/{bulk_id}/pay/", retry_safe=False)
