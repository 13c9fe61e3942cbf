"""Every count option of every command (frames, batch, stride, threads, ...) is a whole number of
at least 1, refused as the command line is read: ``--max-frames 0`` does not mean "no limit"."""

from __future__ import annotations

import pytest

from packdepth.cli import build_parser
from packdepth.commands._args import positive_int

#: Integer options that are not counts (any whole number is meaningful).
NOT_COUNTS = {("synth", "--seed"), ("serve", "--port")}  # a port: 0 = any free one


def _options(type_):
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    return parser, [(name, action.option_strings[0]) for name, command in commands.items()
                    for action in command._actions if action.type is type_]


def test_every_integer_option_is_a_checked_count():
    _, plain = _options(int)
    assert set(plain) <= NOT_COUNTS, sorted(set(plain) - NOT_COUNTS)
    _, counts = _options(positive_int)
    for expected in [("infer", "--max-frames"), ("infer", "--batch"), ("infer", "--stride"),
                     ("infer", "--ground-window"), ("navmap", "--max-frames"),
                     ("navmap", "--stride"), ("fit", "--stride"), ("export", "--threads"),
                     ("eval-pose", "--snippet"), ("synth", "--frames"), ("demo", "--frames"),
                     ("refine", "--iterations")]:
        assert expected in counts, expected


@pytest.mark.parametrize("value", ["0", "-2", "1.5", "many"])
def test_counts_below_one_or_not_whole_are_refused_with_exit_2(capsys, value):
    parser, counts = _options(positive_int)
    assert len(counts) >= 15
    for command, option in counts:
        with pytest.raises(SystemExit) as info:
            parser.parse_args([command, option, value])  # refused before any other check
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert option in err and "at least 1" in err, (command, option, err)
    assert parser.parse_args(["infer", "m", "x", "--out", "o", "--max-frames", "3"]
                             ).max_frames == 3
