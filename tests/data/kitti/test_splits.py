"""Split files in the KITTI convention and as relative image paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from packdepth.data.kitti.splits import (
    STANDARD_SPLITS,
    SplitEntry,
    parse_split_line,
    read_split,
    write_split,
)
from packdepth.errors import PackdepthError

DRIVE = "2011_09_26/2011_09_26_drive_0002_sync"


def test_both_line_formats(tmp_path: Path) -> None:
    split = tmp_path / "test_files.txt"
    split.write_text(
        "# a comment\n"
        f"{DRIVE} 69 l\n"
        "\n"
        f"{DRIVE} 0000000054 r\n"
        f"{DRIVE}/image_02/data/0000000042.png {DRIVE}/image_03/data/0000000042.png\n"
        f"./{DRIVE}/image_03/data/0000000007.jpg\n"
        f"{DRIVE} 12\n"
    )
    entries = read_split(split)
    assert [(e.drive, e.frame, e.cam, e.line) for e in entries] == [
        (DRIVE, 69, 2, 2),
        (DRIVE, 54, 3, 4),
        (DRIVE, 42, 2, 5),
        (DRIVE, 7, 3, 6),
        (DRIVE, 12, 2, 7),
    ]
    assert entries[0].name == f"{DRIVE}/image_02/data/0000000069"
    assert entries[1].image_file(tmp_path) == tmp_path / DRIVE / "image_03/data/0000000054.png"


def test_bad_lines_name_file_and_line(tmp_path: Path) -> None:
    with pytest.raises(PackdepthError, match=r"split.txt:3: side must be 'l' or 'r'"):
        parse_split_line(f"{DRIVE} 5 x", 3, "split.txt")
    with pytest.raises(PackdepthError, match=r"s.txt:1: expected '<folder> <frame_index> l\|r'"):
        parse_split_line("some/folder/picture.png", 1, "s.txt")
    assert parse_split_line("   # only a comment", 9) is None


def test_empty_and_missing_split_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("\n# nothing\n")
    with pytest.raises(PackdepthError, match=r"empty\.txt: split file lists no frames"):
        read_split(empty)
    with pytest.raises(PackdepthError, match=r"eigen_test_files.txt: split file not found \(Eigen"):
        read_split(tmp_path / "eigen_test_files.txt")
    assert "697" in STANDARD_SPLITS["eigen_test_files.txt"]


def test_entry_defaults() -> None:
    e = SplitEntry(DRIVE, 3)
    assert e.cam == 2 and e.drive_dir("/data") == Path("/data") / DRIVE


def test_written_split_reads_back_both_sides(tmp_path: Path) -> None:
    entries = [SplitEntry(DRIVE, 4, 3), SplitEntry(DRIVE, 5, 2)]
    write_split(tmp_path / "s.txt", entries)
    assert (tmp_path / "s.txt").read_text() == f"{DRIVE} 4 r\n{DRIVE} 5 l\n"
    assert [(e.drive, e.frame, e.cam) for e in read_split(tmp_path / "s.txt")] == [
        (DRIVE, 4, 3), (DRIVE, 5, 2)]
