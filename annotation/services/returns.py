"""Returned and timed-out submissions reported by Prolific's submissions export (the webhook and the minute's
sync go through ``annotation.prolific.submissions.submission_status_apply``), and the webhook's signature check."""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import time
from dataclasses import dataclass, field

from annotation.models import Participant, Study
from annotation.services.slots import participant_release
from core.text import text_problem

MAX_EXPORT_BYTES = 10 * 1024 * 1024
WEBHOOK_MAX_AGE_SECONDS = 300
# Prolific's submission statuses that end a place without a completion.
RELEASE_STATUSES = {"RETURNED": Participant.Status.RETURNED, "TIMED-OUT": Participant.Status.TIMED_OUT}
RELEASE_STATUSES["TIMED_OUT"] = Participant.Status.TIMED_OUT


class ReturnsError(Exception):
    """The export or webhook call cannot be used; the message says why."""


@dataclass
class ReturnsResult:
    released: list[str] = field(default_factory=list)  # participant PIDs whose slot went back to the pool
    already: int = 0  # listed as returned but already released or submitted here
    unknown: int = 0  # PIDs not in this study


def _column(header: list[str], *names: str) -> int:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    raise ReturnsError(f"the export has no {names[0]!r} column")


def returns_import(*, study: Study, data: bytes) -> ReturnsResult:
    """Release the places of participants the export lists as RETURNED or TIMED-OUT."""
    if len(data) > MAX_EXPORT_BYTES:
        raise ReturnsError("the file is larger than 10 MB")
    try:
        text = data.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ReturnsError(f"the file is not a CSV export ({exc})") from None
    problem = text_problem(text)
    if problem:
        line = text[: text.find("\x00")].count("\n") + 1 if "\x00" in text else 1
        raise ReturnsError(f"line {line} {problem}; nothing was released")
    if not rows:
        raise ReturnsError("the file is empty")
    pid_col = _column(rows[0], "participant id", "participant_id", "prolific_pid")
    status_col = _column(rows[0], "status")
    result = ReturnsResult()
    for row in rows[1:]:
        if len(row) <= max(pid_col, status_col):
            continue
        status = RELEASE_STATUSES.get(row[status_col].strip().upper())
        if status is None:
            continue
        _release_one(study=study, pid=row[pid_col].strip(), status=status, result=result)
    return result


def _release_one(*, study: Study, pid: str, status: str, result: ReturnsResult) -> None:
    participant = Participant.objects.filter(study=study, prolific_pid=pid, is_preview=False).first()
    if participant is None:
        result.unknown += 1
    elif participant_release(participant=participant, status=status):
        result.released.append(pid)
    else:
        result.already += 1


def webhook_signature_valid(*, secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Prolific's scheme: base64(HMAC-SHA256(secret, timestamp + body)); stale timestamps are refused."""
    if not (secret and timestamp and signature) or not timestamp.isdigit():
        return False
    if abs(time.time() - int(timestamp)) > WEBHOOK_MAX_AGE_SECONDS:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), signature.strip())
