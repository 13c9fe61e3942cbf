"""Put a trained model's depth network into the package: float16 safetensors + MODEL_CARD.md.

    .venv/bin/python bench/ship_model.py runs/streets --card card.json  # packdepth/weights/streets

MODEL is any packdepth model folder, run folder or model file; only its depth network is shipped
(no pose net), its floating tensors stored as float16 (half the size; ``load_model`` copies them
into the float32 network), its config and facts (``packdepth.config``/``packdepth.info``) kept,
with ``stored_dtype: float16`` added. Refused when the file would exceed
``packdepth.weights.SIZE_LIMIT``. The card is written from ``--card`` facts (JSON):

    {"training_data": "what it saw", "steps": 20000, "minutes": 120,
     "recipe": "the command that trained it",
     "scores": [{"title": "...", "protocol": "one line", "columns": ["prediction", "abs_rel"],
                 "rows": [["shipped", 0.123]], "command": "optional"},
                "bench/results/fit_kitti/results.json"],      # a bench results file: its report
     "hardware": "optional", "notes": ["optional lines"]}

Both files are written atomically (the facts are checked first: bad facts write nothing); the
script then reloads the shipped file and prints how far its depth is from the float32 network's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import torch

from packdepth.errors import PackdepthError
from packdepth.io.atomic import atomic_path
from packdepth.io.checkpoints import load_model, model_file, read_model_info, save_model
from packdepth.weights import SHIPPED_DIR, SHIPPED_FILE, SIZE_LIMIT

CARD = "MODEL_CARD.md"
REQUIRED = {"training_data": str, "steps": int, "minutes": (int, float), "recipe": str,
            "scores": list}
OPTIONAL = {"title": str, "hardware": str, "notes": list}
SCORE_KEYS = {"title", "protocol", "columns", "rows", "command"}


def read_facts(path: Path) -> dict[str, Any]:
    """The card facts of ``path``, bench results files in ``scores`` replaced by their report.

    Raises:
        PackdepthError: unreadable JSON, a missing, unknown or mistyped key (named).
    """
    try:
        facts = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PackdepthError(f"{path}: not readable card facts ({exc})") from None
    if not isinstance(facts, dict):
        raise PackdepthError(f"{path}: card facts must be a JSON object")
    unknown = set(facts) - set(REQUIRED) - set(OPTIONAL)
    if unknown:
        raise PackdepthError(f"{path}: unknown key {sorted(unknown)[0]!r} (known: "
                             f"{', '.join([*REQUIRED, *OPTIONAL])})")
    for key, kind in {**REQUIRED, **OPTIONAL}.items():
        if key in REQUIRED and key not in facts:
            raise PackdepthError(f"{path}: missing {key!r}")
        if key in facts and not isinstance(facts[key], kind):
            raise PackdepthError(f"{path}: {key!r} has the wrong type "
                                 f"({type(facts[key]).__name__})")
    facts["scores"] = [_score(path, s) for s in facts["scores"]]
    return facts


def _score(path: Path, score: Any) -> dict[str, Any]:
    """One ``scores`` entry as a report (title, protocol, columns, rows[, command])."""
    if isinstance(score, str):  # a bench results file, relative to the facts file
        results = (path.parent / score) if not Path(score).is_absolute() else Path(score)
        try:
            score = json.loads(results.read_text())["report"]
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise PackdepthError(f"{results}: not a bench results file ({exc})") from None
        score = {k: v for k, v in score.items() if k in SCORE_KEYS}
    if not isinstance(score, dict) or not {"title", "protocol", "columns", "rows"} <= set(score):
        raise PackdepthError(f"{path}: each score needs title, protocol, columns and rows")
    if any(len(row) != len(score["columns"]) for row in score["rows"]):
        raise PackdepthError(f"{path}: score {score['title']!r}: a row's length differs from "
                             "its columns'")
    return score


def _cell(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def card_text(facts: dict[str, Any], file: Path, config: dict, params: int) -> str:
    """MODEL_CARD.md: what the shipped file is (name, bytes, SHA-256, dtype, network), how it
    was trained, and its scores, each with its protocol line."""
    digest = hashlib.sha256(file.read_bytes()).hexdigest()
    lines = [f"# {facts.get('title', 'The shipped packdepth depth model')}", "",
             "Load it as `packdepth.load()` / `packdepth.load(\"shipped\")`, or pass `shipped` "
             "wherever a command takes a MODEL.", "",
             "| file | bytes | SHA-256 | stored as | network |", "|---|---|---|---|---|",
             f"| {file.name} | {file.stat().st_size} | {digest} | float16 | "
             f"{json.dumps(config)}, {params / 1e6:.1f}M parameters |", "",
             "## Training", "",
             f"- data: {facts['training_data']}",
             f"- steps: {facts['steps']}, {facts['minutes']:g} minutes"
             + (f" on {facts['hardware']}" if "hardware" in facts else ""),
             f"- recipe: `{facts['recipe']}`", "", "## Scores"]
    for score in facts["scores"]:
        lines += ["", f"### {score['title']}", "", f"Protocol: {score['protocol']}", ""]
        if score.get("command"):
            lines += [f"Command: `{score['command']}`", ""]
        lines += ["| " + " | ".join(map(str, score["columns"])) + " |",
                  "|---" * len(score["columns"]) + "|"]
        lines += ["| " + " | ".join(map(_cell, row)) + " |" for row in score["rows"]]
    if facts.get("notes"):
        lines += ["", "## Notes", "", *(f"- {note}" for note in facts["notes"])]
    return "\n".join(lines) + "\n"


def ship(model: Path, facts: dict[str, Any], out: Path) -> tuple[Path, float]:
    """Write ``out/depth_net.safetensors`` (float16) and ``out/MODEL_CARD.md``; returns the file
    and the largest relative difference of the reloaded network's inverse depth from the
    float32 one's on a random image at the recorded size.

    Raises:
        PackdepthError: not a packdepth depth model, or too large to ship.
    """
    source = model_file(model)
    net = load_model(source, kind="depth")
    config, info = read_model_info(source)
    floats = sum(t.numel() * 2 if t.is_floating_point() else t.numel() * t.element_size()
                 for t in net.state_dict().values())
    too_large = [k for k, t in net.state_dict().items()
                 if t.is_floating_point() and t.abs().max() > torch.finfo(torch.float16).max]
    if too_large:
        raise PackdepthError(f"{source}: {too_large[0]} holds values beyond float16's range")
    if floats > SIZE_LIMIT:
        raise PackdepthError(f"{source}: {floats / 1e6:.1f} MB in float16, over the "
                             f"{SIZE_LIMIT / 1e6:g} MB the package may hold")
    file = out / SHIPPED_FILE
    with atomic_path(out / CARD) as card:  # the card appears only if the model was written
        save_model(net, file, config, {**info, "stored_dtype": "float16"}, dtype=torch.float16)
        params = sum(p.numel() for p in net.parameters())
        card.write_text(card_text(facts, file, config, params))
    shipped = load_model(file, kind="depth")
    h, w = int(info.get("height", 96)), int(info.get("width", 320))
    image = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = net(image)[0], shipped(image)[0]
    return file, float(((a - b).abs() / a.abs()).max())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path, help="packdepth model folder, run folder or file")
    ap.add_argument("--card", type=Path, required=True, help="the card's facts (JSON)")
    ap.add_argument("--out", type=Path, default=SHIPPED_DIR, help=f"default {SHIPPED_DIR}")
    args = ap.parse_args()
    try:
        facts = read_facts(args.card)
        file, error = ship(args.model, facts, args.out)
    except PackdepthError as exc:
        print(f"ship_model: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {file} ({file.stat().st_size / 1e6:.1f} MB, float16) and "
          f"{args.out / CARD}; reloaded depth within {error:.2e} (relative) of float32")
    return 0


if __name__ == "__main__":
    sys.exit(main())
