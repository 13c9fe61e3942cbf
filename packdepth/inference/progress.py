"""Progress of a long run on stderr: a tqdm bar on a terminal, else a short line every N frames
(log files and CI output get no ``\\r`` updates)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

from tqdm import tqdm


class Progress:
    """Count frames; show them on ``stream``.

    Args:
        total: frames expected (``None``: unknown); raise it later with :meth:`add_total`.
        desc: the label.
        every: on a non-terminal, print a line every ``every`` frames (and one at the end).
        stream: where to write (default ``sys.stderr``); ``enabled=False`` writes nothing.
        listener: called with ``(done, total)`` after each :meth:`update` (e.g. a web page's
            progress bar), shown or not.
    """

    def __init__(self, total: int | None, desc: str = "infer", every: int = 100,
                 stream: TextIO | None = None, enabled: bool = True,
                 listener: Callable[[int, int | None], None] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.total, self.desc, self.every = total, desc, max(1, int(every))
        self.done, self.start = 0, time.monotonic()
        self.enabled, self.listener = enabled, listener
        tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.bar = tqdm(total=total, desc=desc, unit="frame", file=self.stream,
                        leave=False, dynamic_ncols=True) if tty else None

    def add_total(self, n: int) -> None:
        """Expect ``n`` more frames (e.g. once a video says how long it is)."""
        if self.total is not None:
            self.total += n
        if self.bar is not None:
            self.bar.total = self.total
            self.bar.refresh()

    def update(self, n: int = 1) -> None:
        """``n`` more frames are done."""
        before, self.done = self.done, self.done + n
        if self.bar is not None:
            self.bar.update(n)
        elif self.enabled and before // self.every != self.done // self.every:
            self._line()
        if self.listener is not None:
            self.listener(self.done, self.total)

    def _line(self) -> None:
        rate = self.done / max(time.monotonic() - self.start, 1e-9)
        total = f"/{self.total}" if self.total is not None else ""
        print(f"{self.desc}: {self.done}{total} frames ({rate:.1f} frames/s)",
              file=self.stream, flush=True)

    def close(self, finished: bool = True) -> None:
        """Remove the bar, or print the final line (if not just printed); a run that stopped on
        an error (``finished=False``) prints none, so that its error is the one line shown."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and finished and self.done % self.every:
            self._line()
