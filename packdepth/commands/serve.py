"""``packdepth serve``: a local web page to try a model on images, videos and examples.

Examples::

    packdepth serve                                # the shipped model, and demo_out/'s
    packdepth serve --model runs/x/model --port 8000
    packdepth serve --models-dir weights/          # every model found in weights/
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from packdepth.commands._args import MODEL_FORMS
from packdepth.errors import PackdepthError
from packdepth.weights import SHIPPED_MODEL, shipped_model_dir

DEFAULT_MODELS_DIR = Path("demo_out")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve",
        help="a local web page: image or video in, depth, point cloud and obstacle map out",
        description="Serve a web page on this computer: drop an image or a short video (or pick "
        "a bundled example) and see its depth, a 3D point cloud, the obstacle map with an A* "
        "route, and download the results. Needs the web extra: pip install 'packdepth[web]'.",
    )
    p.add_argument("--model", type=Path, default=None, help=f"{MODEL_FORMS} (default, "
                   f"without --model and --models-dir: {SHIPPED_MODEL}, and the models in "
                   f"{DEFAULT_MODELS_DIR}/ when it exists)")
    p.add_argument("--models-dir", type=Path, default=None,
                   help=f"offer every model found in this folder (default: {DEFAULT_MODELS_DIR}/ "
                   "when no --model is given)")
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to listen on (default {DEFAULT_HOST}: this computer only)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    p.add_argument("--device", default="auto", help="auto (CUDA if available), cpu or cuda")
    p.add_argument("--max-upload-mb", type=float, default=50.0,
                   help="largest upload in MB (default 50)")
    p.set_defaults(func=run)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is ``localhost`` or a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_server(args: argparse.Namespace):
    """The :class:`uvicorn.Server` of ``args`` (the app built, not yet listening).

    Raises:
        PackdepthError: the web extra is missing, no model, bad options.
    """
    try:
        import uvicorn

        from packdepth.web.app import create_app
    except ImportError as exc:
        raise PackdepthError(f"packdepth serve needs the web extra ({exc.name} is missing): "
                             "pip install 'packdepth[web]'") from None
    if not 0 <= args.port <= 65535:
        raise PackdepthError(f"--port: must be 0-65535, got {args.port}")
    if not args.max_upload_mb > 0:
        raise PackdepthError(f"--max-upload-mb: must be positive, got {args.max_upload_mb}")
    model, models_dir = default_models(args.model, args.models_dir)
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"] if is_loopback(args.host) else None
    app = create_app(model, models_dir, device=args.device,
                     max_upload_mb=args.max_upload_mb, allowed_hosts=hosts)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    hangup_shuts_down(server)
    return server


def default_models(model: Path | None, models_dir: Path | None
                   ) -> tuple[Path | str | None, Path | None]:
    """``(model, models_dir)`` to offer: as given, or without either the shipped model
    (:data:`~packdepth.weights.SHIPPED_MODEL`, first: the default) and the models in
    :data:`DEFAULT_MODELS_DIR` where each exists.

    Raises:
        PackdepthError: neither given, and neither default exists.
    """
    if model is not None or models_dir is not None:
        return model, models_dir
    try:
        shipped: str | None = SHIPPED_MODEL if shipped_model_dir() else None
    except PackdepthError:
        shipped = None
    found = DEFAULT_MODELS_DIR if DEFAULT_MODELS_DIR.is_dir() else None
    if shipped is None and found is None:
        raise PackdepthError(f"no model: pass --model MODEL or --models-dir DIR (this install has "
                             f"no shipped model, and {DEFAULT_MODELS_DIR}/ does not exist: `make "
                             "demo` writes demo_out/model)")
    return shipped, found


def hangup_shuts_down(server) -> None:
    """Make SIGHUP end ``server`` (a :class:`uvicorn.Server`) as uvicorn ends it on SIGTERM.

    uvicorn takes over SIGINT and SIGTERM while serving: it shuts down gracefully (requests
    finished, the app's lifespan ended: its temporary folder removed) and then raises the signal
    again with the handler it found, :func:`packdepth.interrupts.termination_raises`'s under the
    command line, which reports ``packdepth: terminated (SIGTERM)``. SIGHUP, which uvicorn leaves
    alone, would raise :class:`~packdepth.interrupts.Terminated` inside its event loop (a
    traceback logged per task); here it takes the same path as SIGTERM. An ignored SIGHUP
    (``nohup``) stays ignored; outside the main thread nothing changes (no signals there).
    """
    capture = server.capture_signals
    hangup = getattr(signal, "SIGHUP", None)

    @contextlib.contextmanager
    def capture_signals() -> Iterator[None]:
        with capture():
            previous = signal.getsignal(hangup) if hangup is not None else None
            take = (previous not in (None, signal.SIG_IGN)
                    and threading.current_thread() is threading.main_thread())
            if take:
                signal.signal(hangup, server.handle_exit)
            try:
                yield
            finally:
                if take:  # back before uvicorn raises the signals it caught again
                    signal.signal(hangup, previous)

    server.capture_signals = capture_signals


def run(args: argparse.Namespace) -> int:
    server = build_server(args)
    if not is_loopback(args.host):
        print(f"packdepth: warning: listening on {args.host}: other computers can reach this "
              "page and upload files to it", file=sys.stderr)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"packdepth serve: http://{host}:{args.port}/  models: "
          f"{', '.join(server.config.app.state.shelf.names())}  (Ctrl+C stops it)", flush=True)
    server.run()
    return 0
