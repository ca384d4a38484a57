"""Writing output files whole or not at all: through a temporary name, then renamed into place."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from casework.errors import InvalidInput


@contextmanager
def atomic_path(path: str) -> Iterator[str]:
    """Yield a temporary path to write; it takes ``path``'s name only when the block succeeds.

    A failed write leaves no half file behind, and an unwritable place is one clear error.
    """
    partial = f"{path}.part"
    try:
        yield partial
        os.replace(partial, path)
    except OSError as exc:
        raise InvalidInput("cannot write {path}: {error}", path=path, error=exc.strerror or str(exc)) from None
    finally:
        if os.path.exists(partial):
            os.unlink(partial)


def write_bytes(path: str, data: bytes) -> None:
    with atomic_path(path) as partial:
        Path(partial).write_bytes(data)
