"""The description classifier (assistant/understanding/classifier.py) and how the semantic layer
trains, saves and reads it: the mechanism, on synthetic vectors and the hashed-word fake
embedder. Its accuracy is bench_understanding.py's to measure, on real embeddings."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.dialogue.engine import Engine
from assistant.dialogue.state import DiagnosticState
from assistant.errors import DiagnosticScriptError
from assistant.runtime import Runtime
from assistant.search.fakes import HashEmbedder
from assistant.text import normalise
from assistant.understanding.classifier import SlotClassifier, training_key
from assistant.understanding.extraction import Extraction
from assistant.understanding.semantic import (
    Description,
    SemanticReader,
    load_descriptions,
    load_examples,
)

DIAGNOSTIC = Path(__file__).resolve().parents[2] / "knowledge" / "diagnostic"


def _clusters(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three values, each a cloud of vectors around its own centre."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 16)) * 3
    rows, labels = [], []
    for value, centre in zip(("a", "b", "c"), centres, strict=True):
        rows.append(centre + rng.normal(size=(30, 16)))
        labels += [value] * 30
    return np.vstack(rows), labels


def test_a_classifier_learns_separable_values_and_gives_probabilities() -> None:
    vectors, labels = _clusters()
    model = SlotClassifier.fit(vectors, labels)
    probabilities = model.probabilities(vectors)
    assert probabilities.shape == (90, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    predicted = [model.values[i] for i in probabilities.argmax(axis=1)]
    assert np.mean([p == t for p, t in zip(predicted, labels, strict=True)]) > 0.95
    value, probability = model.read(vectors[0])
    assert value == "a" and 0.5 < probability <= 1.0


def test_two_values_read_as_two_columns() -> None:
    vectors, labels = _clusters()
    model = SlotClassifier.fit(vectors[:60], labels[:60])
    assert model.values == ["a", "b"]
    assert model.probabilities(vectors[:60]).shape == (60, 2)
    assert model.read(vectors[45])[0] == "b"


def test_values_read_each_on_its_own() -> None:
    # a text may carry several values (needs): one yes/no model per value, not a softmax
    vectors, labels = _clusters()
    label_sets = [[v] if v != "c" else ["c", "a"] for v in labels]  # "c" texts also say "a"
    model = SlotClassifier.fit_each(vectors, label_sets)
    assert model.each and model.values == ["a", "b", "c"]
    probabilities = model.probabilities(vectors)
    assert probabilities.shape == (90, 3)
    c_rows = probabilities[60:]
    assert (c_rows[:, 0] > 0.5).mean() > 0.9 and (c_rows[:, 2] > 0.5).mean() > 0.9
    assert (probabilities[30:60, 1] > 0.5).mean() > 0.9 and (
        probabilities[30:60, 0] < 0.5
    ).mean() > 0.9


def test_a_saved_each_value_classifier_reads_the_same(tmp_path: Path) -> None:
    vectors, labels = _clusters()
    model = SlotClassifier.fit_each(vectors, [[v] for v in labels])
    model.save(tmp_path / "m.npz")
    again = SlotClassifier.load(tmp_path / "m.npz")
    assert again.each
    assert np.allclose(again.probabilities(vectors), model.probabilities(vectors))


def test_one_value_is_not_enough_to_learn() -> None:
    vectors, labels = _clusters()
    with pytest.raises(ValueError, match="two values"):
        SlotClassifier.fit(vectors[:30], labels[:30])


def test_a_saved_classifier_reads_the_same(tmp_path: Path) -> None:
    vectors, labels = _clusters()
    model = SlotClassifier.fit(vectors, labels)
    model.save(tmp_path / "m.npz")
    again = SlotClassifier.load(tmp_path / "m.npz")
    assert again.values == model.values
    assert np.allclose(again.probabilities(vectors), model.probabilities(vectors))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no partial file left


def test_the_training_key_changes_with_the_data() -> None:
    pairs = [("emergence", "une idée"), ("creation", "on crée")]
    assert training_key("e5", pairs) == training_key("e5", list(reversed(pairs)))
    assert training_key("e5", pairs) != training_key("e5", [*pairs, ("creation", "statuts")])
    assert training_key("e5", pairs) != training_key("other-model", pairs)


def test_shipped_descriptions_load_and_never_come_from_the_test_half() -> None:
    descriptions = load_descriptions(DIAGNOSTIC / "descriptions.yaml")
    assert len(descriptions) > 200
    assert all(d.stage or d.profile or d.needs for d in descriptions)
    measures = (
        "holdout/test",
        "descriptions11",
        "descriptions12",
        "descriptions13",
        "descriptions17",
        "people8",
        "people9",
    )
    assert not any(m in (d.origin or "") for d in descriptions for m in measures)


def test_a_description_with_an_unknown_value_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "descriptions.yaml"
    bad.write_text("descriptions:\n- text: une idée\n  stage: lancement\n", encoding="utf-8")
    with pytest.raises(DiagnosticScriptError, match="lancement"):
        load_descriptions(bad)
    assert load_descriptions(tmp_path / "absent.yaml") == []


class CountingFit:
    calls = 0

    def __init__(self) -> None:
        self.original = SlotClassifier.fit

    def __call__(self, *args: object, **kwargs: object) -> SlotClassifier:
        CountingFit.calls += 1
        return self.original(*args, **kwargs)  # type: ignore[arg-type]


def test_classifiers_are_trained_once_then_loaded_from_beside_the_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "embeddings.sqlite3"
    examples = load_examples(DIAGNOSTIC / "examples.yaml")
    counting = CountingFit()
    monkeypatch.setattr(SlotClassifier, "fit", counting)
    SemanticReader(HashEmbedder(dim=256), examples, cache_path=cache).warm()
    assert CountingFit.calls == 2  # stage and profile
    assert len(list(tmp_path.glob("classifier-*.npz"))) == 2
    SemanticReader(HashEmbedder(dim=256), examples, cache_path=cache).warm()
    assert CountingFit.calls == 2  # read back, not retrained
    more = [Description(text="on a une idée de ressourcerie", stage="emergence")]
    SemanticReader(HashEmbedder(dim=256), examples, cache_path=cache, descriptions=more).warm()
    assert CountingFit.calls == 3  # new data: the stage classifier learns again


def _taught_reader(tmp_path: Path, thresholds: dict[str, float] | None) -> SemanticReader:
    taught = [
        Description(
            text=f"notre ressourcerie solidaire numéro {i} est ouverte depuis très longtemps",
            stage="consolidation",
        )
        for i in range(12)
    ]
    return SemanticReader(
        HashEmbedder(dim=256),
        load_examples(DIAGNOSTIC / "examples.yaml"),
        cache_path=tmp_path / "embeddings.sqlite3",
        descriptions=taught,
        reading_thresholds=thresholds,
    )


STORY = "notre ressourcerie solidaire du quartier est ouverte depuis très longtemps"


def test_a_confident_reading_of_a_description(tmp_path: Path) -> None:
    # profile: a threshold no probability reaches, so only the stage is read
    reader = _taught_reader(tmp_path, {"stage": 0.5, "profile": 2.0})
    assert reader.read_description(STORY) == {"stage": "consolidation"}
    short = "ressourcerie ouverte depuis longtemps"
    assert reader.probabilities(short)["stage"][0] == "consolidation"  # confident, but…
    assert reader.read_description(short) == {}  # …too few words to be a description


def test_without_calibration_for_the_embedder_the_classifiers_stay_silent(tmp_path: Path) -> None:
    reader = _taught_reader(tmp_path, None)  # shipped thresholds: calibrated for e5 only
    assert reader.probabilities(STORY)["stage"] == ("consolidation", pytest.approx(1, abs=0.5))
    assert reader.read_description(STORY) == {}


NEEDS_TAUGHT = [
    *(
        Description(
            text=f"la tresorerie est tendue, plus un sou en caisse, cas {i}", needs=["financement"]
        )
        for i in range(10)
    ),
    *(
        Description(
            text=f"personne ne veut reprendre la presidence du bureau, cas {i}",
            needs=["gouvernance"],
        )
        for i in range(10)
    ),
]


def _needs_reader(tmp_path: Path, reading: float) -> SemanticReader:
    reader = SemanticReader(
        HashEmbedder(dim=256),
        load_examples(DIAGNOSTIC / "examples.yaml"),
        cache_path=tmp_path / "embeddings.sqlite3",
        descriptions=NEEDS_TAUGHT,
    )
    reader.needs_reading = reading
    return reader


def test_the_needs_classifier_adds_what_a_message_says_and_keeps_the_rules_needs(
    tmp_path: Path,
) -> None:
    reader = _needs_reader(tmp_path, reading=0.5)
    assert reader.classifiers["needs"].values == ["financement", "gouvernance"]
    said = Extraction(needs=["gouvernance"])
    story = (
        "bonjour, chez nous la tresorerie est tendue et plus un sou en caisse depuis l'hiver, "
        "on ne sait plus comment payer les factures du mois prochain"
    )
    # what the rules read stays (a need said in one clause of a long story is still said)
    assert reader.refine(story, said).needs == ["gouvernance", "financement"]
    # a few words are not a description: the rules' needs stay as they are
    assert reader.refine("tresorerie tendue", said).needs == ["gouvernance"]
    assert reader.refine("tresorerie tendue", Extraction()).needs == []


def test_an_answer_to_another_question_is_not_read_for_needs(tmp_path: Path) -> None:
    reader = _needs_reader(tmp_path, reading=0.5)
    reader.warm()
    message = "bonjour, chez nous la tresorerie est tendue et plus un sou en caisse depuis l'hiver"
    assert reader.refine(message, Extraction(answering="employees")).needs == []
    assert reader.refine(message, Extraction(answering="needs")).needs == ["financement"]


def test_a_saved_classifier_of_the_wrong_kind_is_trained_again(tmp_path: Path) -> None:
    reader = _needs_reader(tmp_path, reading=0.5)
    reader.warm()
    saved = next(tmp_path.glob("classifier-needs-*.npz"))
    vectors, labels = _clusters()
    SlotClassifier.fit(vectors, labels).save(saved)  # a softmax model where yes/no ones belong
    again = _needs_reader(tmp_path, reading=0.5)
    assert again.classifiers["needs"].each
    assert again.classifiers["needs"].values == ["financement", "gouvernance"]


def test_without_calibration_the_needs_classifier_changes_nothing(tmp_path: Path) -> None:
    reader = SemanticReader(
        HashEmbedder(dim=256),
        load_examples(DIAGNOSTIC / "examples.yaml"),
        cache_path=tmp_path / "embeddings.sqlite3",
        descriptions=NEEDS_TAUGHT,
    )
    message = "bonjour, chez nous la tresorerie est tendue et plus un sou en caisse depuis l'hiver"
    assert "gouvernance" in reader.refine(message, Extraction(needs=["gouvernance"])).needs


class RecordingDescriber:
    """A fake classifier: reads every description as the stage it is told, and keeps them."""

    def __init__(self, reading: dict[str, str]) -> None:
        self.reading = reading
        self.read: list[str] = []

    def __call__(self, description: str) -> dict[str, str]:
        self.read.append(description)
        return dict(self.reading)


def _engine(runtime: Runtime, describe: RecordingDescriber) -> Engine:
    engine = runtime.engine
    return Engine(
        engine.script,
        engine.extractor,
        engine.orientation,
        lambda: runtime.answerer,
        runtime.composer,
        runtime.territories,
        describe=describe,
    )


def test_the_engine_reads_all_that_was_said_and_weighs_it_like_a_keyword(
    runtime: Runtime,
) -> None:
    describe = RecordingDescriber({"stage": "developpement"})
    engine = _engine(runtime, describe)
    first = engine.handle(DiagnosticState(), "nous avons une petite ressourcerie associative")
    assert first.state.reading == {"stage": "developpement"}
    assert first.state.stage == "developpement"  # nothing else spoke for the stage
    second = engine.handle(first.state, "on voudrait savoir comment faire pour le local")
    assert describe.read[-1] == (
        "nous avons une petite ressourcerie associative "
        "on voudrait savoir comment faire pour le local"
    )  # the whole story, not the last message
    said = engine.handle(DiagnosticState(), "c'est juste une idée pour l'instant, rien de lancé")
    assert said.state.stage == "emergence"  # the rules' words outweigh one reading
    asked = engine.handle(second.state, "c'est quoi une scic ?")
    assert asked.state.description == second.state.description  # a question is not a story
    reads = len(describe.read)
    engine.handle(second.state, "Guéret")
    assert len(describe.read) == reads  # a short answer costs no model call


def test_a_correction_of_the_stage_forgets_how_strongly_it_was_said(runtime: Runtime) -> None:
    first = runtime.engine.handle(
        DiagnosticState(), "on veut changer d'échelle et ouvrir un deuxième site"
    )
    assert first.state.stage == "developpement" and first.state.stage_peak
    fixed = runtime.engine.handle(first.state, "ah non, en fait ce n'est qu'une idée")
    assert fixed.state.stage != "developpement"
    assert "developpement" not in fixed.state.stage_peak


def test_knowledge_validate_reports_a_broken_descriptions_file(tmp_path: Path) -> None:
    from assistant.curation.validation import validate_data_files

    knowledge = tmp_path / "knowledge"
    shutil.copytree(DIAGNOSTIC.parent, knowledge, ignore=shutil.ignore_patterns("cards"))
    prompts = DIAGNOSTIC.parents[1] / "prompts"
    clean = {p.where for p in validate_data_files(knowledge, prompts, set(), set())}
    (knowledge / "diagnostic" / "descriptions.yaml").write_text(
        "descriptions:\n- text: une idée\n  stage: lancement\n", encoding="utf-8"
    )
    broken = validate_data_files(knowledge, prompts, set(), set())
    assert "diagnostic/descriptions.yaml" not in clean
    assert [p.message for p in broken if p.where == "diagnostic/descriptions.yaml"]


def test_no_model_call_when_no_reading_could_change_the_decision(runtime: Runtime) -> None:
    describe = RecordingDescriber({"stage": "developpement"})
    engine = _engine(runtime, describe)
    clear = DiagnosticState(
        evidence={"stage": {"consolidation": 4.0}, "profile": {"association": 4.0}}
    )
    message = "on voudrait surtout en parler avec quelqu'un qui connaît bien le sujet"
    engine.handle(clear, message)
    assert describe.read == []  # each leads by more than a reading weighs
    close = DiagnosticState(
        evidence={
            "stage": {"consolidation": 4.0, "developpement": 3.5},
            "profile": {"association": 4.0},
        }
    )
    turn = engine.handle(close, message)
    assert describe.read == [normalise(message)]  # the story as the classifier learned it
    assert turn.state.stage == "developpement"  # the reading tipped a close call


def test_a_damaged_classifier_file_is_trained_again(tmp_path: Path) -> None:
    cache = tmp_path / "embeddings.sqlite3"
    examples = load_examples(DIAGNOSTIC / "examples.yaml")
    SemanticReader(HashEmbedder(dim=256), examples, cache_path=cache).warm()
    saved = sorted(tmp_path.glob("classifier-stage-*.npz"))[0]
    saved.write_bytes(saved.read_bytes()[:200])  # as a crash mid-copy would leave it
    with pytest.raises(ValueError, match="not a saved classifier"):
        SlotClassifier.load(saved)
    reader = SemanticReader(HashEmbedder(dim=256), examples, cache_path=cache)
    assert set(reader.classifiers) == {"stage", "profile"}
    assert SlotClassifier.load(saved).values  # written again, whole


def test_concurrent_saves_of_one_classifier_leave_one_whole_file(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    vectors, labels = _clusters()
    model = SlotClassifier.fit(vectors, labels)
    target = tmp_path / "classifier-stage-x.npz"
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: model.save(target), range(12)))
    assert [p.name for p in tmp_path.iterdir()] == [target.name]
    assert np.allclose(SlotClassifier.load(target).weights, model.weights)


class FailingDescriber:
    def __call__(self, description: str) -> dict[str, str]:
        raise RuntimeError("model unavailable")


def test_a_failing_reading_never_fails_the_turn(
    runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    engine = _engine(runtime, FailingDescriber())  # type: ignore[arg-type]
    turn = engine.handle(DiagnosticState(), "nous avons une petite ressourcerie associative")
    assert turn.state.reading == {} and turn.reply
    assert "RuntimeError" in caplog.text
    assert "ressourcerie" not in caplog.text  # the person's words are never logged


def test_the_story_keeps_what_describes_and_drops_what_asks(runtime: Runtime) -> None:
    describe = RecordingDescriber({})
    engine = _engine(runtime, describe)
    turn = engine.handle(
        DiagnosticState(), "On est une asso de 3 salariés depuis 2012. Comment financer un poste ?"
    )
    assert turn.state.description == "on est une asso de 3 salaries depuis 2012."
    asked = engine.handle(turn.state, "et c'est quoi une scic ?")
    assert asked.state.description == turn.state.description
    unsure = engine.handle(turn.state, "je ne sais pas trop")
    assert unsure.state.description == turn.state.description  # "I don't know" tells nothing
    # An SMS question asks too, once spelled out: no story, and no reading (no model call).
    calls = len(describe.read)
    sms = engine.handle(turn.state, "c quoi la diff entre scop et scic")
    assert sms.state.description == turn.state.description and len(describe.read) == calls


def test_a_correction_drops_the_earlier_reading(runtime: Runtime) -> None:
    describe = RecordingDescriber({"stage": "developpement"})
    engine = _engine(runtime, describe)
    first = engine.handle(DiagnosticState(), "nous avons une petite ressourcerie associative")
    assert first.state.reading == {"stage": "developpement"}
    describe.reading = {}
    fixed = engine.handle(first.state, "ah non, en fait ce n'est qu'une idée pour l'instant")
    assert fixed.state.reading == {}
    assert fixed.state.stage == "emergence"


@pytest.mark.parametrize(
    "content, problem",
    [
        ("descriptions:\n- text: '  '\n  stage: emergence\n", "text"),
        ("descriptions:\n- text: une idée de ressourcerie\n", "stage, a profile or needs"),
        ("descriptions:\n- text: une idée\n  needs: [argent]\n", "needs: unknown"),
    ],
)
def test_an_unusable_description_is_refused(tmp_path: Path, content: str, problem: str) -> None:
    bad = tmp_path / "descriptions.yaml"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DiagnosticScriptError, match=problem):
        load_descriptions(bad)


def test_an_empty_descriptions_file_is_no_descriptions(tmp_path: Path) -> None:
    empty = tmp_path / "descriptions.yaml"
    empty.write_text("", encoding="utf-8")
    assert load_descriptions(empty) == []


def test_thresholds_given_for_one_slot_keep_the_others(tmp_path: Path) -> None:
    reader = _taught_reader(tmp_path, {"stage": 0.5})
    assert reader.reading_thresholds["stage"] == 0.5
    assert reader.reading_thresholds["profile"] > 1.0  # the hashed fake: never confident enough
    assert reader.read_description(STORY) == {"stage": "consolidation"}


def test_a_message_never_waits_for_the_needs_classifier_to_train(tmp_path: Path) -> None:
    story = (
        "bonjour, chez nous la tresorerie est tendue et plus un sou en caisse depuis l'hiver, "
        "on ne sait plus comment payer les factures du mois prochain"
    )
    cold = _needs_reader(tmp_path, reading=0.5)
    assert cold.refine(story, Extraction(needs=["gouvernance"])).needs == ["gouvernance"]
    assert cold._classifiers is None  # nothing was trained in the turn
    cold.warm()  # as `aiguillage index` does; saved beside the index
    warm = cold.refine(story, Extraction(needs=["gouvernance"]))
    assert warm.needs == ["gouvernance", "financement"]
    restarted = _needs_reader(tmp_path, reading=0.5)
    assert restarted.refine(story, Extraction()).needs == ["financement"]  # loaded, not trained


def test_a_settled_story_is_not_embedded_ahead(runtime: Runtime) -> None:
    """The story is the longest text of a turn's model call: once stage and profile lead by
    more than a reading weighs, it is not sent with the message (only read if it unsettles)."""
    engine = _engine(runtime, RecordingDescriber({}))
    message = "on voudrait aussi revoir notre modèle économique et trouver des partenaires"
    _told, story = engine._story_to_read(DiagnosticState(), message)
    assert story is not None  # nothing known yet: the story may change the reading
    settled = DiagnosticState()
    for said in (
        "association créée en 2009, 4 salariés, on veut consolider nos finances",
        "oui une association employeuse, elle existe depuis 15 ans et on doit se consolider",
    ):
        settled = engine.handle(settled, said).state
    assert engine._settled(settled)
    _told, story = engine._story_to_read(settled, message)
    assert story is None
