"""What every benchmark script shares: the load it ran under and latency summaries."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def load() -> str:
    """The machine's load average: figures taken under load are not comparable across runs."""
    one, five, _ = os.getloadavg()
    return f"load avg {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def stats(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean in milliseconds of durations in seconds."""
    ms = np.asarray(samples, dtype=np.float64) * 1000.0
    if ms.size == 0:
        return {"n": 0, "p50_ms": 0.0, "p95_ms": 0.0, "mean_ms": 0.0}
    p50, p95 = np.percentile(ms, [50, 95])
    return {
        "n": int(ms.size),
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "mean_ms": float(ms.mean()),
    }
