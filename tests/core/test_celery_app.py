"""core sends its tasks by name through ``celery.current_app`` (core never imports config): in every thread that is
the project's app, with its broker, not Celery's fallback app."""

from __future__ import annotations

import threading

import pytest
from celery import current_app

from config.celery import app


def test_current_app_is_the_project_s_app_in_every_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[tuple[str, list[int]]] = []
    monkeypatch.setattr(app, "send_task", lambda name, *, args, **_: sent.append((name, args)))
    thread = threading.Thread(target=lambda: current_app.send_task("core.run_job", args=[7]))
    thread.start()
    thread.join()
    current_app.send_task("core.run_job", args=[8])
    assert sent == [("core.run_job", [7]), ("core.run_job", [8])]
