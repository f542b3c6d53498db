"""Logging filters named in ``settings.LOGGING``."""

from __future__ import annotations

import logging


class ForbiddenOneLine(logging.Filter):
    """A refused request (403) is routine — a participant's stale link, a role without a permission — so it logs
    one line naming the path, not the traceback Django attaches to ``PermissionDenied``."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.request" and getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
        return True
