"""The command groups of the CLI, one module per group: each parses, calls one service, and prints."""
