"""The console entry point: version, help, argument errors in one line, warnings in one line."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from packdepth import __version__
from packdepth.cli import main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"packdepth {__version__}"
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "usage: packdepth" in capsys.readouterr().out


def test_no_command_is_usage_and_one_error_line(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    usage, error = captured.err.splitlines()
    assert usage.startswith("usage: packdepth")
    assert error == "packdepth: error: no command given (see packdepth --help)"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["infer", "m", "x", "--out", "o", "--size", "abc"],
         "packdepth: error: --size: expected HxW, e.g. 192x640, got 'abc' "
         "(see packdepth infer --help)"),
        (["infer", "m", "x"], "packdepth: error: the following arguments are required: --out "
         "(see packdepth infer --help)"),
        (["infer", "m", "x", "--out", "o", "--bogus"],
         "packdepth: error: unrecognized arguments: --bogus (see packdepth infer --help)"),
        (["fit", "v.mp4", "--out", "o", "--minutes", "soon"],
         "packdepth: error: --minutes: invalid float value: 'soon' (see packdepth fit --help)"),
        (["nosuchcommand"], "packdepth: error: COMMAND: invalid choice: 'nosuchcommand'"),
        (["export", "m"], "packdepth: error: the following arguments are required: --onnx "
         "(see packdepth export --help)"),
        (["navmap"], "packdepth: error: the following arguments are required: INPUT, --out "
         "(see packdepth navmap --help)"),
        (["pointcloud", "d.npz", "--out", "o.ply", "--voxel", "lots"],
         "packdepth: error: --voxel: invalid float value: 'lots' (see packdepth pointcloud "
         "--help)"),
        (["eval", "--pred-dir", "p", "--data", "d", "--split", "s", "--pred-naming", "bogus"],
         "packdepth: error: --pred-naming: invalid choice: 'bogus' (choose from 'auto', 'path', "
         "'stem', 'index') (see packdepth eval --help)"),
    ],
)
def test_argument_errors_are_one_line_in_the_project_style(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(message), err


def test_building_the_parser_imports_no_torch():
    """--version and --help answer without importing torch (or numpy, Lightning, PIL, tqdm,
    onnx, networkx): every command module imports its heavy modules inside run()."""
    code = ("import sys\n"
            "from packdepth.cli import build_parser, main\n"
            "build_parser().format_help()\n"
            "try:\n    main(['--version'])\nexcept SystemExit:\n    pass\n"
            "heavy = {'torch', 'numpy', 'lightning', 'PIL', 'tqdm', 'cv2', 'av', 'sklearn',\n"
            "         'scipy', 'onnx', 'onnxruntime', 'networkx', 'plyfile', 'matplotlib'}\n"
            "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1] == "[]"


def test_eval_choices_are_the_evaluation_modules_own():
    """eval's --crop and --pred-naming choices, written out so that --help imports no torch."""
    from packdepth.commands.eval import CROP_CHOICES, NAMING_CHOICES
    from packdepth.evaluation.metrics import CROPS
    from packdepth.evaluation.predictions import NAMINGS

    assert (*sorted(CROPS), "none") == CROP_CHOICES
    assert NAMINGS == NAMING_CHOICES


def test_warnings_are_one_line_and_each_shown_once(monkeypatch, capsys):
    """A warning from any module during a command: ``packdepth: warning: <message>``, its
    whitespace folded into one line; no file name, no source line; the same warning again
    (a data set built twice, Python's memory of it reset by a ``catch_warnings``) not again."""
    import packdepth.commands.synth as synth

    def run(args):
        for _ in range(2):
            warnings.warn("first line\n   second line", UserWarning, stacklevel=1)
            with warnings.catch_warnings():  # as torch and Lightning do: resets the memory
                pass
            warnings.warn("first line\n   second line", UserWarning, stacklevel=1)
        warnings.warn("another", UserWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(synth, "run", run)
    assert main(["synth", "unused"]) == 0
    assert capsys.readouterr().err == ("packdepth: warning: first line second line\n"
                                       "packdepth: warning: another\n")


def test_console_script_is_installed():
    script = Path(sys.executable).parent / "packdepth"
    out = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=True)
    assert "Self-supervised monocular depth" in out.stdout


def test_child_processes_run_this_checkouts_packdepth(tmp_path):
    """The commands the tests start in child processes (signals, console script) run the code
    under test, also from a worktree whose virtual environment belongs to another checkout."""
    import packdepth

    out = subprocess.run([sys.executable, "-c", "import packdepth; print(packdepth.__file__)"],
                         cwd=tmp_path, capture_output=True, text=True, check=True)
    assert Path(out.stdout.strip()) == Path(packdepth.__file__)
