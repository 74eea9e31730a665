"""Writing one file so that readers see the old one or the new one, never half of it."""
from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import suppress
from pathlib import Path

PRIVATE_MODE = 0o600


def write_private_file(path: Path, data: bytes) -> Path:
    """Write `data` owner-only (0600) to a temporary file beside `path`, then rename it into place.

    Raises OSError; the temporary file is removed on any failure.
    """
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, PRIVATE_MODE)
        os.replace(temp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(temp)
        raise
    return path


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read a block at a time: an input or output file may be gigabytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
