"""Entities, vocabularies and value objects of the care of left-behind children; pure."""
