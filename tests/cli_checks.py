"""What every command promises on bad input, checked one way for all tests: one line on stderr,
``packdepth: error: ...``, naming what it is about, and no traceback."""

from __future__ import annotations

import pytest


def one_line_error(capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """The captured stderr, asserted to be one ``packdepth: error:`` line holding ``fragments``."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("packdepth: error: "), err
    assert "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, err
    return err
