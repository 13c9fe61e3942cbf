"""``packdepth serve``: a local web page to try a model on images, videos and examples.

Examples::

    packdepth serve                                # demo_out/ after `make demo`
    packdepth serve --model runs/x/model --port 8000
    packdepth serve --models-dir weights/          # every model found in weights/
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from packdepth.errors import PackdepthError

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
    p.add_argument("--model", type=Path, default=None,
                   help="model folder/file, run folder, monodepth2 folder or packnet-sfm .ckpt")
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
    models_dir = args.models_dir
    if args.model is None and models_dir is None:
        models_dir = DEFAULT_MODELS_DIR
        if not models_dir.is_dir():
            raise PackdepthError(f"no model: pass --model MODEL or --models-dir DIR ({models_dir}/ "
                                 "does not exist: `make demo` writes demo_out/model)")
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"] if is_loopback(args.host) else None
    app = create_app(args.model, models_dir, device=args.device,
                     max_upload_mb=args.max_upload_mb, allowed_hosts=hosts)
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


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
