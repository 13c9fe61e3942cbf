"""One results file per benchmark command, in one shape that `bench/report.py` turns into
docs/benchmarks.md.

A results file is JSON with a ``report`` section (title, the command that reproduces it, the
protocol line, a table, notes, the commit and the machine it ran on) beside the benchmark's own
raw figures. Bench scripts call :func:`save_result`; the commit and machine are read here, so
every figure on the page says where it came from.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packdepth.io.atomic import write_text

ROOT = Path(__file__).resolve().parents[1]


def commit() -> str:
    """The repository's short commit hash, ``+dirty`` when tracked files differ from it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "packdepth")
    return head + ("+dirty" if dirty else "")


def machine() -> dict[str, Any]:
    """CPU model, cores, torch version, load average and (when present) the CUDA device."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {"cpu": cpu, "cores": os.cpu_count(),
                            "load_average": round(os.getloadavg()[0], 2)}
    try:
        import torch

        info["torch"] = torch.__version__
        info["threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return info


def this_command() -> str:
    """The command line that ran this script, from the repository root."""
    script = Path(sys.argv[0]).resolve()
    with contextlib.suppress(ValueError):
        script = script.relative_to(ROOT)
    return shlex.join([".venv/bin/python", str(script), *sys.argv[1:]])


def save_result(
    path: str | os.PathLike,
    *,
    title: str,
    protocol: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    notes: Sequence[str] = (),
    data: dict[str, Any] | None = None,
    command: str | None = None,
) -> None:
    """Write a results file (see the module docstring), atomically.

    Args:
        path: ``bench/results/<benchmark>.json``.
        title: the section heading on the benchmark page.
        protocol: one line: data, metric, crop/caps, scaling, what was held out.
        columns, rows: the table (numbers are rounded on the page, kept whole here).
        notes: short lines printed under the table.
        data: the benchmark's raw figures, kept beside the report.
        command: the command that reproduces the figures; default: this process's.
    """
    report = {
        "title": title, "command": command or this_command(), "protocol": protocol,
        "columns": list(columns), "rows": [list(r) for r in rows], "notes": list(notes),
        "commit": commit(), "machine": machine(),
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    write_text(path, json.dumps({"report": report, **(data or {})}, indent=1, default=float) + "\n")
