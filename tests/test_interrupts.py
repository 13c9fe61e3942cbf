"""Interruptions: SIGTERM/SIGHUP raise like Ctrl-C so cleanup runs; one line and the shell's
exit status for each; Lightning's own ends of a fit are read back as the interruption."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from packdepth.interrupts import (
    Terminated,
    from_lightning,
    report,
    termination_raises,
    with_hint,
)


def test_sigterm_raises_inside_the_block_and_cleanup_runs():
    cleaned = []
    with pytest.raises(Terminated) as exc, termination_raises():
        try:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler runs as os.kill returns
            raise AssertionError("not raised")
        finally:
            cleaned.append(True)
    assert cleaned == [True] and exc.value.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored


def test_an_ignored_signal_stays_ignored():
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as under nohup
    try:
        with termination_raises():
            assert signal.getsignal(signal.SIGHUP) == signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_report_lines_and_exit_statuses():
    assert report(KeyboardInterrupt()) == ("packdepth: interrupted", 130)
    assert report(Terminated(signal.SIGTERM)) == ("packdepth: terminated (SIGTERM)", 143)
    assert report(Terminated(signal.SIGHUP)) == ("packdepth: terminated (SIGHUP)", 129)
    hinted = with_hint(KeyboardInterrupt(), "resume with X")
    assert report(hinted) == ("packdepth: interrupted: resume with X", 130)


def test_lightnings_exits_are_read_back_as_interruptions():
    from lightning.pytorch.utilities.exceptions import SIGTERMException

    try:  # what Lightning does on Ctrl-C: sys.exit(1) while handling the KeyboardInterrupt
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            sys.exit(1)
    except SystemExit as exc:
        assert isinstance(from_lightning(exc), KeyboardInterrupt)
    assert isinstance(from_lightning(SIGTERMException()), Terminated)
    assert from_lightning(SystemExit(0)) is None


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_ends_on_sigterm_as_without_the_handler():
    """A data-loading worker forked inside the block dies of SIGTERM; it does not raise."""
    ready_r, ready_w = os.pipe()
    with termination_raises():
        pid = os.fork()
        if pid == 0:  # the child: say it is ready (a signal during fork is lost), then wait
            try:
                os.write(ready_w, b"1")
                signal.pause()
            finally:
                os._exit(3)  # reached only if the handler raised or returned
        os.close(ready_w)
        assert os.read(ready_r, 1) == b"1"
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while (status := os.waitpid(pid, os.WNOHANG)[1]) == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        if status == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    os.close(ready_r)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGTERM, status
