"""Every scenario of tests/scenarios runs in CI, each as its own test (PRODUCT.md format)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.dialogue.scenarios import collect, load_scenario, run_scenario
from assistant.errors import ScenarioError
from assistant.runtime import Runtime

SCENARIOS = collect([Path(__file__).parent.parent / "scenarios"])


def test_there_are_enough_scenarios() -> None:
    assert len(SCENARIOS) >= 40


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_scenario(runtime: Runtime, path: Path) -> None:
    result = run_scenario(runtime.engine, load_scenario(path))
    assert result.passed, "\n".join(result.failures)


def test_a_scenario_may_say_how_the_person_writes(tmp_path: Path) -> None:
    # the outside sets (tests/devsets, tests/holdout) note each person's register
    path = tmp_path / "p.yaml"
    path.write_text(
        'name: "sms"\nregister: sms\nturns: ["bjr on a une asso a Gueret"]\n', encoding="utf-8"
    )
    assert load_scenario(path).writing == "sms"
    path.write_text('name: "x"\nregistre: sms\nturns: ["bjr"]\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match="registre"):
        load_scenario(path)  # an unknown key is still refused
