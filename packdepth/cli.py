"""The ``packdepth`` command line.

Each subcommand lives in its own module under :mod:`packdepth.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (called with the parsed
arguments, returning an exit code). Modules are discovered, so adding a command touches no
central list. User errors (:class:`~packdepth.errors.PackdepthError`, missing files) print one line
and exit with status 2.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from packdepth import __version__
from packdepth.errors import PackdepthError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="packdepth",
        description="Self-supervised monocular depth and ego-motion from video "
        "(PackNet 3D packing, monodepth2 recipe).",
    )
    parser.add_argument("--version", action="version", version=f"packdepth {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import packdepth.commands as commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"packdepth.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except PackdepthError as exc:
        print(f"packdepth: error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, IsADirectoryError, PermissionError, NotADirectoryError) as exc:
        name = exc.filename if exc.filename is not None else ""
        print(f"packdepth: error: {name}: {exc.strerror}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("packdepth: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
