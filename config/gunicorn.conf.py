"""gunicorn settings for production (``gunicorn config.wsgi -c config/gunicorn.conf.py``).

``preload_app``: the master imports the app once, before forking, so a worker respawned after a crash or
``max_requests`` serves at once instead of spending seconds importing Django, pandas and matplotlib while its
first requests wait. Nothing opens a database or Redis connection at import time, so no socket is shared across
the fork. ``when_ready`` also loads the URLconf (which imports every view module) in the master.

A new release goes live with ``bin/web-upgrade`` (README, "Operating it"), not SIGHUP: with ``preload_app`` a SIGHUP
forks the new workers from the master, which still holds the old code. The workers and threads come from the same
variables the connection-budget check (core.W001) counts.
"""

from __future__ import annotations

from config.env import env_str
from config.settings import DATA_DIR, GUNICORN_THREADS, WEB_CONCURRENCY

preload_app = True
workers = WEB_CONCURRENCY
threads = GUNICORN_THREADS
# bin/web-upgrade finds the master here; during an upgrade the new master writes "<pidfile>.2" until promoted.
pidfile = env_str("GUNICORN_PIDFILE", str(DATA_DIR / "gunicorn.pid"))
# Long work runs as jobs; a request that needs more than this is a bug, not a slow upload.
timeout = 30
graceful_timeout = 30


def when_ready(server: object) -> None:
    from django.urls import get_resolver

    get_resolver().check()  # imports every view module
