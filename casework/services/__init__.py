"""Use cases: the only code that opens a transaction and commits."""

from casework.services.context import Context, system_clock

__all__ = ["Context", "system_clock"]
