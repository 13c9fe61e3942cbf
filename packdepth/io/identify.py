"""What a file or folder given as weights is, without loading or unpickling anything.

:func:`identify` looks at a path's first bytes (and, for PyTorch zip files, at the raw bytes of
the pickle inside, searched for key names, never unpickled) and says which kind of thing it is.
The commands use it to answer a file of the wrong kind with one line naming the file, what it is
and what to do instead (:func:`not_a_model`), e.g. ``runs/x/checkpoints/last.ckpt: a Lightning
checkpoint, not a packdepth model file: use its run's model folder runs/x/model``.
"""

from __future__ import annotations

import json
import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packdepth.errors import PackdepthError
from packdepth.weights import resolve_model_path

#: A model folder (``import-weights --out``, a training run's ``model/``) holds these files.
DEPTH_FILE, POSE_FILE = "depth_net.safetensors", "pose_net.safetensors"
CONFIG_KEY = "packdepth.config"
HEAD_BYTES = 1 << 20  # legacy torch files: markers are searched in the first MiB of the pickle
MAX_PICKLE_BYTES = 64 << 20  # zip torch files: the pickle (tensors are stored apart) is small
# Key names that tell the pickled checkpoints apart, searched in order (Lightning first: a
# packdepth run's checkpoint also holds depth_net.* tensors).
MARKERS = (
    ("lightning", (b"pytorch-lightning_version",)),
    ("packnet-sfm", (b"model.depth_net.", b"disp_network.", b"yacs.config")),
    ("monodepth2-file", (b"encoder.conv1.weight", b"decoder.0.conv.conv.weight")),
)
IMAGE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")


@dataclass(frozen=True)
class Kind:
    """``key``: one of ``missing, packdepth-model, packdepth-folder, packdepth-run, lightning,
    packnet-sfm, monodepth2-file, monodepth2-folder, torch, safetensors, corrupt, folder, text,
    image, unknown``; ``phrase``: what to tell the user, e.g. ``"a Lightning checkpoint"``;
    ``network``: a packdepth model file's network name."""

    key: str
    phrase: str
    network: str | None = None


def identify(path: str | Path) -> Kind:
    """What ``path`` is (see :class:`Kind`); reads at most the headers, never unpickles."""
    path = Path(path)
    if path.is_dir():
        return _identify_folder(path)
    if not path.is_file():
        return Kind("missing", "no such file or folder")
    size = path.stat().st_size
    if size == 0:
        return Kind("unknown", "an empty file")
    with open(path, "rb") as f:
        head = f.read(HEAD_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _identify_torch_zip(path)
    if len(head) >= 9 and head[8:9] == b"{" and head[4:8] == b"\0\0\0\0":  # u64 length, JSON
        return _identify_safetensors(path, head, size)
    if head.startswith(b"\x80") and b"\x00" in head[:64]:  # a pickle: legacy torch.save
        return _from_markers(head, Kind("torch", "a PyTorch file"))
    if head.startswith(IMAGE_MAGIC):
        return Kind("image", "an image")
    if b"\x00" not in head:
        try:
            head.decode("utf-8")
            return Kind("text", "a text file")
        except UnicodeDecodeError:
            pass
    return Kind("unknown", f"an unrecognised {size}-byte file")


def _identify_folder(path: Path) -> Kind:
    if (path / DEPTH_FILE).is_file() or (path / POSE_FILE).is_file():
        return Kind("packdepth-folder", "a packdepth model folder")
    if (path / "model").is_dir() and (path / "checkpoints").is_dir():
        return Kind("packdepth-run", "a packdepth training run folder")
    if (path / "encoder.pth").is_file() or (path / "depth.pth").is_file():
        return Kind("monodepth2-folder", "a monodepth2 folder")
    return Kind("folder", "a folder")


def _identify_torch_zip(path: Path) -> Kind:
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [i for i in archive.infolist() if i.filename.endswith("data.pkl")]
            if not pickles or pickles[0].file_size > MAX_PICKLE_BYTES:
                return Kind("torch", "a PyTorch file")
            data = archive.read(pickles[0])
    except (zipfile.BadZipFile, OSError, EOFError):
        return Kind("corrupt", "a truncated or corrupt PyTorch (zip) file")
    return _from_markers(data, Kind("torch", "a PyTorch file"))


def _from_markers(data: bytes, default: Kind) -> Kind:
    phrases = {"lightning": "a Lightning checkpoint", "packnet-sfm": "a packnet-sfm checkpoint",
               "monodepth2-file": "a monodepth2 weight file"}
    for key, markers in MARKERS:
        if any(m in data for m in markers):
            return Kind(key, phrases[key])
    return default


def _identify_safetensors(path: Path, head: bytes, size: int) -> Kind:
    (length,) = struct.unpack("<Q", head[:8])
    if 8 + length > size:
        return Kind("corrupt", f"a truncated or corrupt safetensors file ({size} bytes)")
    with open(path, "rb") as f:
        f.seek(8)
        try:
            header = json.loads(f.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError, MemoryError):
            return Kind("corrupt", "a corrupt safetensors file (unreadable header)")
    if not isinstance(header, dict):
        return Kind("corrupt", "a corrupt safetensors file (unreadable header)")
    ends = [v["data_offsets"][1] for k, v in header.items()
            if k != "__metadata__" and isinstance(v, dict) and "data_offsets" in v]
    metadata = header.get("__metadata__") or {}
    name = None
    if CONFIG_KEY in metadata:
        try:
            name = json.loads(metadata[CONFIG_KEY]).get("name")
        except (json.JSONDecodeError, AttributeError):
            name = None
    if 8 + length + max(ends, default=0) > size:
        what = f"packdepth model file ({name})" if name else "safetensors file"
        return Kind("corrupt", f"a truncated {what}: {size} bytes, its header needs "
                               f"{8 + length + max(ends)}")
    if CONFIG_KEY not in metadata:
        return Kind("safetensors", "a safetensors file without packdepth metadata")
    return Kind("packdepth-model", f"a packdepth model file ({name})", name)


def model_folder(path: str | Path) -> Path:
    """The folder of a model's files that ``path`` stands for: the shipped model's folder for the
    name ``shipped`` when no such path exists (:func:`packdepth.weights.resolve_model_path`); a
    folder holding neither network file whose ``model/`` subfolder holds one (a training run
    folder, ``fit``'s ``OUT/run``) gives that subfolder; any other path is returned as is. Every
    command that takes a model resolves it so (:func:`packdepth.io.checkpoints.model_file`,
    :func:`packdepth.inference.load`).

    Raises:
        PackdepthError: ``path`` is the name ``shipped`` and the shipped model is missing.
    """
    path = resolve_model_path(path)
    if not path.is_dir() or (path / DEPTH_FILE).is_file() or (path / POSE_FILE).is_file():
        return path
    inner = path / "model"
    return inner if (inner / DEPTH_FILE).is_file() or (inner / POSE_FILE).is_file() else path


def not_a_model(path: str | Path, kind: Kind | None = None, which: str = "depth"
                ) -> PackdepthError:
    """The one-line error for ``path`` given where a packdepth ``which`` model was expected."""
    path = Path(path)
    kind = kind or identify(path)
    wanted, other = (DEPTH_FILE, POSE_FILE) if which == "depth" else (POSE_FILE, DEPTH_FILE)
    advice = {
        "missing": "no such model file or folder",
        "lightning": f"{kind.phrase}, not a packdepth model file: use its run's model folder"
                     + (f" {path.parent.parent / 'model'}"
                        if (path.parent.parent / "model" / wanted).is_file() else ""),
        "packnet-sfm": f"{kind.phrase}, not a packdepth model file: convert it first with "
                       f"`packdepth import-weights {path} --format packnet --out DIR`",
        "monodepth2-file": f"{kind.phrase}, not a packdepth model file: convert its folder "
                           f"with `packdepth import-weights {path.parent} --format monodepth2 "
                           "--out DIR`",
        "monodepth2-folder": f"{kind.phrase}, not a packdepth model folder: convert it first "
                             f"with `packdepth import-weights {path} --format monodepth2 "
                             "--out DIR`",
        "packdepth-run": f"{kind.phrase} without a model yet ({path / 'model'} holds no "
                         f"{wanted}: a run writes it when its training ends)",
        "packdepth-folder": f"{kind.phrase} without {wanted}" + (
            f" (it holds {other} only)" if (path / other).is_file() else ""),
        "corrupt": kind.phrase,
        "folder": f"a folder without {wanted} (not a packdepth model folder)",
    }.get(kind.key, f"{kind.phrase}, not a packdepth model file")
    return PackdepthError(f"{path}: {advice}")


def check_import_source(path: str | Path, fmt: str) -> None:
    """Refuse an ``import-weights`` source that is not of ``--format fmt``, saying what it is.

    ``fmt`` is ``"packnet"`` (a packnet-sfm ``.ckpt``/``.pth.tar`` file) or ``"monodepth2"``
    (a folder of ``encoder.pth``, ``depth.pth``...). Files already in packdepth's format and
    Lightning checkpoints (whose run's ``model/`` folder holds packdepth files) are refused for
    either. A missing path or an unrecognised PyTorch file is left to the importer.

    Raises:
        PackdepthError: one line naming the source, what it is and what to do instead.
    """
    path = Path(path)
    kind = identify(path)
    refusal = None
    if kind.key in ("packdepth-model", "packdepth-folder"):
        refusal = f"{kind.phrase}, already in packdepth's format: use it as is"
    elif kind.key == "packdepth-run":
        refusal = f"{kind.phrase}, already in packdepth's format: use {path / 'model'}"
    elif kind.key == "lightning":
        refusal = (f"{kind.phrase}, not an official checkpoint: its run's model folder already "
                   "holds the networks in packdepth's format")
    elif fmt == "packnet":
        if kind.key == "monodepth2-folder":
            refusal = f"{kind.phrase}: use --format monodepth2"
        elif kind.key == "monodepth2-file":
            refusal = f"{kind.phrase}: import its folder {path.parent} with --format monodepth2"
        elif kind.key not in ("missing", "torch", "packnet-sfm"):
            refusal = f"{kind.phrase}, not a packnet-sfm checkpoint (.ckpt)"
    elif kind.key == "packnet-sfm":
        refusal = f"{kind.phrase}: use --format packnet"
    elif kind.key == "monodepth2-file":
        refusal = f"{kind.phrase}: give its folder {path.parent} (encoder.pth, depth.pth, ...)"
    elif kind.key not in ("missing", "folder", "monodepth2-folder"):
        refusal = (f"{kind.phrase}, not a monodepth2 folder (encoder.pth, depth.pth[, "
                   "pose_encoder.pth, pose.pth])")
    if refusal is not None:
        raise PackdepthError(f"{path}: {refusal}")
