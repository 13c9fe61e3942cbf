"""Run ``packdepth`` in a child process and signal it at a known moment (test helper).

A child started by :func:`start` shares the test's session (``start_new_session=False``) and
starts with SIGINT, SIGTERM and SIGHUP at their defaults, as a terminal's foreground command has
them, even when the test run itself ignores them (a shell's background job ignores SIGINT,
``nohup`` ignores SIGHUP, and a child inherits what is ignored); its stdout and
stderr are pipes, read by :func:`wait_for_line` until a line shows the moment to signal at, and
:func:`interrupt` signals it and collects the rest.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

#: ``python STALLING ARGS...``: ``packdepth ARGS...`` whose ``packdepth.inference.runner._Run.run``
#: (every frame staged, nothing published yet) prints ``STAGED`` to stderr and waits.
STALLING = """
import sys, time
from packdepth.cli import main
from packdepth.inference import runner

real_run = runner._Run.run

def run(self):
    real_run(self)
    print("STAGED", file=sys.stderr, flush=True)
    time.sleep(600)

runner._Run.run = run
sys.exit(main(sys.argv[1:]))
"""


def start(args: list[str], cwd: Path, script: str | None = None) -> subprocess.Popen:
    """``python -m packdepth ARGS`` (or ``python SCRIPT ARGS``) in ``cwd``, one thread; its
    stdout and stderr are binary pipes (read them with :func:`wait_for_line`)."""
    command = [sys.executable, "-m", "packdepth"]
    if script is not None:
        path = cwd / "packdepth_child.py"
        path.write_text(script)
        command = [sys.executable, str(path)]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([*command, *args], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=False,
                            preexec_fn=_default_signals)


def _default_signals() -> None:
    """In the child before exec: SIGINT, SIGTERM and SIGHUP handled by default."""
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, signal.SIG_DFL)


def wait_for_line(proc: subprocess.Popen, text: str, stream: str = "stdout",
                  timeout: float = 60) -> str:
    """What ``proc`` wrote on ``stream`` up to the end of the first line that contains
    ``text``; fails (killing the child) when it ends or ``timeout`` seconds pass first.

    Reads the pipe unbuffered (``os.read``), so that nothing waits in a buffer unseen; what
    follows that line is kept for :func:`interrupt`."""
    fd = getattr(proc, stream).fileno()
    seen = getattr(proc, "seen", {}).get(stream, b"")
    deadline = time.monotonic() + timeout
    while True:
        found = seen.find(text.encode())
        if found >= 0:
            end = seen.find(b"\n", found)
            if end >= 0:
                proc.seen = {**getattr(proc, "seen", {}), stream: seen[end + 1:]}
                return seen[:end + 1].decode()
        ready = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))[0]
        chunk = os.read(fd, 65536) if ready else b""
        if not chunk:
            proc.kill()
            out, err = proc.communicate()
            raise AssertionError(f"no line with {text!r} on {stream} within {timeout} s; got "
                                 f"{seen.decode()!r}, then stdout {out!r}, stderr {err!r}")
        seen += chunk


def interrupt(proc: subprocess.Popen, signum: int, timeout: float = 60) -> tuple[str, str]:
    """Send ``signum``; the rest of stdout and stderr (text) once the child has ended."""
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"still running {timeout} s after {signal.Signals(signum).name}"
                             ) from None
    seen = getattr(proc, "seen", {})
    return (seen.get("stdout", b"") + out).decode(), (seen.get("stderr", b"") + err).decode()
