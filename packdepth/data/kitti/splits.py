"""Split files: which frames of a KITTI-raw-layout folder to train on or evaluate.

Two line formats are accepted (blank lines and ``#`` comments are skipped):

* KITTI/monodepth2 convention ``<folder> <frame_index> l|r``, e.g.
  ``2011_09_26/2011_09_26_drive_0002_sync 69 l`` (``l`` = ``image_02``, ``r`` = ``image_03``;
  the side defaults to ``l``; the index may be zero-padded or not).
* A relative image path in the raw layout, e.g.
  ``2011_09_26/2011_09_26_drive_0002_sync/image_02/data/0000000069.png`` (packnet-sfm's format;
  further tokens on the line, such as packnet-sfm's right-image path, are ignored).

packdepth does not ship the standard split files (it does not redistribute KITTI material); the
names users will find in the reference repositories are listed in :data:`STANDARD_SPLITS` so that a
missing file gets a helpful message.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from packdepth.data.kitti.layout import SIDES, frame_name
from packdepth.errors import PackdepthError
from packdepth.io.atomic import write_text

#: Well-known KITTI split files (names only; get the files from the repositories named).
STANDARD_SPLITS: dict[str, str] = {
    "eigen_test_files.txt": (
        "Eigen et al. (2014) KITTI test split, 697 frames, Velodyne ground truth; "
        "packnet-sfm data_splits/eigen_test_files.txt (image paths), also monodepth2 "
        "splits/eigen/test_files.txt ('<folder> <frame> l' lines)"
    ),
    "eigen_benchmark/test_files.txt": (
        "the 652 Eigen test frames that have KITTI's annotated depth (Uhrig et al. 2017); "
        "monodepth2 splits/eigen_benchmark/test_files.txt, GT from proj_depth/groundtruth"
    ),
    "eigen_zhou_files.txt": (
        "Zhou et al. (2017) training split (not for testing); packnet-sfm "
        "data_splits/eigen_zhou_files.txt, monodepth2 splits/eigen_zhou/train_files.txt"
    ),
}

_PATH_RE = re.compile(r"^(?P<drive>.+)/image_0(?P<cam>[0-3])/data/(?P<frame>\d+)\.(png|jpe?g)$")


@dataclass(frozen=True)
class SplitEntry:
    """One frame to evaluate.

    Attributes:
        drive: drive folder relative to the data root,
            e.g. ``2011_09_26/2011_09_26_drive_0002_sync``.
        frame: frame index.
        cam: camera number (2 = left colour, 3 = right colour).
        line: 1-based line number in the split file (0 when built in code).
    """

    drive: str
    frame: int
    cam: int = 2
    line: int = 0

    @property
    def name(self) -> str:
        """Stable identifier: the image's path relative to the root, without extension."""
        return f"{self.drive}/image_0{self.cam}/data/{frame_name(self.frame)}"

    def drive_dir(self, root: str | os.PathLike) -> Path:
        return Path(root) / self.drive

    def image_file(self, root: str | os.PathLike) -> Path:
        """The frame's image (``.png``, else ``.jpg`` as monodepth2's converted copies use)."""
        base = Path(root) / self.name
        for ext in (".png", ".jpg"):
            if base.with_suffix(ext).is_file():
                return base.with_suffix(ext)
        return base.with_suffix(".png")


def parse_split_line(line: str, lineno: int = 0, source: str = "<split>") -> SplitEntry | None:
    """Parse one split line; ``None`` for blank/comment lines; :class:`PackdepthError` if bad."""
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    tokens = text.split()
    if len(tokens) >= 2 and tokens[1].isdigit():
        side = tokens[2].lower() if len(tokens) > 2 else "l"
        if side not in SIDES:
            raise PackdepthError(f"{source}:{lineno}: side must be 'l' or 'r', got {tokens[2]!r}")
        return SplitEntry(tokens[0].strip("/"), int(tokens[1]), SIDES[side], lineno)
    match = _PATH_RE.match(tokens[0].replace("\\", "/").removeprefix("./"))
    if match is None:
        raise PackdepthError(
            f"{source}:{lineno}: expected '<folder> <frame_index> l|r' or an image path "
            f"'<folder>/image_0X/data/<frame>.png', got {text[:80]!r}"
        )
    return SplitEntry(match["drive"], int(match["frame"]), int(match["cam"]), lineno)


def read_split(path: str | os.PathLike) -> list[SplitEntry]:
    """Read a split file; errors name the file (and line) and what is wrong."""
    path = Path(path)
    if not path.is_file():
        hint = next(
            (f" ({desc})" for name, desc in STANDARD_SPLITS.items() if str(path).endswith(name)), ""
        )
        raise PackdepthError(f"{path}: split file not found{hint}")
    entries = []
    for lineno, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        entry = parse_split_line(line, lineno, str(path))
        if entry is not None:
            entries.append(entry)
    if not entries:
        raise PackdepthError(f"{path}: split file lists no frames")
    return entries


def write_split(path: str | os.PathLike, entries: list[SplitEntry]) -> None:
    """Write a split file (``<date>/<drive> <frame> l|r`` lines) atomically."""
    side = {cam: name for name, cam in SIDES.items()}
    write_text(path, "".join(f"{e.drive} {e.frame} {side[e.cam]}\n" for e in entries))


def find_drives(root: str | os.PathLike) -> list[str]:
    """Drive folders (``<date>/<drive>``) under ``root`` that hold ``image_02`` or ``image_03``."""
    root = Path(root)
    if not root.is_dir():
        raise PackdepthError(f"{root}: dataset folder not found")
    drives = sorted(
        f"{d.parent.name}/{d.name}"
        for d in root.glob("*/*")
        if d.is_dir() and any((d / f"image_0{c}" / "data").is_dir() for c in SIDES.values())
    )
    if not drives:
        raise PackdepthError(f"{root}: no KITTI drive folder (<date>/<drive>/image_02/data)")
    return drives


def frame_indices(drive_path: Path, cam: int) -> list[int]:
    """The frame indices of a drive folder's camera ``cam`` (its ``.png`` or ``.jpg`` files)."""
    folder = drive_path / f"image_0{cam}" / "data"
    files = [*folder.glob("*.png"), *folder.glob("*.jpg")]
    return sorted({int(p.stem) for p in files if p.stem.isdigit()})


def drive_split(
    root: str | os.PathLike, drive: str, offsets: tuple[int, ...] = (-1, 1), side: str = "l"
) -> list[SplitEntry]:
    """Every frame of a drive whose context frames (frame + offset) all exist."""
    indices = set(frame_indices(Path(root) / drive, SIDES[side]))
    return [
        SplitEntry(drive, i, SIDES[side])
        for i in sorted(indices)
        if all(i + o in indices for o in offsets)
    ]
