"""The semantic layer under the rules (assistant/understanding/semantic.py), on the hashed-word
fake embedder: the mechanism, not its accuracy (bench_understanding.py measures that)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.dialogue.engine import Engine
from assistant.dialogue.slots import Understood
from assistant.dialogue.state import DiagnosticState
from assistant.errors import DiagnosticScriptError
from assistant.runtime import Runtime
from assistant.search.fakes import HashEmbedder
from assistant.territory.models import Resolution
from assistant.understanding.extraction import Extraction, Extractor
from assistant.understanding.semantic import SemanticReader, clauses, load_examples

EXAMPLES = Path(__file__).resolve().parents[2] / "knowledge" / "diagnostic" / "examples.yaml"


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> SemanticReader:
    cache = tmp_path_factory.mktemp("semantic") / "embeddings.sqlite3"
    return SemanticReader(HashEmbedder(dim=512), load_examples(EXAMPLES), cache_path=cache)


def test_shipped_examples_cover_every_value() -> None:
    examples = load_examples(EXAMPLES)
    assert len(examples.stage) == 4 and len(examples.profile) == 8
    assert len(examples.needs) == 14 and set(examples.employer) == {"yes", "no"}


def test_an_unknown_value_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "examples.yaml"
    bad.write_text(
        "stage: {lancement: [x]}\nprofile: {}\nneeds: {}\nemployer: {}\n", encoding="utf-8"
    )
    with pytest.raises(DiagnosticScriptError, match="lancement"):
        load_examples(bad)


def test_dictated_text_is_cut_into_clauses() -> None:
    found = clauses("on a une asso depuis dix ans mais la treso est tendue et puis le bureau part")
    assert found == ["on a une asso depuis dix ans", "la treso est tendue", "le bureau part"]


class CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(dim=512)
        self.queries = 0

    def embed_query(self, text: str):  # type: ignore[no-untyped-def]
        self.queries += 1
        return super().embed_query(text)


def test_examples_are_embedded_once_then_read_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "embeddings.sqlite3"
    first, again = CountingEmbedder(), CountingEmbedder()
    _ = SemanticReader(first, load_examples(EXAMPLES), cache_path=cache).tables
    _ = SemanticReader(again, load_examples(EXAMPLES), cache_path=cache).tables
    assert first.queries > 100
    assert again.queries == 0


def test_a_clear_reading_adds_a_need_and_hints_stage_and_profile(reader: SemanticReader) -> None:
    result = reader.refine(
        "on paie deux postes dans l'asso. la trésorerie est tendue", Extraction()
    )
    assert result.needs == ["financement"]
    assert result.hints == {"stage": "consolidation", "profile": "association-employeuse"}
    assert result.evidence == {}  # hints, not evidence
    employs = reader.refine("bonjour. une salariée à mi-temps", Extraction())
    assert employs.employees == 1  # "at least one": the number was not said
    counted = reader.refine("une salariée à mi-temps", Extraction(employees=3))
    assert counted.employees == 3  # the rules' number stands
    volunteers = reader.refine("bonjour. que des bénévoles", Extraction())
    assert volunteers.employees is None  # absence is the rules' to read, not the layer's


def test_a_question_is_left_to_the_rules(reader: SemanticReader) -> None:
    asked = Extraction(question=True)
    assert reader.refine("la trésorerie est tendue ?", asked) == asked


def test_the_sentences_around_a_question_are_read(reader: SemanticReader) -> None:
    # A first message often ends with a question: what it tells still counts.
    told = "on paie deux postes dans l'asso. la trésorerie est tendue. qui peut nous aider ?"
    result = reader.refine(told, Extraction(question=True))
    assert result.needs == ["financement"]
    assert result.hints == {"stage": "consolidation", "profile": "association-employeuse"}


def _engine_with_hint(runtime: Runtime, hint: dict[str, str]) -> Engine:
    def add_hint(message: str, extraction: Extraction) -> Extraction:
        return extraction.model_copy(update={"hints": hint})

    engine = runtime.engine
    extractor = Extractor(runtime.script, runtime.territories, add_hint)
    return Engine(
        engine.script,
        extractor,
        engine.orientation,
        lambda: runtime.answerer,
        runtime.composer,
        runtime.territories,
    )


def test_a_hint_fills_a_slot_nothing_else_spoke_for(runtime: Runtime) -> None:
    engine = _engine_with_hint(runtime, {"profile": "collectivite"})
    turn = engine.handle(DiagnosticState(), "on voudrait faire quelque chose au village")
    assert turn.state.profile == "collectivite"


def test_a_hint_never_overrides_what_the_conversation_said(runtime: Runtime) -> None:
    engine = _engine_with_hint(runtime, {"profile": "collectivite"})
    first = runtime.engine.handle(DiagnosticState(), "nous sommes une association de bénévoles")
    turn = engine.handle(first.state, "on voudrait faire quelque chose au village")
    assert turn.state.profile == "association"


def test_a_short_answer_the_rules_understood_costs_no_model_call(tmp_path: Path) -> None:
    counting = CountingEmbedder()
    reader = SemanticReader(counting, load_examples(EXAMPLES), cache_path=tmp_path / "e.sqlite3")
    _ = reader.tables  # the examples, embedded once
    before = counting.queries
    understood = Extraction(needs=["financement"])
    assert reader.refine("le financement", understood) is understood
    assert counting.queries == before
    # Not understood, or longer: the message is read by meaning.
    reader.refine("le financement", Extraction())
    reader.refine("on cherche surtout des sous pour tenir", understood)
    assert counting.queries > before


def test_a_place_correction_lends_no_guess_to_other_slots(runtime: Runtime) -> None:
    engine = _engine_with_hint(runtime, {"profile": "association"})
    state = runtime.engine.handle(DiagnosticState(), "une recyclerie à Felletin").state
    assert state.departement == "23" and state.profile is None
    turn = engine.handle(state, "ah non pardon, c'est à Aubusson")
    assert turn.state.commune == "Aubusson" and turn.state.profile is None


def test_a_place_put_right_is_not_read_for_needs(reader: SemanticReader) -> None:
    # "pardon on est pas à Saint-Flour, on est à Murat": the needs classifier read "local" in
    # "on est à" (met as a user); a place corrected says where, not what is needed.
    told = "pardon, on paie deux postes, la trésorerie est tendue"
    assert reader.refine(told, Extraction()).needs == ["financement"]
    murat = Resolution(status="found", query="Murat", matched="Murat", departement="15")
    corrected = reader.refine(told, Extraction(correction=True, territory=murat))
    assert corrected.needs == []
    named = reader.refine(told, Extraction(correction=True, territory=murat, needs=["local"]))
    assert named.needs == ["local"]  # what the rules read stands


def test_a_value_moved_and_moved_back_within_a_turn_is_not_echoed() -> None:
    before = DiagnosticState(profile="association-employeuse", stage="consolidation")
    after = before.model_copy(update={"stage": "developpement"})
    understood = Understood({})
    understood.add("profile", "association")
    understood.add("profile", "association employeuse")  # back where it was
    understood.add("stage", "développement")
    understood.keep_changes(before, after, ["stage", "profile"])
    assert understood.texts() == ["développement"]
