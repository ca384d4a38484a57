"""Use cases: the only code that opens a transaction and commits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Context", "system_clock"]

if TYPE_CHECKING:  # the type checker sees plain imports, and any other name stays an error
    from casework.services.context import Context, system_clock
else:

    def __getattr__(name: str) -> Any:
        # Imported when first asked for, not with the package: a worker process that only reads
        # the audit trail (services.audit.workers) then starts without SQLAlchemy and the ORM tables.
        if name in __all__:
            from casework.services import context

            return getattr(context, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
