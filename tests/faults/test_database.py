"""PostgreSQL faults under participants' autosaves: nothing acknowledged is lost, nothing is saved twice."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks.judging.models import letter_for_choice
from perf.bench_annotation import ParticipantSession, serve
from perf.http_client import HttpClient
from tests.faults.conftest import QUESTIONS, App, Web, Worker, wait_for
from tests.faults.participants import Autosaves
from tests.faults.services import PostgresCluster
from tests.faults.test_worker import jobs_start, journal

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600)]  # the first scenario builds the services too

OUTAGE_SECONDS = 10


def stored_answers(app: App, pids: list[str]) -> dict[tuple[str, int], list[tuple[str, str]]]:
    """Each (participant, question position) → the rows stored for it (one, unless something saved twice)."""
    rows = app.query(
        """SELECT p.prolific_pid, q.position, a.choice, a.order_shown, a.reasoning
           FROM annotation_answer a JOIN annotation_participant p ON p.id = a.participant_id
           JOIN annotation_question q ON q.id = a.question_id WHERE p.prolific_pid = ANY(%s)""",
        (pids,),
    )
    stored: dict[tuple[str, int], list[tuple[str, str]]] = {}
    for pid, position, choice, order, reasoning in rows:
        stored.setdefault((pid, position), []).append((letter_for_choice(choice=choice, order=order), reasoning))
    return stored


def assert_nothing_lost_or_doubled(app: App, saves: Autosaves) -> None:
    stored = stored_answers(app, saves.pids)
    participants = app.query(
        "SELECT prolific_pid, count(*) FROM annotation_participant WHERE prolific_pid = ANY(%s) GROUP BY 1",
        (saves.pids,),
    )
    assert sorted(participants) == [(pid, 1) for pid in sorted(saves.pids)]
    assert set(stored) == {(pid, q) for pid in saves.pids for q in range(1, QUESTIONS + 1)}
    assert all(len(rows) == 1 for rows in stored.values()), "an answer stored twice"
    expected = saves.expected()
    lost = {key: (stored[key][0], allowed) for key, allowed in expected.items() if stored[key][0] not in allowed}
    assert not lost, f"{len(lost)} acknowledged saves not in the database, e.g. {next(iter(lost.items()))}"


def test_database_restart_and_outage_under_autosaves(app: App, web: Web, pg: PostgresCluster, worker: Worker) -> None:
    """A restart, then a 10 s outage, while 12 participants autosave: every acknowledged save is in the database
    afterwards, and the app (web and worker) recovers by itself: saves succeed again and a job started after the
    outage runs, with neither restarted."""
    assert app.query("SELECT 1") == [(1,)]  # the database answers before we break it
    pids = [f"dbfault{i:02d}" for i in range(12)]
    with Autosaves(web.base, app.study, pids, QUESTIONS) as saves:
        time.sleep(3)
        pg.restart(mode="fast")
        restarted = time.monotonic()
        wait_for(lambda: set(pids) <= saves.acknowledged_after(restarted), timeout=90, what="saves after the restart")
        pg.stop(mode="fast")
        time.sleep(OUTAGE_SECONDS)
        pg.start()
        back = time.monotonic()
        wait_for(lambda: set(pids) <= saves.acknowledged_after(back), timeout=90, what="saves after the outage")
        time.sleep(2)
    refused = [s for s in saves.saves if not s.acknowledged]
    assert refused, "the outage refused no save: the scenario did not break anything"
    assert len(saves.saves) - len(refused) > 10 * len(pids)
    assert_nothing_lost_or_doubled(app, saves)
    assert web.server.poll() is None, "gunicorn died"
    assert worker.alive(), "the Celery worker died"
    # The worker reconnected by itself: a job started now runs (once).
    [job_id] = jobs_start(app, 1, steps=1)
    wait_for(
        lambda: app.query("SELECT status FROM core_job WHERE id = %s", (job_id,)) == [("succeeded",)],
        timeout=60,
        what="a job after the outage",
    )
    assert journal(app).get(job_id) == ["start", "done"]


async def _save_all_at_once(base: str, study: str, pids: list[str]) -> list[int]:
    client = HttpClient(base, timeout=60)

    async def enter(pid: str) -> ParticipantSession:
        session = ParticipantSession(client)
        params = {"PROLIFIC_PID": pid, "STUDY_ID": "faults", "SESSION_ID": f"session-{pid}"}
        await session.request("GET", f"/s/{study}/", params=params)
        await session.request("GET", f"/s/{study}/q/1/")
        return session

    sessions = [await enter(pid) for pid in pids]  # one by one: the limit is for the saves to meet

    async def save(session: ParticipantSession, n: int) -> int:
        headers = {"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"]}
        data = {"choice": "A", "reasoning": f"All at once, save {n}."}
        response = await session.request("POST", f"/s/{study}/q/1/", data=data, headers=headers)
        return response.status_code

    return await asyncio.gather(*(save(s, n) for n in range(3) for s in sessions))


def test_connections_above_the_limit(app: App, pg: PostgresCluster) -> None:
    """More web threads than the database allows connections (max_connections 10; gunicorn 2 workers x 8
    threads, 16 concurrent saves and more): every save succeeds, waiting for a connection rather than failing."""
    pg.restart(max_connections=10)
    pids = [f"connlimit{i:02d}" for i in range(16)]
    extra = ("--worker-class", "gthread", "--threads", "8")
    # The saves run in a thread of their own: Playwright's sync API (the browser tests, earlier in the same session)
    # leaves an event loop running in the main thread, where asyncio.run refuses to start.
    with serve(app.env, workers=2, folder=app.folder, extra=extra) as (base, _server), ThreadPoolExecutor(1) as pool:
        statuses = pool.submit(asyncio.run, _save_all_at_once(base, app.study, pids)).result()
    assert statuses == [200] * len(statuses)
