"""The benchmark scripts run and print their figures.

Only that they work is checked (exit status, labels, JSON keys): a benchmark's figures depend on
the machine and are read by people, never asserted. Each script runs once in its --smoke mode
with --json, which prints the human report on stderr and the figures as JSON on stdout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from assistant.settings import REPO_ROOT

pytestmark = pytest.mark.e2e

TIME_LIMIT_S = 300  # per script; a smoke run takes well under a minute on an idle machine


def run_script(name: str, *args: str) -> tuple[dict[str, Any], str]:
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT_S,
        cwd=REPO_ROOT,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    figures = json.loads(completed.stdout)
    assert isinstance(figures, dict)
    return figures, completed.stderr


def test_bench_retrieval_smoke() -> None:
    figures, report = run_script("bench_retrieval.py", "--smoke", "--json")
    for label in (
        "(a) latency over the question set",
        "embed_query (baseline: bare dense query embedding)",
        "bm25 (baseline: bare lexical lookup",
        "hybrid search",
        "ask (Answerer.answer)",
        "p50 ms",
        "p95 ms",
        "(b) index build",
        "cold build (fresh dir, empty cache)",
        "embedded passages/s",
        "warm build (fresh dir, cache filled)",
        "(c) corpus grown 10x",
        "build, machinery only",
        "model throughput on",
        "projected full cold build",
        "[projected, not measured]",
        "(d) incremental re-index",
        "incremental re-index",
        "full rebuild (force=True)",
        "full / incremental",
        "(e) 300 passages (synthetic)",
        "raw ChromaDB query (vector given, k=40) (baseline)",
        "raw bm25s retrieve (terms given, k=40) (baseline)",
        "hybrid search, territory filter",
        "total benchmark time",
    ):
        assert label in report, label
    assert figures["mode"] == "smoke"
    scale = figures["scale"]
    assert scale["passages"] >= 300 and scale["embedded_during_build"] == 0
    assert scale["open_s"] > 0
    for key in ("raw_chroma", "raw_bm25", "hybrid_search", "hybrid_filtered"):
        assert scale["latency"][key]["n"] > 0
    assert figures["build"]["cold_embedded"] == figures["corpus"]["passages"]
    assert figures["build"]["warm_embedded"] == 0
    for key in ("embed_query", "bm25", "hybrid_search", "ask"):
        assert {"p50_ms", "p95_ms"} <= set(figures["latency_shipped"][key])
    grown = figures["grown"]["10x"]
    assert grown["embedded_during_build"] == 0  # every synthetic vector came from the seeded cache
    assert grown["projected_cold_s"] > grown["machinery_s"]
    assert {"p50_ms", "p95_ms"} <= set(grown["latency"]["ask"])
    assert "100x" not in figures["grown"]
    for corpus in ("shipped", "10x"):
        assert figures["reindex"][corpus]["incremental_embedded"] >= 1
        assert figures["reindex"][corpus]["full_over_incremental"] > 0


def test_bench_engine_smoke() -> None:
    figures, report = run_script("bench_engine.py", "--smoke", "--json")
    for label in (
        "Extractor.extract (baseline)",
        "Engine.handle, all turns",
        "Conversation.send (engine + SQLite commit)",
        "p50 ms",
        "p95 ms",
        "scenario pass rate:",
        "total benchmark time",
    ):
        assert label in report, label
    for key in ("extract", "handle", "send"):
        assert figures["latency"][key]["n"] > 0
        assert {"p50_ms", "p95_ms"} <= set(figures["latency"][key])
    scenarios = figures["scenarios"]
    assert scenarios["passed"] + scenarios["failed"] == 3
    assert len(scenarios["failing"]) == scenarios["failed"]


def test_bench_documents_smoke() -> None:
    figures, report = run_script("bench_documents.py", "--smoke", "--json")
    for label in (
        "(a) knowledge add of a 3-page PDF",
        "extract + store",
        "(b) the same file added again",
        "(c) the document changed: incremental re-index vs full rebuild",
        "incremental re-index",
        "full rebuild (force=True)",
        "full / incremental",
        "full rebuild, empty cache",
        "[projected, not measured",
        "total benchmark time",
    ):
        assert label in report, label
    assert figures["mode"] == "smoke"
    # Adding the document embedded its passages only; the cards came from the cache or were
    # embedded by the first build, never again.
    assert figures["add"]["incremental_embedded"] == figures["document_passages"] > 0
    assert figures["again"]["status"] == "unchanged" and figures["again"]["rebuilt"] is False
    reindex = figures["reindex"]
    assert reindex["incremental_embedded"] >= 1
    assert reindex["full_s"] > 0 and reindex["full_over_incremental"] > 0
    assert reindex["projected_cold_full_s"] > reindex["incremental_s"]


def test_bench_card_recall_smoke(monkeypatch: pytest.MonkeyPatch) -> None:
    # the integration tier's index (built before the tier runs), not the user's
    monkeypatch.setenv("AIGUILLAGE_DATA_DIR", str(REPO_ROOT / "var" / "test-data"))
    figures, _ = run_script("bench_card_recall.py", "--smoke", "--json")
    assert figures["questions"] == 20
    for key in ("retrieval_first", "retrieval_top5"):
        assert 0.0 <= figures[key] <= 1.0
    answered = [v for k, v in figures.items() if k.startswith("answer_")]
    assert answered and abs(sum(answered) - 1.0) < 0.01  # every question has one outcome
