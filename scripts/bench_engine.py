"""Benchmark the conversation engine in process, and report the scenario pass rate.

Usage:
    python scripts/bench_engine.py [--repeat N] [--smoke] [--json]

Prints figures only; nothing here asserts a time. Over the user turns of tests/scenarios/*.yaml
(each scenario replayed from a fresh state, the whole set repeated 3 times after one untimed
warm-up pass), per-turn latency p50/p95 of:

- ``Extractor.extract`` alone: the baseline, same message, same pending question;
- ``Engine.handle``: extraction, state update, retrieval and answer when the turn asks a
  question, orientation when the diagnostic is complete, reply composition;
- ``Conversation.send``: the engine plus loading and committing the session in SQLite.

The three are interleaved turn by turn, so a slow patch of the machine hits them alike. Then the
scenario pass rate (``run_all``) and every failing scenario with its failures.

The search index and the session database live in a temporary directory; the index is built
with the vectors already computed in the repository's embedding caches (read only) when there
are any, otherwise by the model. ``--smoke`` replays 3 scenarios once and indexes only the cards
the caches cover (at least 5), to prove the script works; ``--json`` prints the figures as one
JSON document on stdout (progress goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from benchlib import load, stats  # scripts/ is on sys.path when run

from assistant.dialogue.scenarios import Scenario, collect, load_scenario, run_all
from assistant.dialogue.state import DiagnosticState
from assistant.errors import SessionNotFoundError
from assistant.runtime import Runtime
from assistant.search.cards import Card
from assistant.search.chunks import chunk_card
from assistant.search.embeddings import EmbeddingCache, Vector
from assistant.search.index import IndexBuilder
from assistant.settings import REPO_ROOT, Settings

SCENARIOS_DIR = REPO_ROOT / "tests" / "scenarios"
HOLDOUT_DIR = REPO_ROOT / "tests" / "scenarios-holdout"
# Embedding caches that may already hold the shipped passages' vectors; opened read-only.
SOURCE_CACHES = (
    REPO_ROOT / "var" / "index" / "embeddings.sqlite3",
    REPO_ROOT / "var" / "test-data" / "index" / "embeddings.sqlite3",
)


def read_vectors(paths: Sequence[Path]) -> dict[str, Vector]:
    """Every vector of the existing caches, opened read-only (never written)."""
    vectors: dict[str, Vector] = {}
    for path in paths:
        if not path.is_file():
            continue
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for key, blob in db.execute("SELECT key, vector FROM vectors"):
                vectors[key] = np.frombuffer(blob, dtype=np.float32).copy()
        except sqlite3.Error:
            continue
        finally:
            db.close()
    return vectors


def covered(card: Card, model: str, vectors: dict[str, Vector]) -> bool:
    return all(EmbeddingCache.key(model, c.search_text) in vectors for c in chunk_card(card))


class Out:
    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, text: str = "") -> None:
        print(text, file=sys.stderr if self.as_json else sys.stdout, flush=True)


def prepare_index(runtime: Runtime, smoke: bool, out: Out) -> dict[str, Any]:
    cards = list(runtime.cards.values())
    model = runtime.embedder.name
    vectors = read_vectors(SOURCE_CACHES)
    if smoke:
        chosen = [c for c in cards if covered(c, model, vectors)]
        if len(chosen) < 5:
            chosen += [c for c in cards if c not in chosen][: 5 - len(chosen)]
        cards = chosen
    cache = EmbeddingCache(runtime.settings.index_dir / "embeddings.sqlite3")
    try:
        cache.put_many(vectors)
    finally:
        cache.close()
    report = IndexBuilder(runtime.settings.index_dir, runtime.embedder).build(cards)
    out(
        f"index: {len(cards)} cards, {report.chunks_total} passages, built in "
        f"{report.seconds:.1f} s ({report.chunks_embedded} embedded by the model, the rest from "
        f"{len(vectors)} cached vectors read from the repository)"
    )
    return {
        "cards": len(cards),
        "passages": report.chunks_total,
        "embedded": report.chunks_embedded,
        "seconds": report.seconds,
    }


def replay(runtime: Runtime, scenarios: Sequence[Scenario], timed: bool) -> dict[str, list[float]]:
    """One pass over every scenario's turns; returns durations per measured operation."""
    engine = runtime.engine
    conversation = runtime.conversation
    samples: dict[str, list[float]] = {
        "extract": [],
        "handle": [],
        "handle_question": [],
        "handle_other": [],
        "send": [],
    }
    for scenario in scenarios:
        state = DiagnosticState()
        session_id, _ = conversation.start()
        for turn in scenario.turns:
            pending = state.last_question
            t0 = time.perf_counter()
            extraction = engine.extractor.extract(turn, pending)
            t1 = time.perf_counter()
            result = engine.handle(state, turn)
            t2 = time.perf_counter()
            try:
                conversation.send(session_id, turn)
            except SessionNotFoundError:  # the scenario said "forget me"
                session_id, _ = conversation.start()
                t2 = time.perf_counter()
                conversation.send(session_id, turn)
            t3 = time.perf_counter()
            state = result.state
            if timed:
                samples["extract"].append(t1 - t0)
                samples["handle"].append(t2 - t1)
                kind = "handle_question" if extraction.question else "handle_other"
                samples[kind].append(t2 - t1)
                samples["send"].append(t3 - t2)
            if result.action == "forget":
                session_id, _ = conversation.start()
    return samples


LABELS: tuple[tuple[str, str], ...] = (
    ("extract", "Extractor.extract (baseline)"),
    ("handle", "Engine.handle, all turns"),
    ("handle_question", "  turns asking a question (retrieval + answer)"),
    ("handle_other", "  other turns"),
    ("send", "Conversation.send (engine + SQLite commit)"),
)


def run(args: argparse.Namespace, out: Out) -> dict[str, Any]:
    started = time.perf_counter()
    figures: dict[str, Any] = {"mode": "smoke" if args.smoke else "full"}
    paths = collect([SCENARIOS_DIR])
    if args.smoke:
        paths = paths[:3]
    repeat = 1 if args.smoke else args.repeat
    scenarios = [load_scenario(p) for p in paths]
    n_turns = sum(len(s.turns) for s in scenarios)
    out(
        f"Aiguillage engine benchmark ({figures['mode']}): {len(scenarios)} scenarios, "
        f"{n_turns} user turns, repeated {repeat}x after one warm-up pass\n{load()}"
    )
    with tempfile.TemporaryDirectory(prefix="aiguillage-bench-engine-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(
            data_dir=data_dir, database_url=f"sqlite:///{data_dir / 'sessions.sqlite3'}"
        )
        runtime = Runtime(settings)
        try:
            figures["index"] = prepare_index(runtime, args.smoke, out)
            t0 = time.perf_counter()
            replay(runtime, scenarios, timed=False)
            figures["warmup_s"] = time.perf_counter() - t0
            out(f"warm-up pass (model, index, territories loaded): {figures['warmup_s']:.1f} s")
            samples: dict[str, list[float]] = {}
            for _ in range(repeat):
                for key, values in replay(runtime, scenarios, timed=True).items():
                    samples.setdefault(key, []).extend(values)
            latency = {key: stats(values) for key, values in samples.items()}
            figures["latency"] = latency
            out(f"\nper-turn latency ({load()})")
            out(f"  {'operation':<48} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
            for key, label in LABELS:
                f = latency[key]
                out(
                    f"  {label:<48} {f['n']:5d} {f['p50_ms']:8.2f} {f['p95_ms']:8.2f} "
                    f"{f['mean_ms']:8.2f}"
                )
            handle, send, extract = latency["handle"], latency["send"], latency["extract"]
            out(
                f"  handle / extract: p50 x{handle['p50_ms'] / max(extract['p50_ms'], 1e-9):.1f}; "
                f"send - handle (store load + commit): p50 "
                f"{send['p50_ms'] - handle['p50_ms']:.2f} ms, p95 "
                f"{send['p95_ms'] - handle['p95_ms']:.2f} ms"
            )

            t0 = time.perf_counter()
            report = run_all(runtime.engine, list(paths))
            figures["scenarios_s"] = time.perf_counter() - t0
            total = report.passed + report.failed
            figures["scenarios"] = {
                "passed": report.passed,
                "failed": report.failed,
                "pass_rate": report.passed / total if total else 0.0,
                "failing": [
                    {"name": r.name, "path": Path(r.path).name, "failures": r.failures}
                    for r in report.scenarios
                    if not r.passed
                ],
            }
            out(
                f"\nscenario pass rate: {report.passed}/{total} "
                f"({figures['scenarios']['pass_rate']:.0%}) in {figures['scenarios_s']:.1f} s"
            )
            if figures["scenarios"]["failing"]:
                out("failing scenarios:")
            for failing in figures["scenarios"]["failing"]:
                out(f"  - {failing['path']}: {failing['name']}")
                for failure in failing["failures"]:
                    out(f"      {failure}")
            holdout = sorted(HOLDOUT_DIR.glob("*.yaml")) if not args.smoke else []
            if holdout:
                # Written apart from the script's tuning: the generalisation figure.
                held = run_all(runtime.engine, holdout)
                held_total = held.passed + held.failed
                figures["holdout"] = {
                    "passed": held.passed,
                    "failed": held.failed,
                    "pass_rate": held.passed / held_total,
                    "failing": [Path(r.path).name for r in held.scenarios if not r.passed],
                }
                out(
                    f"held-out scenarios (tests/scenarios-holdout): {held.passed}/{held_total} "
                    f"({figures['holdout']['pass_rate']:.0%}); failing: "
                    f"{', '.join(figures['holdout']['failing']) or 'none'}"
                )
        finally:
            runtime.store.close()
    figures["total_s"] = time.perf_counter() - started
    out(f"\ntotal benchmark time: {figures['total_s']:.0f} s; {load()}")
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=3, help="timed passes (default 3)")
    parser.add_argument(
        "--smoke", action="store_true", help="3 scenarios, one pass, to prove the script works"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    out = Out(args.json)
    figures = run(args, out)
    if args.json:
        print(json.dumps(figures, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
