"""Helpers shared by the engine tests of both tiers (importable: tests/ holds the root conftest)."""

from __future__ import annotations

from assistant.dialogue.engine import Engine
from assistant.dialogue.state import DiagnosticState
from assistant.dialogue.turn import TurnResult


def talk(engine: Engine, *turns: str, state: DiagnosticState | None = None) -> list[TurnResult]:
    """Each turn through the engine in order, carrying the state; every turn's result."""
    state = state or DiagnosticState()
    results = []
    for turn in turns:
        result = engine.handle(state, turn)
        results.append(result)
        state = result.state
    return results
