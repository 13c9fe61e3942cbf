"""Interruptions: Ctrl-C (SIGINT) and termination (SIGTERM, SIGHUP) end a command the same way.

Python turns SIGINT into :class:`KeyboardInterrupt`, so ``finally`` blocks and context managers
run (staging folders removed, temporary files deleted). Termination signals kill the process
outright by default; :func:`termination_raises` makes them raise :class:`Terminated` instead, so
that the same cleanup runs. The command line (:func:`packdepth.cli.main`) installs it and reports
either in one line (:func:`report`): ``packdepth: interrupted`` with exit status 130,
``packdepth: terminated (SIGTERM)`` with 143 (128 + the signal number, as a shell reports a
killed process).

Lightning ends a fit on these signals its own way: it catches :class:`KeyboardInterrupt` and
calls ``sys.exit(1)``, and its SIGTERM handler stops the loop with a ``SystemExit`` subclass.
:func:`from_lightning` turns those back into the interruption they stand for, and a run can
attach a hint (:func:`with_hint`, e.g. the checkpoint to resume from) that the report prints.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator

#: The signals :func:`termination_raises` turns into :class:`Terminated`.
TERMINATION_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP")
                            if hasattr(signal, name))


class Terminated(BaseException):
    """The process received a termination signal (SIGTERM, SIGHUP).

    A :class:`BaseException` like :class:`KeyboardInterrupt` (``except Exception`` does not
    catch it), but not a subclass of it: Lightning would turn it into ``sys.exit(1)``.
    """

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        self.signum = int(signum)
        super().__init__(signal.Signals(self.signum).name)


_INSTALLED_BY: list[int] = []  # the process that installed the handler


def _raise_terminated(signum: int, frame: object) -> None:
    """The handler: raise :class:`Terminated` in the process that installed it; in a process
    forked from it (a data-loading worker, which a signal to the process group also reaches),
    end of the signal as that process would have without the handler, without a traceback."""
    if _INSTALLED_BY and os.getpid() != _INSTALLED_BY[-1]:  # a forked child (a data worker)
        signal.signal(signum, signal.SIG_DFL)  # ends as it would have without the handler
        os.kill(os.getpid(), signum)
        return
    raise Terminated(signum)


@contextlib.contextmanager
def termination_raises() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` in the main thread.

    Only signals left at their default action are taken over: a signal the caller ignores (e.g.
    SIGHUP under ``nohup``) stays ignored. The previous handlers come back at the end. Outside
    the main thread (where Python cannot set handlers) this does nothing. A process forked
    inside the block (a data-loading worker) that receives the signal ends as without it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in TERMINATION_SIGNALS}
    _INSTALLED_BY.append(os.getpid())
    for signum, handler in previous.items():
        if handler == signal.SIG_DFL:
            signal.signal(signum, _raise_terminated)
    try:
        yield
    finally:
        _INSTALLED_BY.pop()
        for signum, handler in previous.items():
            if handler == signal.SIG_DFL:
                signal.signal(signum, handler)


def from_lightning(exc: SystemExit) -> BaseException | None:
    """The interruption a ``SystemExit`` out of Lightning's ``Trainer.fit`` stands for, or
    ``None`` for another exit: its ``sys.exit(1)`` after a :class:`KeyboardInterrupt` →
    ``KeyboardInterrupt``; its ``SIGTERMException`` (its own SIGTERM handler alone, no
    :func:`termination_raises`) → :class:`Terminated`."""
    if isinstance(exc.__context__, KeyboardInterrupt):
        return KeyboardInterrupt()
    if type(exc).__name__ == "SIGTERMException":
        return Terminated(signal.SIGTERM)
    return None


def with_hint(exc: BaseException, hint: str) -> BaseException:
    """``exc`` (an interruption) with ``hint`` to print after it, e.g. where to resume from."""
    exc.packdepth_hint = hint
    return exc


def report(exc: BaseException) -> tuple[str, int]:
    """The one line to print for an interruption and the exit status: 130 for Ctrl-C, 128 +
    the signal number for :class:`Terminated` (143 for SIGTERM)."""
    if isinstance(exc, Terminated):
        line, status = f"terminated ({signal.Signals(exc.signum).name})", 128 + exc.signum
    else:
        line, status = "interrupted", 130
    hint = getattr(exc, "packdepth_hint", "")
    return f"packdepth: {line}" + (f": {hint}" if hint else ""), status
