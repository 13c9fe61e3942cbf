"""Fixtures for the web page's tests: tiny random-weight model folders, the app on them, and a
real server (uvicorn) on a free loopback port."""

from __future__ import annotations

import argparse
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.inference.conftest import make_video, save_model_dir  # noqa: F401 (make_video: a fixture)

pytest.importorskip("fastapi", reason="the web page needs fastapi (pip install 'packdepth[web]')")
pytest.importorskip("uvicorn", reason="the web page needs uvicorn (pip install 'packdepth[web]')")


@pytest.fixture(scope="session")
def web_models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A models folder: ``a/model`` (relative depth), ``b`` (labelled metric), and a hidden
    ``.c`` that must not be offered; treat as read-only."""
    root = tmp_path_factory.mktemp("models")
    save_model_dir(root / "a" / "model", pose=False)
    save_model_dir(root / "b", info={"metric": True}, pose=False)
    save_model_dir(root / ".c", pose=False)
    return root


@pytest.fixture
def client(web_models: Path) -> Iterator:
    """A TestClient of the app on ``web_models`` with a 1 MB upload limit (its lifespan runs:
    the temporary folder goes at the end)."""
    from fastapi.testclient import TestClient

    from packdepth.web.app import create_app

    with TestClient(create_app(models_dir=web_models, device="cpu", max_upload_mb=1)) as c:
        yield c


def serve_args(*argv: str) -> argparse.Namespace:
    """``packdepth serve ARGV`` parsed by the real command line."""
    from packdepth.cli import build_parser

    return build_parser().parse_args(["serve", *argv])


@contextmanager
def running_server(args: argparse.Namespace, timeout: float = 60.0) -> Iterator:
    """``packdepth serve``'s :class:`uvicorn.Server` running in a thread (``--port 0``: a free
    port); stopped (and checked to stop) on exit."""
    from packdepth.commands.serve import build_server

    server = build_server(args)
    thread = threading.Thread(target=server.run, name="packdepth-serve", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("packdepth serve did not start")
        time.sleep(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout)
        assert not thread.is_alive(), "the server did not stop"


def server_address(server) -> tuple[str, int]:
    """The ``(host, port)`` a running server listens on."""
    return server.servers[0].sockets[0].getsockname()[:2]
