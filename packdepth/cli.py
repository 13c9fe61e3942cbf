"""The ``packdepth`` command line.

Each subcommand lives in its own module under :mod:`packdepth.commands` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (called with the parsed
arguments, returning an exit code). Modules are discovered, so adding a command touches no
central list. Building the parser imports no heavy module (torch, numpy): a command module
imports what it needs inside its ``run``, so ``--version`` and ``--help`` answer at once.

What a command prints besides its own output, one line each:

* user errors (:class:`~packdepth.errors.PackdepthError`, missing files) and bad arguments:
  ``packdepth: error: ...``, exit status 2, no traceback;
* Python warnings from any module: ``packdepth: warning: <message>``;
* Ctrl-C: ``packdepth: interrupted``, exit status 130; SIGTERM (and SIGHUP):
  ``packdepth: terminated (SIGTERM)``, 143 (129); cleanup (``finally``) runs for both, and an
  interrupted training says where to resume (:mod:`packdepth.interrupts`).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Iterator, Sequence
from typing import NoReturn

from packdepth import __version__
from packdepth.errors import PackdepthError
from packdepth.interrupts import Terminated, report, termination_raises


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser with errors in packdepth's style: one line
    ``packdepth: error: <message> (see packdepth <command> --help)``, exit status 2.
    Subcommand parsers are of this class too (``add_subparsers`` uses the parent's class)."""

    def error(self, message: str) -> NoReturn:
        message = " ".join(message.split()).removeprefix("argument ")
        self.exit(2, f"packdepth: error: {message} (see {self.prog} --help)\n")

    #: The command parsers by name (set by :func:`build_parser`).
    commands: dict[str, argparse.ArgumentParser]

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but arguments no parser knows are blamed on the command given."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            commands = getattr(self, "commands", {})
            parser = commands.get(getattr(parsed, "command", None), self)
            parser.error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed


def build_parser() -> ArgumentParser:
    """The ``packdepth`` parser with every command of :mod:`packdepth.commands`."""
    parser = ArgumentParser(
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
    parser.commands = subparsers.choices
    return parser


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Within the block every Python warning shown is one line ``packdepth: warning: ...``,
    each distinct line once: which warnings are shown stays as the filters say, but Python's
    "once per place" memory is forgotten whenever any library enters ``catch_warnings`` (torch
    and Lightning do, often), so a data set built twice would warn twice."""
    seen: set[str] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = f"packdepth: warning: {' '.join(str(message).split())}"
        if text not in seen:
            seen.add(text)
            print(text, file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_usage(sys.stderr)
        print("packdepth: error: no command given (see packdepth --help)", file=sys.stderr)
        return 2
    try:
        with termination_raises(), one_line_warnings():
            return int(args.func(args) or 0)
    except PackdepthError as exc:
        print(f"packdepth: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # the system refused a file: one line naming it (not a bug)
        if exc.strerror is None:
            raise
        name = f"{exc.filename}: " if exc.filename is not None else ""
        print(f"packdepth: error: {name}{exc.strerror}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Terminated) as exc:
        line, status = report(exc)
        print(line, file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
