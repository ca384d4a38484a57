"""The audit trail's use cases: append to a school's chain, verify it, export it, checkpoint it."""
