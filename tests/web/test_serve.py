"""``packdepth serve``: loopback by default, a real server that answers and stops cleanly, and
one-line errors without a model, SIGHUP and SIGTERM ending it in one line."""

from __future__ import annotations

import json
import signal
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from packdepth.cli import main
from packdepth.commands.serve import build_server, is_loopback
from tests.signals import interrupt, start, wait_for_line
from tests.web.conftest import running_server, serve_args, server_address


def test_default_host_is_loopback(web_models: Path) -> None:
    args = serve_args("--models-dir", str(web_models))
    assert (args.host, args.port) == ("127.0.0.1", 8765)
    assert build_server(args).config.host == "127.0.0.1"
    wide = build_server(serve_args("--models-dir", str(web_models), "--host", "0.0.0.0"))
    assert wide.config.host == "0.0.0.0"
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")


def test_server_answers_on_loopback_and_stops_cleanly(web_models: Path) -> None:
    with running_server(serve_args("--models-dir", str(web_models), "--port", "0",
                                   "--device", "cpu")) as server:
        host, port = server_address(server)
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=30) as r:
            assert json.load(r)["models"] == ["a/model", "b"]
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/examples/dusk.jpg",
                                         method="POST")
        with urllib.request.urlopen(request, timeout=120) as r:
            assert json.load(r)["state"] == "done"
        other = urllib.request.Request(f"http://127.0.0.1:{port}/api/info",
                                       headers={"Host": "attacker.example"})
        with pytest.raises(urllib.error.HTTPError, match="400"):
            urllib.request.urlopen(other, timeout=30)  # DNS rebinding: another site's name
        store = server.config.app.state.store
        assert any(store.root.rglob("depth.npz"))
    assert not store.root.exists()  # the temporary folder went with the server
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass


def test_no_model_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["serve", "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"packdepth: error: no model found in {tmp_path}: pass --model MODEL (e.g. "
                   "demo_out/model after `make demo`) or --models-dir DIR")
    assert main(["serve", "--model", str(tmp_path / "nope")]) == 2
    assert capsys.readouterr().err.strip().endswith("nope: no such model folder or file (--model)")


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_termination_signal_stops_the_server_in_one_line(
        signum: int, web_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real ``packdepth serve`` child: SIGHUP ends it as SIGTERM does (uvicorn's graceful
    shutdown: the temporary folder removed), one line, exit 128 + the signal, no traceback."""
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))  # where the server's folder goes
    (tmp_path / "tmp").mkdir()
    with socket.socket() as s:  # a free port, known to the test
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = start(["serve", "--models-dir", str(web_models), "--port", str(port), "--device",
                  "cpu"], cwd=tmp_path)
    wait_for_line(proc, "packdepth serve: http://")
    deadline = time.monotonic() + 60
    while True:  # serving: uvicorn's event loop runs (a signal before it ends the run anyway)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/info", timeout=30) as r:
                assert json.load(r)["models"] == ["a/model", "b"]
            break
        except urllib.error.URLError:
            assert time.monotonic() < deadline and proc.poll() is None, "not serving"
            time.sleep(0.1)
    assert [p.name[:15] for p in (tmp_path / "tmp").iterdir()] == ["packdepth-serve"]
    out, err = interrupt(proc, signum)
    name = signal.Signals(signum).name
    assert proc.returncode == 128 + signum, (out, err)
    assert "Traceback" not in err and "ERROR" not in err, err
    assert err.strip().splitlines()[-1] == f"packdepth: terminated ({name})", err
    assert list((tmp_path / "tmp").iterdir()) == []
