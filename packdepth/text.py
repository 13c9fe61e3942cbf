"""Words for the lines the command line prints."""

from __future__ import annotations


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``count`` and ``noun``, plural unless the count is one: ``plural(1, "frame")`` →
    ``"1 frame"``, ``plural(3, "frame")`` → ``"3 frames"``, ``plural(2, "process",
    "processes")`` → ``"2 processes"``."""
    return f"{count} {noun if count == 1 else plural_form or noun + 's'}"
