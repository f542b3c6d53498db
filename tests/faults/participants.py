"""Participants autosaving through a fault: what the server acknowledged, checked against the database afterwards.

Each simulated participant (``perf.bench_annotation.ParticipantSession`` over ``perf.http_client``, as the benchmark
drives them) enters the seeded study, then saves its questions round and round, every save a new explanation, with
a short pause between them. A save is acknowledged when the server answered 200 with "Saved." (what the participant
sees); anything else (an error page, a refusal, a refused or timed-out connection) is not, and the participant goes
on. The driver runs in a thread of its own with
its own event loop, so the test breaks the services meanwhile.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field

from perf.bench_annotation import ParticipantSession
from perf.http_client import HttpClient


@dataclass
class Save:
    pid: str
    position: int
    choice: str  # the letter sent
    reasoning: str
    sent_at: float  # time.monotonic()
    acknowledged: bool = False
    status: int | str = ""


@dataclass
class Autosaves:
    base: str
    study: str
    pids: list[str]
    questions: int
    pause: tuple[float, float] = (0.2, 0.5)  # under the 240 saves a minute a participant may make
    saves: list[Save] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)
        self._entered = threading.Event()
        self._failed: BaseException | None = None

    async def _enter(self, client: HttpClient, pid: str) -> ParticipantSession:
        session = ParticipantSession(client)
        params = {"PROLIFIC_PID": pid, "STUDY_ID": "faults", "SESSION_ID": f"session-{pid}"}
        entry = await session.request("GET", f"/s/{self.study}/", params=params)
        assert entry.status_code == 302, (entry.status_code, entry.text[:300])
        for position in range(1, self.questions + 1):  # each answer row exists once its page was shown
            page = await session.request("GET", f"/s/{self.study}/q/{position}/")
            assert page.status_code == 200, page.status_code
        return session

    async def _autosave(self, session: ParticipantSession, pid: str) -> None:
        headers = {"HX-Request": "true", "X-CSRFToken": session.cookies["csrftoken"]}
        n = 0
        while not self._stop.is_set():
            n += 1
            position = 1 + n % self.questions
            save = Save(pid, position, "AB"[n % 2], f"{pid} save {n}: they would pick this.", time.monotonic())
            self.saves.append(save)
            data = {"choice": save.choice, "reasoning": save.reasoning}
            try:
                response = await session.request("POST", f"/s/{self.study}/q/{position}/", data=data, headers=headers)
                save.status = response.status_code
                # A refused save is a 200 too, with its reason in the status line: only "Saved." acknowledges.
                saved = b"Saved." in response.body and b"save-status error" not in response.body
                save.acknowledged = response.status_code == 200 and saved
            except (OSError, TimeoutError, ValueError, IndexError) as exc:  # refused, reset, cut short
                save.status = type(exc).__name__
            await asyncio.sleep(random.uniform(*self.pause))

    async def _run(self) -> None:
        client = HttpClient(self.base, timeout=15)
        try:
            sessions = await asyncio.gather(*(self._enter(client, pid) for pid in self.pids))
        except BaseException as exc:
            self._failed = exc
            raise
        finally:
            self._entered.set()
        await asyncio.gather(*(self._autosave(session, pid) for session, pid in zip(sessions, self.pids, strict=True)))

    def __enter__(self) -> Autosaves:
        self._thread.start()
        # Every participant is in and has seen its questions (so each answer row exists) before the faults begin.
        if not self._entered.wait(timeout=180):
            raise AssertionError("the participants did not get in within 180 s")
        if self._failed is not None:
            raise AssertionError(f"a participant could not get in: {self._failed!r}")
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    def acknowledged_after(self, moment: float) -> set[str]:
        """The participants with a save sent after ``moment`` (monotonic) and acknowledged."""
        return {s.pid for s in self.saves if s.acknowledged and s.sent_at > moment}

    def expected(self) -> dict[tuple[str, int], set[tuple[str, str]]]:
        """For each (participant, question) saved, what the database may hold: the last acknowledged save, or a
        save sent after it whose answer never came back (it may have committed); before any acknowledgement, any
        save sent (or none: the answer as first shown)."""
        by_key: dict[tuple[str, int], list[Save]] = {}
        for save in self.saves:
            by_key.setdefault((save.pid, save.position), []).append(save)
        allowed = {}
        for key, saves in by_key.items():
            acked = [i for i, s in enumerate(saves) if s.acknowledged]
            tail = saves[acked[-1] :] if acked else [*saves, None]
            allowed[key] = {(s.choice, s.reasoning) if s else ("", "") for s in tail}
        return allowed
