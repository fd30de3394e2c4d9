"""scripts/bench_http.py runs end to end and prints its figures.

Only that it works is checked (exit status, labels, JSON keys, the server gone afterwards): the
figures depend on the machine and are read by people, never asserted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.settings import REPO_ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

TIME_LIMIT_S = 200  # start-up (index already built by the test fixtures) + a 60 s bound


def test_bench_http_tiny_run() -> None:
    completed = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "bench_http.py"),
            *("--sessions", "5", "--rounds", "1", "--solo-rounds", "2", "--max-seconds", "60"),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
        cwd=REPO_ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    report = completed.stderr
    for label in (
        "Aiguillage HTTP benchmark",
        "server ready in",
        "echo (baseline) @ 1 concurrent",
        "turn @ 1 concurrent",
        "echo (baseline) @ 5 concurrent",
        "turn @ 5 concurrent",
        "p50 ms",
        "p95 ms",
        "req/s",
        "ratio turn / echo (same run)",
        "total benchmark time",
    ):
        assert label in report, label
    figures = json.loads(completed.stdout)
    assert figures["errors"] == 0
    assert set(figures["levels"]) == {"1", "5"}
    for level in ("1", "5"):
        for phase in ("echo", "turn"):
            assert {"p50_ms", "p95_ms", "throughput_rps", "n"} <= set(
                figures["levels"][level][phase]
            )
            assert figures["levels"][level][phase]["n"] > 0
        assert {"p50", "p95", "throughput"} <= set(figures["ratios"][level])
    assert figures["server"]["exit_status"] is not None  # stopped by the script itself
    with pytest.raises(ProcessLookupError):
        os.kill(figures["server"]["pid"], 0)
