"""Questions declined by their meaning (declines.yaml): the classifier's wiring on the fake
embedder. The real model's readings are checked in tests/integration/test_meaning_declines_e5.py;
how many questions it catches on sets it never saw is measured by scripts/evaluate.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from assistant.answers.meaning import DeclineExamples, MeaningDeclines, load_decline_examples
from assistant.errors import KnowledgeError
from assistant.runtime import Runtime
from assistant.search.fakes import HashEmbedder
from assistant.sessions.memory import MemorySessionStore
from assistant.settings import Settings
from assistant.text import fold
from assistant.understanding.classifier import SlotClassifier

KNOWLEDGE = Path(__file__).resolve().parents[2] / "knowledge" / "answers"
HOLDOUT = Path(__file__).resolve().parents[1] / "holdout" / "questions"
DEVSETS = Path(__file__).resolve().parents[1] / "devsets"

EXAMPLES = DeclineExamples(
    decline=[
        "il va pleuvoir samedi a gueret",
        "la meteo de dimanche pour le marche",
        "une recette de gateau pour la fete",
        "le score du match de foot hier",
    ],
    answer=[
        "c'est quoi une scic",
        "le dla accompagne qui",
        "comment creer une association",
        "une cae c'est quoi",
    ],
)


def _meaning(tmp_path: Path, embedder: HashEmbedder | None = None) -> MeaningDeclines:
    return MeaningDeclines(
        embedder or HashEmbedder(),
        EXAMPLES,
        cache_path=tmp_path / "embeddings.sqlite3",
        threshold=0.6,
    )


def test_a_question_like_those_to_decline_is_declined(tmp_path: Path) -> None:
    meaning = _meaning(tmp_path)
    assert meaning.declines("il va faire quelle meteo samedi pour le marche")
    assert not meaning.declines("c'est quoi une scic et une cae")


def test_the_classifier_is_trained_once_and_saved_beside_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _meaning(tmp_path).warm()
    saved = list(tmp_path.glob("classifier-declines-*.npz"))
    assert len(saved) == 1
    fits: list[int] = []
    original = SlotClassifier.fit.__func__  # type: ignore[attr-defined]

    def counting_fit(cls: type[SlotClassifier], *args: object, **kwargs: object) -> object:
        fits.append(1)
        return original(cls, *args, **kwargs)

    monkeypatch.setattr(SlotClassifier, "fit", classmethod(counting_fit))
    _meaning(tmp_path).warm()
    assert fits == []  # loaded from beside the index, not trained again

    saved[0].write_bytes(b"not a classifier")
    damaged = _meaning(tmp_path)
    assert damaged.declines("la meteo de samedi")  # trained again, not a dead end
    assert fits == [1]
    assert saved[0].read_bytes() != b"not a classifier"  # and saved again


def test_an_uncalibrated_embedder_declines_nothing_by_meaning(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    meaning = MeaningDeclines(embedder, EXAMPLES, cache_path=tmp_path / "e.sqlite3")
    assert not meaning.declines("il va pleuvoir samedi a gueret")
    assert embedder.embedded_queries == []  # not even trained


def test_the_answerer_says_why_and_who_can_help(runtime: Runtime, tmp_path: Path) -> None:
    answerer = runtime.answerer
    answerer.meaning = _meaning(tmp_path)
    declined = answerer.answer("il va pleuvoir dimanche pour le marche de gueret ?")
    assert declined.declined and declined.limit == "par-le-sens"
    assert "de façon fiable" in declined.answer
    kept = answerer.answer("c'est quoi une scic ?")
    assert not kept.declined


def test_the_shipped_examples_load_and_hold_no_measured_question() -> None:
    examples = load_decline_examples(KNOWLEDGE / "declines.yaml")
    assert len(examples.decline) >= 100 and len(examples.answer) >= 300
    taught = {_words(t) for t in examples.decline + examples.answer}
    # The test half and the fresh sets measure what the examples teach: none may be in them,
    # whatever its accents, case or punctuation ("… communes ?" is "… communes").
    measured = [HOLDOUT / "test.yaml"] + [DEVSETS / f"questions{n}.yaml" for n in (6, 8, 9, 11)]
    for path in measured:
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")):
            assert _words(entry["question"]) not in taught, (path.name, entry["question"])


def _words(text: object) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", fold(str(text))).split())


def test_broken_examples_are_the_curators_error(tmp_path: Path) -> None:
    path = tmp_path / "declines.yaml"
    path.write_text("decline: []\nanswer: [une question]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="declines"):
        load_decline_examples(path)


def test_switched_off_no_question_is_declined_by_meaning(
    settings: Settings, runtime: Runtime
) -> None:
    off = Runtime(
        settings.model_copy(update={"decline_by_meaning": False}),
        embedder=runtime.embedder,
        retriever=runtime.retriever,
        store=MemorySessionStore(),
    )
    assert off.meaning_declines is None
    assert off.answerer.declined_by_meaning("il va pleuvoir dimanche pour le marche") is None
