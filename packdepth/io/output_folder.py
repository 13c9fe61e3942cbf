"""The output folder of a command that writes a fixed set of outputs (``train``, ``fit``).

Writing into a folder that holds an earlier run mixes the two: stale checkpoints and depth maps
of other frames beside the new ones, logs of both runs in one file. So such a folder is refused
unless the user asks to replace the earlier outputs (``--overwrite``). Files the command never
writes are refused even then: ``--overwrite`` deletes only what an earlier run of the same
command wrote, never a user's own files.
"""

from __future__ import annotations

import fnmatch
import shutil
from dataclasses import dataclass
from pathlib import Path

from packdepth.errors import PackdepthError
from packdepth.io.atomic import temporary_target


@dataclass(frozen=True)
class OutputFolder:
    """A folder a command writes its outputs into.

    Attributes:
        path: the folder (absent, or a folder).
        outputs: glob patterns of the names the command writes directly in ``path`` (files and
            folders); the temporary files of interrupted atomic writes of them count as theirs.
        command: how the user calls the command, for messages (``packdepth fit``).
        overwrite: replace the outputs of an earlier run (:meth:`clear`) instead of refusing.
    """

    path: Path
    outputs: tuple[str, ...]
    command: str
    overwrite: bool = False

    def _is_output(self, name: str) -> bool:
        name = temporary_target(name) or name
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.outputs)

    def _entries(self) -> tuple[list[str], list[str]]:
        """The names in the folder: (the command's outputs, anything else)."""
        if not self.path.exists():
            return [], []
        if not self.path.is_dir():
            raise PackdepthError(f"{self.path}: not a folder (the output folder)")
        names = sorted(p.name for p in self.path.iterdir())
        return ([n for n in names if self._is_output(n)],
                [n for n in names if not self._is_output(n)])

    def check(self) -> None:
        """Refuse the folder unless it is absent, empty, or (with ``overwrite``) holds only
        outputs of this command.

        Raises:
            PackdepthError: one line naming the folder and the first name in the way.
        """
        earlier, foreign = self._entries()
        if foreign:
            more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
            raise PackdepthError(
                f"{self.path}: holds {foreign[0]}{more}, which {self.command} does not write: "
                "choose a new or empty output folder"
                + (" (--overwrite replaces only the outputs of an earlier run)"
                   if self.overwrite else ""))
        if earlier and not self.overwrite:
            raise PackdepthError(
                f"{self.path}: holds the outputs of an earlier run ({', '.join(earlier)}): "
                "choose a new or empty output folder, or replace them with --overwrite")

    def clear(self) -> list[str]:
        """Check (:meth:`check`), then delete the outputs of an earlier run; returns their names.
        """
        self.check()
        earlier, _ = self._entries()
        for name in earlier:
            path = self.path / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
        return earlier
