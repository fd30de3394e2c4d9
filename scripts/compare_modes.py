"""Compare the deterministic and the LLM modes on the project's own questions and scenarios.

Usage (with AIGUILLAGE_LLM_* set, see README):
    python scripts/compare_modes.py [--questions PATH] [--scenarios DIR] [--limit N]
                                    [--scenario-limit N] [--json]

For each mode, on the same index: the share of in-scope questions of tests/eval/questions.yaml
answered (not declined) with every `must_contain` word, the share of out-of-scope questions
declined, the share of scenarios passed, median and 95th-percentile latencies, and in LLM mode
how often the model's output was used or fell back (and why), counted from the log records'
`llm_outcome` (reason codes only). The first run builds the search index under var/.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from assistant.dialogue.scenarios import collect, load_scenario, run_scenario
from assistant.runtime import Runtime
from assistant.search.embeddings import E5Embedder, Embedder
from assistant.settings import REPO_ROOT, Settings
from assistant.text import fold
from connectors.cli.commands import ensure_index

DEFAULT_QUESTIONS = REPO_ROOT / "tests" / "eval" / "questions.yaml"
DEFAULT_SCENARIOS = REPO_ROOT / "tests" / "scenarios"
MODES = ("deterministic", "llm")


class OutcomeCounter(logging.Handler):
    """Counts the `llm_outcome` codes the LLM modules attach to their log records."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        outcome = getattr(record, "llm_outcome", None)
        if outcome:
            self.counts[str(outcome)] += 1


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def _summary(latencies: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
    }


def evaluate(
    runtime: Runtime, eval_set: dict[str, Any], scenario_paths: list[Path]
) -> dict[str, Any]:
    hits, answer_times = 0, []
    questions = eval_set["questions"]
    for item in questions:
        started = time.perf_counter()
        answer = runtime.answerer.answer(item["question"])
        answer_times.append(time.perf_counter() - started)
        text = fold(answer.answer)
        if not answer.declined and all(fold(str(w)) in text for w in item["must_contain"]):
            hits += 1
    declined = 0
    for item in eval_set["out_of_scope"]:
        started = time.perf_counter()
        declined += runtime.answerer.answer(item["question"]).declined
        answer_times.append(time.perf_counter() - started)
    passed, scenario_times = 0, []
    for path in scenario_paths:
        started = time.perf_counter()
        passed += run_scenario(runtime.engine, load_scenario(path)).passed
        scenario_times.append(time.perf_counter() - started)
    return {
        "questions": len(questions),
        "hit_rate": hits / len(questions) if questions else 0.0,
        "out_of_scope": len(eval_set["out_of_scope"]),
        "declined_rate": declined / len(eval_set["out_of_scope"])
        if eval_set["out_of_scope"]
        else 0.0,
        "answer_latency": _summary(answer_times),
        "scenarios": len(scenario_paths),
        "scenario_pass_rate": passed / len(scenario_paths) if scenario_paths else 0.0,
        "scenario_latency": _summary(scenario_times),
    }


def compare(
    settings: Settings,
    questions: Path = DEFAULT_QUESTIONS,
    scenarios: Path = DEFAULT_SCENARIOS,
    limit: int | None = None,
    scenario_limit: int | None = None,
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    data = yaml.safe_load(questions.read_text(encoding="utf-8"))
    eval_set = {
        "questions": data.get("questions", [])[:limit],
        "out_of_scope": data.get("out_of_scope", [])[:limit],
    }
    scenario_paths = collect([scenarios])[:scenario_limit]
    shared = embedder or E5Embedder()  # one model in memory for both modes
    runtimes = {
        "deterministic": Runtime(settings.model_copy(update={"llm_provider": "none"}), shared),
        "llm": Runtime(settings, shared),
    }
    ensure_index(runtimes["deterministic"])
    counter = OutcomeCounter()
    logger = logging.getLogger("assistant")
    logger.addHandler(counter)
    previous_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        results = {mode: evaluate(rt, eval_set, scenario_paths) for mode, rt in runtimes.items()}
    finally:
        logger.removeHandler(counter)
        logger.setLevel(previous_level)
    results["llm"]["outcomes"] = dict(sorted(counter.counts.items()))
    results["endpoint"] = {
        "provider": settings.llm_provider,
        "model": settings.llm_model,
        "base_url": settings.llm_base_url,
    }
    return results


def render(results: dict[str, Any]) -> str:
    det, llm = results["deterministic"], results["llm"]
    rows = [
        ("", "deterministic", "llm"),
        (
            f"answer hit rate (n={det['questions']})",
            f"{det['hit_rate']:.1%}",
            f"{llm['hit_rate']:.1%}",
        ),
        (
            f"out-of-scope declined (n={det['out_of_scope']})",
            f"{det['declined_rate']:.1%}",
            f"{llm['declined_rate']:.1%}",
        ),
        (
            "answer latency p50 / p95 (ms)",
            f"{det['answer_latency']['p50_ms']:.0f} / {det['answer_latency']['p95_ms']:.0f}",
            f"{llm['answer_latency']['p50_ms']:.0f} / {llm['answer_latency']['p95_ms']:.0f}",
        ),
        (
            f"scenarios passed (n={det['scenarios']})",
            f"{det['scenario_pass_rate']:.1%}",
            f"{llm['scenario_pass_rate']:.1%}",
        ),
        (
            "scenario latency p50 / p95 (ms)",
            f"{det['scenario_latency']['p50_ms']:.0f} / {det['scenario_latency']['p95_ms']:.0f}",
            f"{llm['scenario_latency']['p50_ms']:.0f} / {llm['scenario_latency']['p95_ms']:.0f}",
        ),
    ]
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{r[0]:<{width}}{r[1]:>16}{r[2]:>16}" for r in rows]
    endpoint = results["endpoint"]
    lines.insert(0, f"LLM: {endpoint['provider']} {endpoint['model']} at {endpoint['base_url']}")
    outcomes = ", ".join(f"{k}={v}" for k, v in llm["outcomes"].items()) or "none"
    lines.append(f"LLM outcomes: {outcomes}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, embedder: Embedder | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--scenarios", type=Path, default=DEFAULT_SCENARIOS)
    parser.add_argument("--limit", type=int, default=None, help="first N questions of each set")
    parser.add_argument("--scenario-limit", type=int, default=None, help="first N scenarios")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    settings = Settings()
    if settings.llm_provider == "none":
        sys.stderr.write(
            "No LLM configured: set AIGUILLAGE_LLM_PROVIDER, AIGUILLAGE_LLM_MODEL and "
            "AIGUILLAGE_LLM_BASE_URL (see README), then check with `aiguillage doctor`.\n"
        )
        return 2
    results = compare(
        settings, args.questions, args.scenarios, args.limit, args.scenario_limit, embedder
    )
    sys.stdout.write((json.dumps(results, indent=2) if args.json else render(results)) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
