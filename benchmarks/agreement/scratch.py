"""Scratch arrays kept between calls, one set per thread.

A fresh array of more than a few hundred kilobytes is a new memory mapping, page-faulted in on first touch and
returned to the system when freed, so every call pays the faults again, a fifth of a large pairwise kappa (figures
in the README's benchmark section). Reused buffers fault once. Buffers above ``KEEP_MAX_BYTES`` are not kept, so a
one-off huge input does not pin its memory.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

KEEP_MAX_BYTES = 64 * 1024 * 1024
_local = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype: DTypeLike) -> NDArray[Any]:
    """An uninitialised array for temporary use under ``name``; the next call with the same name may reuse it.

    Callers must not keep it (or a view of it) beyond their own call, and two live uses need different names.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if nbytes > KEEP_MAX_BYTES:
        return np.empty(shape, dtype=dtype)
    buffers: dict[str, NDArray[np.uint8]] = _local.__dict__.setdefault("buffers", {})
    buffer = buffers.get(name)
    if buffer is None or buffer.nbytes < nbytes:
        buffer = buffers[name] = np.empty(nbytes, dtype=np.uint8)
    return buffer[:nbytes].view(dtype).reshape(shape)
