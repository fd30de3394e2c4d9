"""Every scenario of tests/scenarios runs in CI, each as its own test (PRODUCT.md format)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.dialogue.scenarios import collect, load_scenario, run_scenario
from assistant.runtime import Runtime

SCENARIOS = collect([Path(__file__).parent.parent / "scenarios"])


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(runtime: Runtime, path: Path) -> None:
    result = run_scenario(runtime.engine, load_scenario(path))
    assert result.passed, "\n".join(result.failures)
