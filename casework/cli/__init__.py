"""The command line: click commands that parse, call one service, and print."""

from casework.cli.app import main

__all__ = ["main"]
