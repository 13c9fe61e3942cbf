"""Argument types shared by several subcommands (not a subcommand: the name starts with _)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

from packdepth.config import parse_image_size
from packdepth.errors import PackdepthError


def add_overrides(parser: argparse.ArgumentParser) -> None:
    """``--set KEY=VALUE`` (repeatable) → ``args.overrides``: dotted training-config overrides."""
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set optim.lr=1e-4 --set trainer.max_minutes=10",
    )


#: The forms of MODEL, for the help texts (:func:`packdepth.load`; ``shipped``:
#: :mod:`packdepth.weights`).
MODEL_FORMS = ("model folder/file, run folder, monodepth2 folder, packnet-sfm .ckpt, or "
               "'shipped': the model inside packdepth (a path of that name wins)")


def add_model_argument(parser: argparse.ArgumentParser) -> None:
    """The positional ``MODEL`` → ``args.model`` (a Path): any form :func:`packdepth.load`
    accepts."""
    parser.add_argument("model", type=Path, metavar="MODEL", help=MODEL_FORMS)


def image_size(text: str) -> tuple[int, int]:
    """argparse type: ``HxW`` (e.g. ``192x640``) → ``(H, W)``, both at least 1 pixel.

    Commands with a larger minimum check it in their ``run`` with
    :func:`packdepth.config.check_image_size` (one line, exit status 2), e.g. training's
    ``check_image_size(*args.size, "--size", TRAIN_MIN_SIZE, why=" for training")``.
    """
    try:
        return parse_image_size(text, "size")
    except PackdepthError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("size: ")) from None


def add_camera_height(parser: argparse.ArgumentParser, help: str) -> None:
    """``--camera-height H`` → ``args.camera_height`` (metres, positive, or ``None``)."""
    parser.add_argument("--camera-height", type=positive_metres, default=None, metavar="H",
                        help=help)


def positive_metres(text: str) -> float:
    """argparse type: a positive, finite number of metres."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of metres, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """argparse type of every count option (frames, batch, stride, threads, ...): a whole
    number of at least 1, so that ``--max-frames 0`` or ``--batch -1`` is refused as the command
    line is read (one line, exit status 2) instead of meaning "no limit" or failing later."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, got {text!r}"
                                         ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
