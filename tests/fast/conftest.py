"""The fast tier: the core on the in-package fakes — no index build, no model, no database.

`runtime` here overrides the integration one (tests/conftest.py): an in-memory retriever over
the shipped cards with hashed bag-of-words vectors, and an in-memory session store. Real
knowledge, script, directory, territories and templates: only the outer edges are fake.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from assistant.runtime import Runtime
from assistant.search.cards import load_cards
from assistant.search.fakes import HashEmbedder, InMemoryRetriever
from assistant.sessions.memory import MemorySessionStore
from assistant.settings import Settings
from assistant.territory.index import load_territories
from assistant.understanding.extraction import Extractor
from assistant.understanding.script import load_script


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # Hashed bag-of-words cosines are lower than e5's: the relevance policy is scaled to them.
    return Settings(
        data_dir=tmp_path_factory.mktemp("fast-data"),
        strong_dense_similarity=0.6,
        min_dense_similarity=0.3,
        min_term_coverage=0.4,
    )


@pytest.fixture(scope="session")
def runtime(settings: Settings) -> Iterator[Runtime]:
    embedder = HashEmbedder()
    retriever = InMemoryRetriever(load_cards(settings.cards_dir), embedder)
    yield Runtime(settings, embedder=embedder, retriever=retriever, store=MemorySessionStore())


@pytest.fixture(scope="session")
def extractor() -> Extractor:
    """The rules alone, as the script ships (no semantic layer, no LLM)."""
    settings = Settings()
    return Extractor(
        load_script(settings.knowledge_dir / "diagnostic" / "script.yaml"),
        load_territories(settings.territories_dir / "territories.json.gz"),
    )
