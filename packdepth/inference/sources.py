"""Expand ``packdepth infer`` INPUTs into inputs (:func:`expand_inputs`) and frames
(:func:`iter_frames`), each with the name its outputs get below the output folder.

- an image file ``a/b.png`` → one frame named ``b``;
- a folder → its images and videos (natural order of their path below it; ``recursive`` for
  subfolders; hidden files and folders and the output folder itself are skipped; with
  ``pattern`` only the files matching it; with ``stride`` every N-th image of each folder, as
  every N-th frame of a video), each named by
  its path below the folder without the suffix (``F/x/0005.png`` → ``x/0005``): a KITTI raw
  folder's outputs mirror its layout, which ``packdepth eval --pred-dir`` reads;
- any other file is a video (anything PyAV decodes) ``v.mp4`` → frames ``v/000000``, ``v/000001``,
  ... (the frame's index in the video, before ``stride``) and the depth video ``v_depth.mp4``.

Name clashes are resolved with a warning: of two images with one name (``a/x.png`` and
``b/x.jpg``) the later one gets ``-2`` (``-3``, ...) after its name; a video whose name is an
image's name or the folder of an image's outputs (``v.mp4`` beside ``v/3.png``) gets ``-2``
(images keep their names). Names are compared case-insensitively (for case-insensitive file
systems).

The frames come in order, one input after the other, so that a pose network can consume them too
(the seam for camera trajectories).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path, PurePosixPath

import numpy as np

from packdepth.data.folder import IMAGE_EXTENSIONS, list_images, two_kinds
from packdepth.data.images import image_header, read_rgb
from packdepth.data.intrinsics import Intrinsics
from packdepth.data.video import decode_video
from packdepth.errors import PackdepthError

#: Files of a folder taken as videos (any other non-image file in a folder is ignored).
VIDEO_EXTENSIONS = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".gif")


@dataclass(frozen=True)
class Input:
    """One image or video to predict on.

    Attributes:
        path: the file.
        kind: ``"image"`` or ``"video"``.
        name: output name below the output folder (posix, no suffix): the image's stem, or the
            video's folder of frames.
        K: ``[3,3]`` intrinsics at the file's resolution when the caller knows them, else ``None``.
    """

    path: Path
    kind: str
    name: str
    K: np.ndarray | None = None


@dataclass(frozen=True)
class Frame:
    """One frame of an input: ``image`` ``[H,W,3]`` uint8 RGB at its native resolution."""

    input: Input
    image: np.ndarray
    name: str
    index: int = 0
    time: float | None = None
    rate: Fraction | None = None
    length: int | None = None


def _kind(path: Path) -> str:
    return "image" if path.suffix.lower() in IMAGE_EXTENSIONS else "video"


def _stem(path: PurePosixPath) -> str:
    return path.with_suffix("").as_posix()


def _inside(path: Path, folder: Path | None) -> bool:
    return folder is not None and folder in path.resolve().parents


def _readable_modes(files: list[Path]) -> tuple[list[Path], list[str]]:
    """The files whose header reads, and their PIL modes (unreadable ones fail later, when
    their frame is read, where ``skip_bad`` can leave them out)."""
    read = []
    for path in files:
        try:
            read.append((path, image_header(path)[1]))
        except PackdepthError:
            continue
    return [p for p, _ in read], [m for _, m in read]


def _folder(path: Path, recursive: bool, exclude: Path | None, stride: int,
            pattern: str | None) -> Iterator[Input]:
    """A folder's videos, and every ``stride``-th of each (sub)folder's images matching
    ``pattern``; refuses a folder that mixes kinds of images (colour frames and depth maps)."""
    found = [p for p in list_images(path, recursive, IMAGE_EXTENSIONS + VIDEO_EXTENSIONS,
                                    pattern) if not _inside(p, exclude)]
    if not found:
        raise PackdepthError(f"{path}: no images or videos outside the output folder")
    sequences: dict[Path, list[Path]] = {}
    for p in found:
        if _kind(p) == "image":
            sequences.setdefault(p.parent, []).append(p)
    kept = set()
    for folder, images in sequences.items():
        mixed = two_kinds(*_readable_modes(images))
        if mixed:  # colour frames beside depth maps: a network fed both predicts nonsense
            raise PackdepthError(f"{folder}: images of two kinds: {mixed}; take one kind with "
                                 f"--pattern, e.g. '*{''.join(images[0].suffixes)}'")
        kept.update(images[::stride])
    for p in found:
        if _kind(p) == "video" or p in kept:
            yield Input(p, _kind(p), _stem(PurePosixPath(p.relative_to(path).as_posix())))


def _found(paths: Iterable[str | os.PathLike | Input], recursive: bool, exclude: Path | None,
           stride: int, pattern: str | None) -> Iterator[Input]:
    for given in paths:
        if isinstance(given, Input):
            yield given
            continue
        path = Path(given)
        if path.is_dir():
            yield from _folder(path, recursive, exclude, stride, pattern)
        elif path.is_file():
            yield Input(path, _kind(path), path.stem)
        else:
            raise PackdepthError(f"{path}: no such image, video or folder")


def _prefixes(name: str) -> list[str]:
    parts = name.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _unique(item: Input, taken: set[str]) -> Input:
    name, n = item.name, 1
    while name.lower() in taken:
        n += 1
        name = f"{item.name}-{n}"
    if n == 1:
        return item
    warnings.warn(f"{item.path}: output name {item.name!r} already taken by another input; "
                  f"writing it as {name!r}", stacklevel=3)
    return Input(item.path, item.kind, name, item.K)


def expand_inputs(
    paths: Sequence[str | os.PathLike | Input], *, recursive: bool = False,
    exclude: str | os.PathLike | None = None, stride: int = 1, pattern: str | None = None,
) -> list[Input]:
    """The inputs of ``paths`` with unique output names (see the module docstring).

    Args:
        paths: image files, video files, folders, or ready :class:`Input` objects.
        recursive: also take the images and videos in subfolders of folders.
        exclude: a folder whose files are never inputs (the output folder).
        stride: of each folder's images (per subfolder), every ``stride``-th is taken, as
            :func:`iter_frames` takes a video's frames (image files given one by one are all
            taken).
        pattern: a glob the files of folders must match (:func:`~packdepth.data.folder.
            list_images`), e.g. ``*.color.png`` where colour frames and depth maps share a folder
            (a folder mixing kinds of images is refused).

    Raises:
        PackdepthError: no paths, a path that does not exist, a folder without images/videos
            (matching ``pattern``).
    """
    if not paths:
        raise PackdepthError("no INPUT given (image files, folders or videos)")
    exclude = Path(exclude).resolve() if exclude is not None else None
    inputs = list(_found(paths, recursive, exclude, stride, pattern))
    taken: set[str] = set()  # output names and the folders they live in, lower case
    for i, item in enumerate(inputs):  # images first: they keep their names
        if item.kind == "image":
            inputs[i] = item = _unique(item, taken)
            taken.add(item.name.lower())
    taken.update(p for name in list(taken) for p in _prefixes(name))
    for i, item in enumerate(inputs):  # a video's name is also the folder of its frames
        if item.kind == "video":
            inputs[i] = item = _unique(item, taken)
            taken.add(item.name.lower())
    return inputs


def frame_intrinsics(frame: Frame, intrinsics: Intrinsics | None) -> np.ndarray | None:
    """A frame's ``[3,3]`` intrinsics: its input's own ``K``, else ``intrinsics`` at the frame's
    size (:meth:`Intrinsics.matrix`), else ``None``.

    Raises:
        PackdepthError: intrinsics that do not fit the frame's size.
    """
    if frame.input.K is not None or intrinsics is None:
        return frame.input.K
    h, w = frame.image.shape[:2]
    return intrinsics.matrix(w, h)


def iter_frames(item: Input, *, stride: int = 1, max_frames: int | None = None
                ) -> Iterator[Frame]:
    """The frames of one input, in order; images are read with :func:`read_rgb`, videos decoded
    with :func:`packdepth.data.video.decode_video` (every ``stride``-th frame, at most
    ``max_frames``).

    Raises:
        PackdepthError: an unreadable image, or a video that cannot be decoded or has no frames.
    """
    if item.kind == "image":
        yield Frame(item, np.asarray(read_rgb(item.path)), item.name)
        return
    for frame in decode_video(item.path, stride, max_frames):
        yield Frame(item, np.asarray(frame.image), f"{item.name}/{frame.index:06d}",
                    frame.index, frame.time, frame.rate, frame.length)
