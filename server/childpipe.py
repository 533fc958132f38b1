"""Reading a helper process's answers (one JSON document per line) without waiting past a deadline."""
from __future__ import annotations

import os
import select
import time

_CHUNK = 1024 * 1024


def read_line(stream, received: bytearray, deadline: float, ended: str) -> bytes:
    """The next newline-ended line from `stream` (a child's stdout); `received` keeps what came after it.

    Raises TimeoutError at `deadline` (monotonic clock) and ChildProcessError(`ended`) when the child
    closed its end.
    """
    fd = stream.fileno()
    while b"\n" not in received:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        if select.select([fd], [], [], left)[0]:
            chunk = os.read(fd, _CHUNK)
            if not chunk:
                raise ChildProcessError(ended)
            received += chunk
    line, _, rest = bytes(received).partition(b"\n")
    received[:] = rest
    return line
