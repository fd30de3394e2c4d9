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
            *("--solo-rounds", "2", "--max-seconds", "60"),
            # The replicas' part (a Chroma server, 1 and 2 workers) costs a minute more.
            "--no-replicas",
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
        "ready in",
        "echo (baseline) @ 1 concurrent",
        "diagnostic turn @ 1 concurrent",
        "question turn @ 1 concurrent",
        "p50 ms",
        "p95 ms",
        "req/s",
        "ratio to echo (same server, back to back)",
        "resident memory (RSS) per serving process",
        "goals of issue 12",
        "total benchmark time",
    ):
        assert label in report, label
    figures = json.loads(completed.stdout)
    assert figures["errors"] == 0
    assert figures["workers"] == {}  # --no-replicas
    phases = {f["name"]: f for f in figures["solo"]}
    assert set(phases) == {"echo", "diagnostic", "question"}
    for phase in phases.values():
        assert {"p50_ms", "p95_ms", "throughput_rps", "n"} <= set(phase)
        assert phase["n"] > 0 and phase["concurrency"] == 1
    # The turns did the real work: every diagnostic round oriented, every question answered.
    for name in ("diagnostic", "question"):
        assert phases[name]["rounds_done_right"] == phases[name]["rounds"] > 0
    assert {"diagnostic_p95_over_echo", "question_p95_ms", "rss_mb_per_worker"} <= set(
        figures["goals"]
    )
    assert len(figures["rss_mb"]["embedded-1"]) == 1
    (server,) = figures["servers"]
    assert server["exit_status"] is not None  # stopped by the script itself
    with pytest.raises(ProcessLookupError):
        os.kill(server["pid"], 0)
