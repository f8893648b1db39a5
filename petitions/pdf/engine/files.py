"""Write the engine's files (cache entries, finished PDFs) whole or not at all."""
from __future__ import annotations

import os
import threading


def write_atomically(path: str, data: bytes, *, durable: bool = False) -> None:
    """Write a file so that readers never see half of it: a temporary file, then a rename."""
    tmp = f"{path}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(tmp, "wb") as fh:
        fh.write(data)
        if durable:  # a finished PDF must survive a crash right after its row is committed
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)
