"""A pool of SDK clients, one per concurrent call, and the one TLS context they all share.

One shared client funnels every thread through one HTTP connection pool whose bookkeeping grows with the number of
connections in flight (httpcore scans all of them per request); at 32 concurrent calls that cost more CPU than the
call itself. A client per concurrent call keeps each pool at one connection. Clients are reused, never closed early.

Each SDK client would build its own TLS context, reading and parsing the CA bundle: about 28 ms of CPU a client, so
a stage opening 32 calls at once stalled for most of a second (3-4 % of a PERSONA Bench run). The clients share
one context instead, built the way the SDKs build theirs (their HTTP library's defaults, which honour
SSL_CERT_FILE / SSL_CERT_DIR); a context is safe to share between threads.
"""

from __future__ import annotations

import queue
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Generic, TypeVar

import httpx2

C = TypeVar("C")


class ClientPool(Generic[C]):
    def __init__(self, factory: Callable[[], C]) -> None:
        self._factory = factory
        self._idle: queue.SimpleQueue[C] = queue.SimpleQueue()

    @contextmanager
    def client(self) -> Iterator[C]:
        try:
            client = self._idle.get_nowait()
        except queue.Empty:
            client = self._factory()
        try:
            yield client
        finally:
            self._idle.put(client)


@cache
def shared_ssl_context() -> ssl.SSLContext:
    """The TLS context every SDK client of this process uses (pass it as ``DefaultHttpxClient(verify=...)``)."""
    return httpx2.create_ssl_context()
