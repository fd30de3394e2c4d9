"""Meta-tests of the diagnostic script (knowledge/diagnostic/script.yaml): every question can
be asked, every vocabulary value can be filled, and every branch can be reached."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.dialogue.state import DiagnosticState
from assistant.errors import DiagnosticScriptError
from assistant.runtime import Runtime
from assistant.settings import REPO_ROOT
from assistant.understanding.script import load_script
from assistant.vocabulary import NEEDS, PROFILES, STAGES

SCRIPT = load_script(REPO_ROOT / "knowledge" / "diagnostic" / "script.yaml")


@pytest.mark.parametrize(
    ("slot", "values"), [("stage", STAGES), ("profile", PROFILES), ("needs", NEEDS)]
)
def test_every_vocabulary_value_can_be_filled_by_words(slot: str, values: tuple[str, ...]) -> None:
    definition = SCRIPT.slots[slot]
    for value in values:
        matcher = definition.values.get(value)
        assert matcher is not None, f"{slot}: no keywords for '{value}'"
        assert matcher.keywords or matcher.strong_keywords or matcher.patterns


@pytest.mark.parametrize("slot", ["stage", "profile"])
def test_every_value_has_a_quick_reply(slot: str) -> None:
    offered = {reply.value for reply in SCRIPT.slots[slot].quick_replies}
    assert offered == set(SCRIPT.slots[slot].values)


def test_every_quick_reply_fills_its_slot(runtime: Runtime) -> None:
    engine = runtime.engine
    for slot in ("stage", "profile", "needs"):
        for reply in SCRIPT.slots[slot].quick_replies:
            state = DiagnosticState(last_question=slot)
            filled = engine.handle(state, reply.label).state
            got = filled.needs if slot == "needs" else [getattr(filled, slot)]
            assert reply.value in got, (slot, reply.label)


def test_every_question_in_order_and_branches_is_asked_somewhere(runtime: Runtime) -> None:
    engine = runtime.engine
    asked: set[str] = set()
    starts = [DiagnosticState()] + [
        DiagnosticState(profile=p, stage=s, departement="23", region="75", needs=["financement"])
        for p in PROFILES
        for s in STAGES
    ]
    for state in starts:
        # Answer "je ne sais pas" to everything: the engine walks the whole script.
        for _ in range(12):
            turn = engine.handle(state, "je ne sais pas")
            state = turn.state
            if state.last_question:
                asked.add(state.last_question)
    expected = set(SCRIPT.order) | {s for b in SCRIPT.branches for s in b.ask}
    assert expected <= asked


def test_an_invalid_script_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    text = (REPO_ROOT / "knowledge" / "diagnostic" / "script.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "script.yaml"
    broken.write_text(text.replace("value: emergence}", "value: emergent}", 1), encoding="utf-8")
    with pytest.raises(DiagnosticScriptError, match="emergent"):
        load_script(broken)
