"""Exact-k under concurrency: many simultaneous arrivals, each thread on its own database connection."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.urls import reverse

from annotation.models import Participant, Slot, SlotStatus
from annotation.views import participant as participant_views
from tests.annotation.factories import study_make


def _arrive_all(study: object, pids: list[str], *, threads: int = 40) -> list[tuple[str, int, str]]:
    """Fire the entry requests from ``threads`` workers at once (a barrier releases them together).

    Each worker has its own database connection; PostgreSQL's default of 100 connections is why 200 arrivals run
    on 40 workers (as a server's connection pool would) rather than 200 threads.
    """
    threads = min(threads, len(pids))
    barrier = threading.Barrier(threads)
    results: list[tuple[str, int, str]] = []
    lock = threading.Lock()

    def work(batch: list[str]) -> None:
        try:
            barrier.wait(timeout=30)
            for pid in batch:
                response = Client().get(
                    reverse("participant-entry", args=[study.public_id]),
                    {"PROLIFIC_PID": pid, "STUDY_ID": "s", "SESSION_ID": f"x{pid}"},
                )
                with lock:
                    results.append((pid, response.status_code, response.headers.get("Location", "")))
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(pids[i::threads],)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    return results


def _check_exact_k(study: object, results: list[tuple[str, int, str]], *, capacity: int, k: int) -> None:
    assert all(status < 500 for _, status, _ in results), Counter(status for _, status, _ in results)
    taken = Slot.objects.filter(study=study).exclude(status=SlotStatus.FREE)
    assert taken.count() == min(capacity, len({pid for pid, _, _ in results}))
    # No slot is double-filled (the holder column is unique) and no persona goes over k.
    assert taken.values("holder").distinct().count() == taken.count()
    per_persona = taken.values("study_persona").annotate(n=Count("id"))
    assert max(row["n"] for row in per_persona) <= k
    # Every PID maps to one participant; every assigned PID was redirected, the rest got the no-place page.
    assert Participant.objects.filter(study=study).count() == len({pid for pid, _, _ in results})
    holders = set(taken.values_list("holder__prolific_pid", flat=True))
    for pid, status, location in results:
        if pid in holders:
            assert status == 302
            assert "instructions" in location
        else:
            assert status == 200


def _fill(*, personas: int, k: int, pids: list[str]) -> list[tuple[str, int, str]]:
    """Everyone in ``pids`` arrives at once at a study of ``personas`` x ``k`` places; no place is given twice."""
    study = study_make(personas=personas, k=k, n=2, checks=0)
    results = _arrive_all(study, pids)
    assert len(results) == len(pids)
    _check_exact_k(study, results, capacity=personas * k, k=k)
    return results


@pytest.fixture
def _no_rate_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(participant_views, "ENTRY_PER_MINUTE_PER_IP", 10**9)


@pytest.mark.postgres
@pytest.mark.usefixtures("transactional_db", "_no_rate_limit")
def test_200_simultaneous_arrivals_fill_exactly_40_slots_on_postgres() -> None:
    # 180 distinct PIDs, 20 of them arriving twice at the same moment (a second tab, a re-opened link).
    pids = [f"pid{i:03d}" for i in range(180)] + [f"pid{i:03d}" for i in range(20)]
    results = _fill(personas=10, k=4, pids=pids)
    # Same PID → same slot: the two arrivals of a duplicated PID were answered the same way.
    by_pid: dict[str, set[int]] = {}
    for pid, status, _ in results:
        by_pid.setdefault(pid, set()).add(status)
    assert all(len(statuses) == 1 for statuses in by_pid.values())


@pytest.mark.usefixtures("transactional_db", "_no_rate_limit")
def test_simultaneous_arrivals_on_sqlite_never_overfill() -> None:
    _fill(personas=3, k=2, pids=[f"sq{i:02d}" for i in range(16)] + [f"sq{i:02d}" for i in range(4)])


@pytest.mark.usefixtures("transactional_db", "_no_rate_limit")
def test_the_same_pid_returns_to_its_slot_after_the_rush() -> None:
    study = study_make(personas=2, k=2, n=2, checks=0)
    _arrive_all(study, [f"r{i}" for i in range(6)])
    before = dict(Slot.objects.filter(study=study, holder__isnull=False).values_list("holder__prolific_pid", "pk"))
    _arrive_all(study, list(before))
    after = dict(Slot.objects.filter(study=study, holder__isnull=False).values_list("holder__prolific_pid", "pk"))
    assert before == after


@pytest.mark.usefixtures("transactional_db", "_no_rate_limit")
def test_replayed_saves_and_double_submits_create_no_duplicates() -> None:
    from annotation.models import Answer

    study = study_make(personas=1, k=1, n=1, checks=0)
    client = Client()
    client.get(reverse("participant-entry", args=[study.public_id]), {"PROLIFIC_PID": "dup", "SESSION_ID": "s"})
    cookie = client.cookies["sessionid"].value
    url = reverse("participant-question", args=[study.public_id, 1])
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def save() -> None:
        try:
            other = Client()
            other.cookies["sessionid"] = cookie
            barrier.wait(timeout=30)
            response = other.post(url, {"choice": "A", "reasoning": "the same words"}, headers={"HX-Request": "true"})
            statuses.append(response.status_code)
            other.post(reverse("participant-submit", args=[study.public_id]))
        finally:
            connection.close()

    workers = [threading.Thread(target=save) for _ in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert statuses == [200] * 8
    assert Answer.objects.count() == 1
    answer = Answer.objects.get()
    assert answer.revisions == 1  # the first save changed it; the replays changed nothing
    assert Participant.objects.get().status == Participant.Status.SUBMITTED
