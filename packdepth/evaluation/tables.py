"""Text and markdown tables of depth metrics (``evaluation.metrics``) for reports and benchmarks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from packdepth.evaluation.metrics import METRIC_NAMES


def format_table(metrics: Mapping[str, float], protocol_line: str) -> str:
    """A plain-text table of the seven metrics preceded by the protocol line."""
    head = " | ".join(f"{name:>8}" for name in METRIC_NAMES)
    row = " | ".join(f"{metrics[name]:8.4f}" for name in METRIC_NAMES)
    lines = [f"protocol: {protocol_line}", head, row]
    if "ratio_median" in metrics:
        lines.append(
            f"scale ratio median(gt)/median(pred): median {metrics['ratio_median']:.4g}, "
            f"std/median {metrics['ratio_rel_std']:.4g}"
        )
    return "\n".join(lines)


def markdown_table(
    rows: Mapping[str, Mapping[str, float]],
    columns: Sequence[str] = METRIC_NAMES,
    headers: Sequence[str] | None = None,
) -> str:
    """A markdown table: one row per label, the ``columns`` of its metrics (3 decimals; a dash
    where a row lacks one), headed by ``headers`` (default: the column names)."""
    head = ["prediction", *(headers or columns)]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for label, m in rows.items():
        values = [f"{m[c]:.3f}" if c in m else "–" for c in columns]
        lines.append(f"| {label} | " + " | ".join(values) + " |")
    return "\n".join(lines)
