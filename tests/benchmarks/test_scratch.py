"""Scratch buffers: reused between calls under one name, separate per thread, never kept when huge."""

from __future__ import annotations

import threading

import numpy as np

from benchmarks.agreement import scratch as scratch_module
from benchmarks.agreement.scratch import scratch


def test_the_same_name_reuses_memory_and_fits_any_smaller_shape() -> None:
    first = scratch("test.buffer", (4, 100), np.uint64)
    first[:] = 7
    second = scratch("test.buffer", (3, 10), np.uint8)
    assert second.shape == (3, 10)
    assert second.dtype == np.uint8
    assert np.shares_memory(first, second)
    other = scratch("test.other", (4, 100), np.uint64)
    assert not np.shares_memory(first, other)


def test_threads_get_their_own_buffers() -> None:
    mine = scratch("test.thread", (1000,), np.int64)
    theirs: list[np.ndarray] = []
    thread = threading.Thread(target=lambda: theirs.append(scratch("test.thread", (1000,), np.int64)))
    thread.start()
    thread.join()
    assert not np.shares_memory(mine, theirs[0])


def test_huge_buffers_are_not_kept(monkeypatch: object) -> None:
    monkeypatch.setattr(scratch_module, "KEEP_MAX_BYTES", 1024)  # type: ignore[attr-defined]
    big = scratch("test.huge", (512,), np.uint64)
    again = scratch("test.huge", (512,), np.uint64)
    assert not np.shares_memory(big, again)
