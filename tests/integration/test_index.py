"""Index mechanics: incremental builds, manifest, atomic CURRENT swap, pruning, chunking.

Real ChromaDB and bm25s in tmp_path. Most tests use `HashEmbedder`, a tiny deterministic
embedder (the model is not what they test); one test builds with the real E5 model.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import assistant.search.index as index_module
from assistant.errors import IndexNotBuiltError
from assistant.search.cards import Card, load_cards
from assistant.search.chunks import MAX_WORDS, chunk_card
from assistant.search.embeddings import E5Embedder
from assistant.search.fakes import HashEmbedder
from assistant.search.index import (
    CURRENT_FILE,
    KEEP_GENERATIONS,
    BuildReport,
    IndexBuilder,
    Progress,
    current_generation,
    read_manifest,
)
from assistant.search.retrieval import HybridRetriever
from assistant.settings import Settings

SAMPLE_IDS = (
    "dla-dispositif-local-accompagnement",
    "fabrique-a-initiatives",
    "agrement-esus",
    "essaimage-franchise-sociale-messidor",
    "nantes-guichet-unique-debat",
)


@pytest.fixture(scope="module")
def all_cards() -> dict[str, Card]:
    return {c.id: c for c in load_cards(Settings().cards_dir)}


@pytest.fixture()
def sample(all_cards: dict[str, Card]) -> list[Card]:
    return [all_cards[i] for i in SAMPLE_IDS]


def _generations(index_dir: Path) -> list[Path]:
    return sorted(p for p in index_dir.glob("gen-*") if p.is_dir())


def _edited(card: Card, sentence: str) -> Card:
    return card.model_copy(update={"body": card.body + "\n\n" + sentence})


def test_first_build_writes_a_complete_generation(tmp_path: Path, sample: list[Card]) -> None:
    embedder = HashEmbedder()
    report = IndexBuilder(tmp_path, embedder).build(sample)

    assert report.changed
    assert report.added == sorted(SAMPLE_IDS)
    assert report.updated == report.removed == []
    expected_chunks = [chunk for card in sample for chunk in chunk_card(card)]
    assert report.chunks_total == len(expected_chunks)
    assert report.chunks_embedded == len(expected_chunks)
    passages = [c.search_text for c in expected_chunks if not c.question]
    questions = [c.search_text for c in expected_chunks if c.question]
    assert questions  # the sample's cards list the questions they answer
    assert sorted(embedder.embedded) == sorted(passages)
    assert sorted(embedder.embedded_queries) == sorted(questions)  # embedded as queries

    generation = current_generation(tmp_path)
    assert generation is not None
    assert generation.name == report.generation
    assert (tmp_path / CURRENT_FILE).read_text(encoding="utf-8").strip() == report.generation
    for part in ("chroma", "bm25", "chunks.json", "manifest.json"):
        assert (generation / part).exists(), part
    assert not list(tmp_path.glob("*.tmp"))
    assert not list(tmp_path.glob(f".{CURRENT_FILE}.*"))


def test_manifest_content(tmp_path: Path, sample: list[Card]) -> None:
    IndexBuilder(tmp_path, HashEmbedder()).build(sample)
    generation = current_generation(tmp_path)
    assert generation is not None
    manifest = read_manifest(generation)
    assert manifest.embedder == "hash-test"
    assert manifest.cards == {c.id: c.content_hash for c in sample}
    assert manifest.chunks == {c.id: [ch.id for ch in chunk_card(c)] for c in sample}
    chunks = json.loads((generation / "chunks.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in chunks] == [
        ch.id
        for cid in sorted(SAMPLE_IDS)
        for ch in chunk_card(next(c for c in sample if c.id == cid))
    ]
    first = chunks[0]
    assert {"card_id", "title", "text", "stages", "needs", "national", "departements"} <= set(first)


def test_rebuild_without_change_does_nothing(tmp_path: Path, sample: list[Card]) -> None:
    first = IndexBuilder(tmp_path, HashEmbedder()).build(sample)
    embedder = HashEmbedder()
    again = IndexBuilder(tmp_path, embedder).build(list(reversed(sample)))
    assert again.changed is False
    assert again.generation == first.generation
    assert again.chunks_embedded == 0
    assert again.chunks_total == first.chunks_total
    assert embedder.embedded == []
    assert [p.name for p in _generations(tmp_path)] == [first.generation]


def test_changing_one_card_embeds_only_its_chunks(tmp_path: Path, sample: list[Card]) -> None:
    IndexBuilder(tmp_path, HashEmbedder()).build(sample)
    changed = _edited(sample[2], "Une phrase ajoutée pour le test sur le zébu migrateur.")
    cards = [changed if c.id == changed.id else c for c in sample]
    old_texts = {ch.search_text for ch in chunk_card(sample[2])}
    new_texts = [ch.search_text for ch in chunk_card(changed) if ch.search_text not in old_texts]
    assert new_texts

    embedder = HashEmbedder()
    report = IndexBuilder(tmp_path, embedder).build(cards)
    assert report.changed
    assert report.updated == [changed.id]
    assert report.added == report.removed == []
    assert report.chunks_embedded == len(new_texts)
    assert embedder.embedded == new_texts  # the other cards were reused, not re-embedded

    generation = current_generation(tmp_path)
    assert generation is not None
    assert read_manifest(generation).cards[changed.id] == changed.content_hash
    hits = HybridRetriever(generation, embedder).search("zébu migrateur", k=1, mode="lexical")
    assert [h.card_id for h in hits] == [changed.id]


def test_reverting_a_change_uses_the_vector_cache(tmp_path: Path, sample: list[Card]) -> None:
    IndexBuilder(tmp_path, HashEmbedder()).build(sample)
    changed = _edited(sample[0], "Une phrase temporaire.")
    IndexBuilder(tmp_path, HashEmbedder()).build([changed, *sample[1:]])
    embedder = HashEmbedder()
    report = IndexBuilder(tmp_path, embedder).build(sample)
    assert report.changed and report.updated == [sample[0].id]
    assert report.chunks_embedded == 0
    assert embedder.embedded == []


def test_adding_a_card(tmp_path: Path, sample: list[Card], all_cards: dict[str, Card]) -> None:
    IndexBuilder(tmp_path, HashEmbedder()).build(sample[:3])
    embedder = HashEmbedder()
    report = IndexBuilder(tmp_path, embedder).build(sample)
    assert report.added == sorted(SAMPLE_IDS[3:])
    assert report.updated == report.removed == []
    assert report.chunks_embedded == sum(len(chunk_card(c)) for c in sample[3:])


def test_removed_card_is_gone_from_search(tmp_path: Path, sample: list[Card]) -> None:
    embedder = HashEmbedder()
    IndexBuilder(tmp_path, embedder).build(sample)
    before = HybridRetriever.open(tmp_path, embedder)
    query = "Fabrique à initiatives générateur de projets"
    assert before.search(query, k=1)[0].card_id == "fabrique-a-initiatives"

    remaining = [c for c in sample if c.id != "fabrique-a-initiatives"]
    report = IndexBuilder(tmp_path, embedder).build(remaining)
    assert report.removed == ["fabrique-a-initiatives"]
    assert report.chunks_embedded == 0

    after = HybridRetriever.open(tmp_path, embedder)
    assert "fabrique-a-initiatives" not in after.card_ids
    for mode in ("lexical", "dense", "hybrid"):
        ids = [h.card_id for h in after.search(query, k=10, mode=mode)]  # type: ignore[arg-type]
        assert "fabrique-a-initiatives" not in ids, mode
        assert ids, mode
    assert read_manifest(after.generation).cards.keys() == {c.id for c in remaining}


def test_open_retriever_keeps_reading_its_generation_after_a_swap(
    tmp_path: Path, sample: list[Card]
) -> None:
    embedder = HashEmbedder()
    first = IndexBuilder(tmp_path, embedder).build(sample)
    old = HybridRetriever.open(tmp_path, embedder)
    assert old.is_current(tmp_path)
    query = "agrément ESUS entreprise solidaire d'utilité sociale"
    before = [h.card_id for h in old.search(query, k=3)]

    remaining = [c for c in sample if c.id != "agrement-esus"]
    second = IndexBuilder(tmp_path, embedder).build(remaining)
    assert second.generation != first.generation
    assert (tmp_path / CURRENT_FILE).read_text(encoding="utf-8") == second.generation

    # The open reader was not disturbed: same generation, same answers.
    assert not old.is_current(tmp_path)
    assert old.generation.name == first.generation
    assert [h.card_id for h in old.search(query, k=3)] == before
    assert "agrement-esus" in before

    new = HybridRetriever.open(tmp_path, embedder)
    assert new.is_current(tmp_path)
    assert "agrement-esus" not in [h.card_id for h in new.search(query, k=5)]


class _ReadDuringBuild(Progress):
    """At each phase of a build, checks what a reader of the live index sees."""

    def __init__(self, index_dir: Path, reader: HybridRetriever, query: str) -> None:
        self.index_dir = index_dir
        self.reader = reader
        self.query = query
        self.seen: list[tuple[str, str, list[str]]] = []

    def start(self, total: int, description: str) -> None:
        current = (self.index_dir / CURRENT_FILE).read_text(encoding="utf-8")
        hits = [h.card_id for h in self.reader.search(self.query, k=3)]
        self.seen.append((description, current, hits))


def test_readers_are_undisturbed_while_a_generation_is_built(
    tmp_path: Path, sample: list[Card]
) -> None:
    embedder = HashEmbedder()
    first = IndexBuilder(tmp_path, embedder).build(sample)
    reader = HybridRetriever.open(tmp_path, embedder)
    query = "franchise sociale Messidor"
    before = [h.card_id for h in reader.search(query, k=3)]
    assert before[0] == "essaimage-franchise-sociale-messidor"

    probe = _ReadDuringBuild(tmp_path, reader, query)
    changed = [c for c in sample if c.id != "essaimage-franchise-sociale-messidor"]
    changed.append(_edited(sample[0], "Un ajout pour forcer de nouveaux vecteurs."))
    second = IndexBuilder(tmp_path, embedder).build(changed, progress=probe)

    assert len(probe.seen) >= 2  # the vector phase and the lexical phase
    for _, current, hits in probe.seen:
        assert current == first.generation  # not swapped before the new one is complete
        assert hits == before
    assert (tmp_path / CURRENT_FILE).read_text(encoding="utf-8") == second.generation


def test_current_always_names_a_complete_generation(tmp_path: Path, sample: list[Card]) -> None:
    builder = IndexBuilder(tmp_path, HashEmbedder())
    for n in range(3):
        builder.build([_edited(sample[0], f"Version {n} du texte."), *sample[1:]])
        name = (tmp_path / CURRENT_FILE).read_text(encoding="utf-8")
        assert re.fullmatch(r"gen-\d+", name)
        assert (tmp_path / name / "manifest.json").is_file()
        assert not list(tmp_path.glob("gen-*.tmp"))


def test_pruning_keeps_at_most_two_generations(tmp_path: Path, sample: list[Card]) -> None:
    builder = IndexBuilder(tmp_path, HashEmbedder())
    names = []
    for n in range(4):
        names.append(builder.build([_edited(sample[1], f"Révision {n}."), *sample[2:]]).generation)
    assert len(set(names)) == 4
    kept = [p.name for p in _generations(tmp_path)]
    assert len(kept) <= KEEP_GENERATIONS == 2
    assert kept == names[-len(kept) :]
    assert current_generation(tmp_path) == tmp_path / names[-1]


def test_a_different_embedder_forces_a_full_rebuild(tmp_path: Path, sample: list[Card]) -> None:
    IndexBuilder(tmp_path, HashEmbedder("hash-a")).build(sample)
    other = HashEmbedder("hash-b", dim=32)
    report = IndexBuilder(tmp_path, other).build(sample)
    total = sum(len(chunk_card(c)) for c in sample)
    assert report.changed
    assert report.added == sorted(SAMPLE_IDS)
    assert report.chunks_embedded == total == report.chunks_total
    assert len(other.embedded) + len(other.embedded_queries) == total
    generation = current_generation(tmp_path)
    assert generation is not None
    assert read_manifest(generation).embedder == "hash-b"
    # The new index is searchable with the new embedder, and refuses the old one.
    assert HybridRetriever.open(tmp_path, other).search("DLA", k=1)
    with pytest.raises(IndexNotBuiltError, match="hash-b"):
        HybridRetriever.open(tmp_path, HashEmbedder("hash-a"))


def test_a_new_tokenizer_version_rebuilds_from_the_cache(
    tmp_path: Path, sample: list[Card], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = IndexBuilder(tmp_path, HashEmbedder()).build(sample)
    generation = current_generation(tmp_path)
    assert generation is not None
    assert read_manifest(generation).tokenizer == index_module.TOKENIZER_VERSION
    monkeypatch.setattr(index_module, "TOKENIZER_VERSION", "next")
    report = IndexBuilder(tmp_path, HashEmbedder()).build(sample)
    assert report.changed and report.generation != first.generation
    assert report.chunks_embedded == 0  # the vectors did not change, only the tokenisation
    new_generation = current_generation(tmp_path)
    assert new_generation is not None
    assert read_manifest(new_generation).tokenizer == "next"


def test_force_rebuilds_everything_but_reuses_the_cache(tmp_path: Path, sample: list[Card]) -> None:
    first = IndexBuilder(tmp_path, HashEmbedder()).build(sample)
    embedder = HashEmbedder()
    report = IndexBuilder(tmp_path, embedder).build(sample, force=True)
    assert report.changed and report.generation != first.generation
    assert report.added == sorted(SAMPLE_IDS)
    assert report.chunks_embedded == 0  # same model, same texts: taken from the cache
    assert embedder.embedded == []


def test_no_index_yet(tmp_path: Path) -> None:
    assert current_generation(tmp_path) is None
    with pytest.raises(IndexNotBuiltError, match="aiguillage index"):
        HybridRetriever.open(tmp_path / "index", HashEmbedder())


def test_removing_every_card(tmp_path: Path, sample: list[Card]) -> None:
    report = IndexBuilder(tmp_path, HashEmbedder()).build(sample[:1])
    assert report.chunks_total == len(chunk_card(sample[0]))
    removed = IndexBuilder(tmp_path, HashEmbedder()).build([])
    assert removed.removed == [sample[0].id]
    assert removed.chunks_total == 0


def test_build_report_is_serialisable(tmp_path: Path, sample: list[Card]) -> None:
    report = IndexBuilder(tmp_path, HashEmbedder()).build(sample[:2])
    assert BuildReport.model_validate_json(report.model_dump_json()) == report


# -- chunking ---------------------------------------------------------------------------------


def _card_with_body(base: Card, body: str) -> Card:
    return base.model_copy(update={"id": "long-card", "body": body, "questions": []})


def test_long_paragraph_is_cut_by_words(sample: list[Card]) -> None:
    long_words = [f"mot{i}" for i in range(2 * MAX_WORDS + 40)]
    intro = "Un premier paragraphe court qui ouvre la fiche."
    outro = "Un dernier paragraphe court qui la ferme."
    card = _card_with_body(sample[0], f"{intro}\n\n{' '.join(long_words)}\n\n{outro}")
    chunks = chunk_card(card)

    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    assert chunks[0].text == intro  # flushed before the long paragraph is cut
    middle = [c.text for c in chunks[1:-1]]
    assert len(middle) == 3  # 400 words -> 180 + 180 + 40
    assert " ".join(middle).split() == long_words
    assert chunks[-1].text == outro
    assert [c.id for c in chunks] == [f"long-card#{i}" for i in range(len(chunks))]
    assert [c.position for c in chunks] == list(range(len(chunks)))


def test_short_paragraphs_are_grouped_up_to_the_limit(sample: list[Card]) -> None:
    paragraph = " ".join(["texte"] * 50)
    card = _card_with_body(sample[0], "\n\n".join([paragraph] * 5))  # 250 words
    chunks = chunk_card(card)
    assert [len(c.text.split()) for c in chunks] == [150, 100]
    assert chunks[0].text.count("\n\n") == 2


def test_chunks_carry_the_card_metadata(sample: list[Card]) -> None:
    card = sample[0]
    assert card.questions
    for chunk in chunk_card(card):
        assert chunk.card_id == card.id and chunk.title == card.title
        assert chunk.stages == list(card.stages) and chunk.needs == list(card.needs)
        assert chunk.national == card.territory.national
        if chunk.question:  # a question is searched alone, as people ask it
            assert chunk.search_text in card.questions and chunk.id.startswith(f"{card.id}#q")
        else:
            assert chunk.search_text.startswith(card.title)
            assert all(k in chunk.search_text for k in card.keywords)
    assert [c.text for c in chunk_card(card) if c.question] == card.questions


def test_empty_body_gives_one_chunk_with_the_title(sample: list[Card]) -> None:
    chunks = chunk_card(_card_with_body(sample[0], ""))
    assert [c.text for c in chunks] == [sample[0].title]


# -- the real model -------------------------------------------------------------------------


def test_real_e5_index_on_a_few_cards(tmp_path: Path, all_cards: dict[str, Card]) -> None:
    cards = [all_cards[i] for i in SAMPLE_IDS[:4]]
    embedder = E5Embedder()
    report = IndexBuilder(tmp_path, embedder).build(cards)
    assert report.chunks_embedded == report.chunks_total > 0

    retriever = HybridRetriever.open(tmp_path, embedder)
    questions = {
        "Comment une association employeuse peut-elle consolider ses emplois ?": (
            "dla-dispositif-local-accompagnement"
        ),
        "Qui part des besoins du territoire pour faire naître une activité ?": (
            "fabrique-a-initiatives"
        ),
        "Ouvrir de nouvelles implantations en transmettant notre savoir-faire": (
            "essaimage-franchise-sociale-messidor"
        ),
    }
    for question, expected in questions.items():
        hits = retriever.search(question, k=4, mode="dense")
        assert hits[0].card_id == expected, (question, [h.card_id for h in hits])
        assert hits[0].dense_similarity is not None and 0.0 < hits[0].dense_similarity <= 1.0
        assert len(hits) == 4  # one hit per card, never the same card twice

    vector = embedder.embed_query("bonjour")
    assert vector.shape == (E5Embedder.dim,)
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-3


def test_the_first_requests_of_a_fresh_process_open_the_index_once(settings: Settings) -> None:
    """Found by the HTTP benchmark: four first questions at once made ChromaDB's client set-up
    race (HTTP 500). The runtime opens the live index under a lock."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.runtime import Runtime

    fresh = Runtime(settings.model_copy(update={"database_url": "sqlite://"}))
    with ThreadPoolExecutor(max_workers=6) as pool:
        opened = list(pool.map(lambda _: fresh.retriever, range(6)))
    assert all(r is opened[0] for r in opened)
    hits = opened[0].search("c'est quoi une Scic ?", k=3)
    assert hits and hits[0].card_id
