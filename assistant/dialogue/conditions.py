"""Conditions of the diagnostic script (branches, inferences, priors, reinterpretations)
tested on a conversation's state."""

from __future__ import annotations

from assistant.dialogue.state import DiagnosticState
from assistant.understanding.script import Condition

__all__ = ["SAID_PLAINLY", "holds"]

# A stage said in so many words (a keyword, even typo'd), not a hint by meaning alone.
SAID_PLAINLY = 1.0


def holds(condition: Condition, state: DiagnosticState) -> bool:
    if condition.profile is not None and state.profile not in condition.profile:
        return False
    if condition.stage is not None and state.stage not in condition.stage:
        return False
    if condition.needs_any is not None and not set(condition.needs_any) & set(state.needs):
        return False
    if condition.employees_at_least is not None and (
        state.employees is None or state.employees < condition.employees_at_least
    ):
        return False
    if condition.stage_said is not None and not any(
        state.evidence.get("stage", {}).get(value, 0.0) > 0 for value in condition.stage_said
    ):
        return False
    if condition.stage_not_said is not None and any(
        state.stage_peak.get(value, 0.0) >= SAID_PLAINLY for value in condition.stage_not_said
    ):
        return False
    if condition.employees_at_most is not None and (
        state.employees is None or state.employees > condition.employees_at_most
    ):
        return False
    return condition.stage_unknown is None or (state.stage is None) == condition.stage_unknown
