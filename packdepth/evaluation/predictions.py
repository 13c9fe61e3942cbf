"""Which saved prediction file is which split entry (``packdepth eval --pred-dir DIR``).

Naming (``--pred-naming``), for the ``i``-th line (0-based) of a split, an image of drive ``D``,
camera ``X``, frame stem ``F`` (the frame number in 10 digits, the image's own file stem); each
name is tried with ``.npz`` then ``.png``:

* ``path``: ``DIR/D/image_0X/data/F`` — the image's path mirrored, as ``packdepth infer`` writes
  it for a KITTI raw root;
* ``stem``: ``DIR/F`` — a flat folder named by the images' own stems, as ``packdepth infer``
  writes it for one ``image_0X/data`` folder. A stem that two split entries share (the same frame
  of two drives or cameras) is refused as ambiguous;
* ``index``: ``DIR/<i:010d>`` — the split line's index (monodepth2-style export order). Only
  when asked for: these names are frame stems too, and read the wrong way each frame is scored
  against another frame's prediction without any error;
* ``auto`` (the default): ``path``, else ``stem``, entry by entry; never ``index``. A folder
  whose digit-named files are exactly ``0..N-1`` for an ``N``-line split reads both as indices
  and as frame stems: where a stem lookup would disagree with the line's index, ``auto`` stops
  and asks for ``--pred-naming``; where a prediction is missing, the error says the folder may
  be index-named.

Every failure is a :class:`PackdepthError` naming the file looked for (or the folder) and the
split line.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from packdepth.data.kitti import frame_name
from packdepth.errors import PackdepthError
from packdepth.evaluation.splits import SplitEntry

NAMINGS = ("auto", "path", "stem", "index")
EXTENSIONS = (".npz", ".png")
_DESCRIBE = {"path": "DIR/<drive>/image_0X/data/<frame>", "stem": "DIR/<frame>",
             "index": "DIR/<split line index>"}


class PredictionFolder:
    """The prediction files of a split's entries in ``folder`` (see the module docstring).

    Args:
        folder: the ``--pred-dir`` folder.
        entries: the split, in order (the index naming counts its lines from 0).
        naming: one of :data:`NAMINGS`.

    Attributes:
        found: how many entries each naming found so far (``{"path": 3, "stem": 0, ...}``).

    Raises:
        PackdepthError: an unknown ``naming`` or a missing folder.
    """

    def __init__(self, folder: str | os.PathLike, entries: Sequence[SplitEntry],
                 naming: str = "auto") -> None:
        if naming not in NAMINGS:
            raise PackdepthError(f"--pred-naming: unknown naming {naming!r} (one of {NAMINGS})")
        self.folder, self.naming = Path(folder), naming
        if not self.folder.is_dir():
            raise PackdepthError(f"{self.folder}: prediction folder not found")
        self.by_stem: dict[str, list[SplitEntry]] = {}
        for entry in entries:
            self.by_stem.setdefault(frame_name(entry.frame), []).append(entry)
        digits = {p.stem for p in self.folder.iterdir()
                  if p.suffix.lower() in EXTENSIONS and p.stem.isdigit() and p.is_file()}
        self.size = len(entries)
        self.index_shaped = bool(entries) and digits == {frame_name(i) for i in range(len(entries))}
        self.found: Counter[str] = Counter()

    def _name(self, how: str, entry: SplitEntry, index: int) -> Path:
        if how == "path":
            return self.folder / entry.name
        return self.folder / frame_name(entry.frame if how == "stem" else index)

    def find(self, entry: SplitEntry, index: int) -> Path:
        """The prediction file of ``entry``, the ``index``-th line of the split.

        Raises:
            PackdepthError: no file under the naming(s) tried, a flat name two entries share, or
                (``auto``) an index-shaped folder where the stem and the index disagree.
        """
        tried = ("path", "stem") if self.naming == "auto" else (self.naming,)
        for how in tried:
            base = self._name(how, entry, index)
            file = next((base.with_suffix(e) for e in EXTENSIONS
                         if base.with_suffix(e).is_file()), None)
            if file is None:
                continue
            if how == "stem":
                self._check_flat(file, entry, index)
            self.found[how] += 1
            return file
        looked = " and ".join(
            f"{self._name(h, entry, index).relative_to(self.folder)}.npz|.png ({_DESCRIBE[h]})"
            for h in tried)
        hint = ""
        if self.naming == "auto" and self.index_shaped:
            hint = (f"; its files are named {self._index_range()} like the split's line "
                    "indices: if that is what they are, pass --pred-naming index")
        raise PackdepthError(
            f"{self._name(tried[0], entry, index)}.npz: prediction not found for {entry.name} "
            f"(split line {entry.line or index + 1}; looked for {looked}){hint}"
        )

    def _check_flat(self, file: Path, entry: SplitEntry, index: int) -> None:
        sharing = self.by_stem.get(file.stem, [entry])
        if len(sharing) > 1:
            a, b = sharing[:2]
            raise PackdepthError(
                f"{file}: ambiguous flat name: split lines {a.line} ({a.name}) and {b.line} "
                f"({b.name}) both have the frame stem {file.stem}; keep each image's path in "
                "the prediction folder (DIR/<drive>/image_0X/data/<frame>.npz, as `packdepth "
                "infer` writes for the data root) or evaluate them separately"
            )
        if self.naming == "auto" and self.index_shaped and entry.frame != index:
            raise PackdepthError(
                f"{self.folder}: its files are named {self._index_range()}, one per line of "
                f"the {self.size}-line split: they read as split-line indices or as frame "
                f"stems, and for line {entry.line or index + 1} ({entry.name}) the two disagree; "
                "pass --pred-naming index or --pred-naming stem"
            )

    def _index_range(self) -> str:
        first, last = frame_name(0), frame_name(self.size - 1)
        return first if self.size == 1 else f"{first}..{last}"

    def describe(self) -> str:
        """The naming and what it found, e.g. ``auto (3 path, 7 stem)``."""
        found = ", ".join(f"{n} {how}" for how, n in sorted(self.found.items()))
        return f"{self.naming} ({found})" if found else self.naming
