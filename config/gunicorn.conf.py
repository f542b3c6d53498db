"""gunicorn settings for production (``gunicorn config.wsgi -c config/gunicorn.conf.py``).

``preload_app``: the master imports the app once, before forking, so a worker respawned after a crash or
``max_requests`` serves at once instead of spending seconds importing Django, pandas and matplotlib while its
first requests wait. Nothing opens a database or Redis connection at import time, so no socket is shared across
the fork. ``when_ready`` also loads the URLconf (which imports every view module) in the master.
"""

from __future__ import annotations

preload_app = True
# Long work runs as jobs; a request that needs more than this is a bug, not a slow upload.
timeout = 30
graceful_timeout = 30


def when_ready(server: object) -> None:
    from django.urls import get_resolver

    get_resolver().check()  # imports every view module
