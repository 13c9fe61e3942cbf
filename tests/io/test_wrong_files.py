"""A file of the wrong kind is one line naming it and saying what it is (issue 15, item 7).

Every command that loads a model or checkpoint, and the Python ``load_model``, given each kind of
wrong input: exit status 2, one line on stderr, no traceback, nothing written. The table is the
behaviour; ``identify`` is also checked on its own against files whose kind is known.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from PIL import Image
from safetensors.torch import save_file

from packdepth.cli import main
from packdepth.data.synthetic import SynthParams, write_dataset
from packdepth.errors import PackdepthError
from packdepth.io.checkpoints import load_model, save_model
from packdepth.io.identify import identify
from packdepth.networks import PackNet, PackNetSmall, PoseNet


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """One of every kind of file, under short names (the table's second column)."""
    root = tmp_path_factory.mktemp("files")
    write_dataset(root / "world", SynthParams(height=24, width=32, frames=8, seed=1), sequences=1)
    depth, pose = PackNetSmall(), PoseNet()
    save_model(pose, root / "pose.safetensors")
    for folder, depth_file, pose_file in [("model", depth, pose), ("swapped", pose, depth),
                                          ("depthpose", depth, depth), ("run/model", depth, pose)]:
        save_model(depth_file, root / folder / "depth_net.safetensors")
        save_model(pose_file, root / folder / "pose_net.safetensors")
    save_model(pose, root / "onlypose" / "pose_net.safetensors")
    (root / "run" / "checkpoints").mkdir()
    for sub in ("model", "checkpoints"):  # a run stopped before it saved its model
        (root / "emptyrun" / sub).mkdir(parents=True)
    # what Lightning writes (a pickled dict with its version), and an official packnet-sfm file
    torch.save({"epoch": 0, "pytorch-lightning_version": "2.5.0", "state_dict": {
        f"depth_net.{k}": v for k, v in depth.state_dict().items()}},
        root / "run" / "checkpoints" / "last.ckpt")
    torch.save({"epoch": 7, "state_dict": {f"model.depth_net.{k}": v
                                           for k, v in depth.state_dict().items()}},
               root / "official.ckpt")
    whole = (root / "official.ckpt").read_bytes()
    (root / "official_trunc.ckpt").write_bytes(whole[: len(whole) // 2])
    (root / "md2").mkdir()
    torch.save({"encoder.conv1.weight": torch.zeros(1)}, root / "md2" / "encoder.pth")
    torch.save({"decoder.0.conv.conv.weight": torch.zeros(1)}, root / "md2" / "depth.pth")
    (root / "md2_noenc").mkdir()
    (root / "md2_noenc" / "depth.pth").write_bytes((root / "md2" / "depth.pth").read_bytes())
    save_file({"w": torch.zeros(2)}, str(root / "plain.safetensors"))
    model_bytes = (root / "pose.safetensors").read_bytes()
    (root / "trunc.safetensors").write_bytes(model_bytes[: len(model_bytes) // 2])
    (root / "junk.bin").write_bytes(bytes(range(256)) * 10)
    (root / "empty.safetensors").write_bytes(b"")
    (root / "notes.txt").write_text("fx: 1\n")
    (root / "poses.txt").write_text("1 0 0 0 0 1 0 0 0 0 1 0\n" * 6)
    Image.new("RGB", (4, 4)).save(root / "image.png")
    (root / "empty_dir").mkdir()
    return root


CONFIG = str(Path(__file__).resolve().parents[2] / "configs" / "synthetic_cpu.yaml")
EVAL = ["eval", "--data", "{root}/world", "--split", "{root}/world/splits/all_files.txt",
        "--checkpoint"]
FIT = ["fit", "{root}/world", "--out", "{root}/out", "--size", "16x32", "--minutes", "0.01",
       "--init"]
TRAIN = ["train", CONFIG, "--set", "data.root={root}/world", "--set", "val_data.root={root}/world",
         "--set", "data.height=16",
         "--set", "data.width=32", "--set", "trainer.out_dir={root}/out", "--set", "model.init="]
PACKNET = ["import-weights", "--format", "packnet", "--out", "{root}/out"]
MD2 = ["import-weights", "--format", "monodepth2", "--out", "{root}/out"]

# (command, wrong input) → the message after "packdepth: error: <input>: "
TABLE = [
    (EVAL, "pose.safetensors", "a PoseNet, not a depth network"),
    (EVAL, "swapped", "depth_net.safetensors: a PoseNet, not a depth network"),
    (EVAL, "onlypose", "a packdepth model folder without depth_net.safetensors (it holds "
                       "pose_net.safetensors only)"),
    (EVAL, "run/checkpoints/last.ckpt", "a Lightning checkpoint, not a packdepth model file: "
                                        "use its run's model folder {root}/run/model"),
    (EVAL, "emptyrun", "a packdepth training run folder without a model yet "
                       "({root}/emptyrun/model holds no depth_net.safetensors"),
    (EVAL, "official.ckpt", "a packnet-sfm checkpoint, not a packdepth model file: convert it "
                            "first with `packdepth import-weights {root}/official.ckpt "
                            "--format packnet --out DIR`"),
    (EVAL, "md2", "a monodepth2 folder, not a packdepth model folder: convert it first"),
    (EVAL, "md2/encoder.pth", "a monodepth2 weight file, not a packdepth model file"),
    (EVAL, "plain.safetensors", "a safetensors file without packdepth metadata"),
    (EVAL, "trunc.safetensors", "a truncated packdepth model file (PoseNet)"),
    (EVAL, "junk.bin", "an unrecognised 2560-byte file, not a packdepth model file"),
    (EVAL, "empty.safetensors", "an empty file, not a packdepth model file"),
    (EVAL, "notes.txt", "a text file, not a packdepth model file"),
    (EVAL, "image.png", "an image, not a packdepth model file"),
    (EVAL, "empty_dir", "a folder without depth_net.safetensors"),
    (EVAL, "absent", "no such model file or folder"),
    (FIT, "pose.safetensors", "a PoseNet, not a depth network"),
    (FIT, "depthpose", "pose_net.safetensors: a PackNet, not a pose network"),
    (FIT, "run/checkpoints/last.ckpt", "a Lightning checkpoint, not a packdepth model file"),
    (FIT, "official.ckpt", "a packnet-sfm checkpoint, not a packdepth model file"),
    (["demo", "--out", "{root}/out", "--set", "model.init="], "onlypose",
     "a packdepth model folder without depth_net.safetensors"),
    (TRAIN, "pose.safetensors", "a PoseNet, not a depth network"),
    (TRAIN, "onlypose", "a packdepth model folder without depth_net.safetensors"),
    (TRAIN, "official.ckpt", "a packnet-sfm checkpoint, not a packdepth model file"),
    (TRAIN, "plain.safetensors", "a safetensors file without packdepth metadata"),
    (TRAIN, "trunc.safetensors", "a truncated packdepth model file"),
    (PACKNET, "pose.safetensors", "a packdepth model file (PoseNet), already in packdepth's "
                                  "format: use it as is"),
    (PACKNET, "model", "a packdepth model folder, already in packdepth's format"),
    (PACKNET, "run/checkpoints/last.ckpt", "a Lightning checkpoint, not an official checkpoint"),
    (PACKNET, "md2", "a monodepth2 folder: use --format monodepth2"),
    (PACKNET, "junk.bin", "an unrecognised 2560-byte file, not a packnet-sfm checkpoint"),
    (PACKNET, "official_trunc.ckpt", "a truncated or corrupt PyTorch (zip) file"),
    (MD2, "official.ckpt", "a packnet-sfm checkpoint: use --format packnet"),
    (MD2, "md2_noenc", "no encoder.pth (a monodepth2 folder holds encoder.pth and depth.pth"),
    (MD2, "md2/encoder.pth", "a monodepth2 weight file: give its folder {root}/md2"),
    (MD2, "pose.safetensors", "a packdepth model file (PoseNet), already in packdepth's format"),
    (["eval-pose", "--gt", "{root}/poses.txt", "--pred"], "pose.safetensors",
     "a packdepth model file (PoseNet), not a text file of poses"),
    (["eval-pose", "--pred", "{root}/poses.txt", "--gt"], "empty_dir",
     "a folder, not a text file of poses"),
]


def _args(files: Path, command: list[str], wrong: str) -> list[str]:
    """The command line, with ``wrong`` appended to its last word (``model.init=``)."""
    args = [a.format(root=files) for a in command]
    last = args.pop() if args[-1].endswith("=") else ""
    return [*args, f"{last}{files / wrong}"]


@pytest.mark.parametrize(("command", "wrong", "message"), TABLE,
                         ids=[f"{c[0]}{'-' + c[2] if c[0] == 'import-weights' else ''}:{w}"
                              for c, w, _ in TABLE])
def test_wrong_file_is_one_line_naming_it(files, capsys, command, wrong, message) -> None:
    assert main(_args(files, command, wrong)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"packdepth: error: {files / wrong}"), err  # names the file
    assert message.format(root=files) in err, err
    assert not (files / "out").exists()  # nothing written


def test_the_pose_file_in_a_subprocess_gives_no_traceback(files) -> None:
    """The report's case: eval --checkpoint with a pose net was a 29-line TypeError."""
    import subprocess
    import sys

    args = _args(files, EVAL, "pose.safetensors")
    result = subprocess.run([sys.executable, "-m", "packdepth", *args], capture_output=True,
                            text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("pose.safetensors: a PoseNet, not a depth network")


def test_load_model_takes_folders_and_names_wrong_files(files) -> None:
    assert isinstance(load_model(files / "model"), PackNet)
    assert isinstance(load_model(files / "model", kind="pose"), PoseNet)
    with pytest.raises(PackdepthError, match=r"last\.ckpt: a Lightning checkpoint, not a"):
        load_model(files / "run" / "checkpoints" / "last.ckpt")
    with pytest.raises(PackdepthError, match=r"onlypose: a packdepth model folder without dep"):
        load_model(files / "onlypose")
    with pytest.raises(PackdepthError, match=r"official\.ckpt: a packnet-sfm checkpoint"):
        load_model(files / "official.ckpt", kind="depth")


def test_identify_tells_every_kind_apart(files) -> None:
    expected = {
        "pose.safetensors": "packdepth-model", "model": "packdepth-folder",
        "run": "packdepth-run", "emptyrun": "packdepth-run",
        "run/checkpoints/last.ckpt": "lightning",
        "official.ckpt": "packnet-sfm", "official_trunc.ckpt": "corrupt",
        "md2": "monodepth2-folder", "md2/depth.pth": "monodepth2-file",
        "plain.safetensors": "safetensors", "trunc.safetensors": "corrupt", "junk.bin": "unknown",
        "empty.safetensors": "unknown", "notes.txt": "text", "image.png": "image",
        "empty_dir": "folder", "absent": "missing",
        "world/splits/all_files.txt": "text",
    }
    assert {name: identify(files / name).key for name in expected} == expected
    assert identify(files / "pose.safetensors").network == "PoseNet"
    legacy = files / "legacy.pth.tar"  # packnet-sfm's old files: the pre-zip torch format
    torch.save({"state_dict": {"disp_network.x": torch.zeros(1)}}, legacy,
               _use_new_zipfile_serialization=False)
    assert identify(legacy).key == "packnet-sfm"


def test_a_run_folder_stands_for_its_model_everywhere(files, capsys) -> None:
    """eval --checkpoint, fit/train --init (model_files), load_model and inference's load all
    take a training run folder as its model/ (issue: eval refused what infer accepted)."""
    from packdepth.inference import load
    from packdepth.io.checkpoints import check_model_files, model_file, model_files

    run, model = files / "run", files / "run" / "model"
    assert model_file(run) == model / "depth_net.safetensors"
    assert model_file(run, "pose") == model / "pose_net.safetensors"
    assert model_files(run) == model_files(model)
    check_model_files(run)
    assert isinstance(load_model(run), PackNet)
    assert isinstance(load_model(run, kind="pose"), PoseNet)
    assert isinstance(load(run).depth_net, PackNet)
    reports = []
    for given in (run, model):
        args = [*_args(files, EVAL, "x")[:-1], str(given), "--size", "32x64", "--crop", "none",
                "--json", str(files / f"{given.name}.json")]
        assert main(args) == 0, capsys.readouterr().err
        reports.append(json.loads((files / f"{given.name}.json").read_text())["metrics"])
    assert reports[0] == reports[1]
