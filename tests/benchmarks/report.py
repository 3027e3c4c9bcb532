"""docs/benchmarks.md: each benchmark owns one `## ` section and rewrites only that."""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

REPORT = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADER = "# Benchmarks\n\nFigures measured on the project's 2-core development machines.\n"


def measured_on() -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Measured {when} on {os.cpu_count()} cores, Python {sys.version.split()[0]}"


def quantile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def write_section(heading: str, body: str) -> None:
    """Replace (or append) the section `## heading` of docs/benchmarks.md."""
    REPORT.parent.mkdir(exist_ok=True)
    text = REPORT.read_text() if REPORT.exists() else HEADER
    marker = f"## {heading}"
    start = text.find(marker)
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + (text[end + 1 :] if end >= 0 else "")
    REPORT.write_text(text.rstrip() + "\n\n" + marker + "\n\n" + body.strip() + "\n")
