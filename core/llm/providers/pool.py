"""A pool of SDK clients, one per concurrent call.

One shared client funnels every thread through one HTTP connection pool whose bookkeeping grows with the number of
connections in flight (httpcore scans all of them per request); at 32 concurrent calls that cost more CPU than the
call itself. A client per concurrent call keeps each pool at one connection. Clients are reused, never closed early.
"""

from __future__ import annotations

import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

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
