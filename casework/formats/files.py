"""Writing output files whole or not at all: through a temporary name, then renamed into place."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casework.errors import InvalidInput


def _refuse_special(path: str) -> None:
    """A target that exists must be a regular file: renaming over a device, a FIFO, a folder or a
    symlink would replace it (run as root, an export aimed at /dev/full replaced the device)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise InvalidInput("cannot write {path}: {error}", path=path, error=exc.strerror or str(exc)) from None
    if not stat.S_ISREG(mode):
        raise InvalidInput("cannot write {path}: it exists and is not a regular file", path=path)


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path to write; it takes ``path``'s name only when the block succeeds.

    The temporary file is created with a random name and O_EXCL in the target's folder
    (``tempfile.mkstemp``, mode 0600), so nothing planted under a predictable name is followed.
    A failed write leaves no half file behind, and an unwritable place is one clear error.
    """
    _refuse_special(path)
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, partial = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise InvalidInput("cannot write {path}: {error}", path=path, error=exc.strerror or str(exc)) from None
    os.close(fd)
    try:
        yield partial
        with open(partial, "rb") as written:  # the data on disk before the name points at it
            os.fsync(written.fileno())
        _refuse_special(path)  # something may have been put there while the file was written
        os.replace(partial, path)
    except OSError as exc:
        raise InvalidInput("cannot write {path}: {error}", path=path, error=exc.strerror or str(exc)) from None
    finally:
        if os.path.lexists(partial):
            os.unlink(partial)


def write_bytes(path: str, data: bytes) -> None:
    with atomic_path(path) as partial:
        Path(partial).write_bytes(data)
