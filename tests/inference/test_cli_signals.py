"""``packdepth infer`` stopped by Ctrl-C, SIGTERM or SIGHUP: one line, the shell's exit status
(130, 143, 129), and the staging folder removed: nothing half-written is left."""

from __future__ import annotations

import signal

import pytest

from tests.inference.conftest import save_image
from tests.signals import STALLING, interrupt, start, wait_for_line


@pytest.mark.parametrize(("signum", "status", "line"), [
    (signal.SIGINT, 130, "packdepth: interrupted"),
    (signal.SIGTERM, 143, "packdepth: terminated (SIGTERM)"),
    (signal.SIGHUP, 129, "packdepth: terminated (SIGHUP)"),
])
def test_a_signal_while_outputs_are_staged_leaves_nothing(model_dir, tmp_path, signum, status,
                                                          line):
    images = [str(save_image(tmp_path / f"{i}.png", 64, 96, i)) for i in range(3)]
    out = tmp_path / "out"
    proc = start(["infer", str(model_dir), *images, "--out", str(out)], tmp_path, STALLING)
    wait_for_line(proc, "STAGED", "stderr")
    assert any(out.glob(".infer-*/*.npz"))  # the frames are staged: the moment to signal
    _, err = interrupt(proc, signum)
    assert proc.returncode == status, err
    assert err.splitlines() == [line]
    assert not out.exists()  # the staging folder and the output folder it created are gone
