"""User-facing errors.

Anything a user can cause (a missing file, a malformed calibration, a bad argument) raises
:class:`PackdepthError` with a one-line message that names the file and what is wrong. The CLI
prints it as ``packdepth: error: <message>`` and exits with status 2, without a traceback.
"""

from __future__ import annotations


class PackdepthError(Exception):
    """An error caused by the user's input; its message is a single line meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
