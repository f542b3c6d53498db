"""Text that reaches the database from outside (uploads, participant answers) is checked here, at the boundary.

PostgreSQL refuses a NUL character in text and in jsonb (``\\u0000``), and psycopg cannot encode a lone UTF-16
surrogate (``\\ud800`` from a JSON escape): either would fail the write with a 500 half-way through a request.
"""

from __future__ import annotations

NUL = "\x00"


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, in words fit for the user; None when it can."""
    if NUL in value:
        return "contains a NUL character (\\0), which text cannot hold"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired UTF-16 surrogate (not valid Unicode)"
    return None
